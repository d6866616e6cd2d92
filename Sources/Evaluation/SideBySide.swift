// Whole training runs side by side: the way every chapter spreads its evaluation over the cores.
//
//   let accuracies = try jobs.mapSideBySide { job in try train(job) }
//
// Each core takes the next job not yet taken and runs it to the end with single-threaded products; the
// results come back in the jobs' order. A job must own what it changes (its model, its generator, seeded
// from the job itself, e.g. `seed.derived("fine-tune", draw)`), so which core ran it never changes its result.
import Autograd

extension Array {
    /// `map`, with the elements' jobs run side by side on the cores (see `Parallel.independentJobs`).
    /// The first error thrown by any job is rethrown after every job has finished.
    public func mapSideBySide<Result>(_ transform: (Element) throws -> Result) throws -> [Result] {
        try Parallel.independentJobs(count) { i in Swift.Result { try transform(self[i]) } }.map { try $0.get() }
    }

    /// `map`, with the elements' jobs run side by side on the cores, for jobs that cannot fail.
    public func mapSideBySide<Result>(_ transform: (Element) -> Result) -> [Result] {
        Parallel.independentJobs(count) { i in transform(self[i]) }
    }
}
