// Chapter 04, section 2: the teacher, an exponential moving average of the student, and its schedule.
import Autograd
import ChapterKit
import Data2Vec
import Foundation
import NN
import Plot

extension Chapter04 {
    func teacherSchedule(_ chapter: Chapter, _ config: Data2VecChapterConfig) {
        chapter.section("2. The teacher: an exponential moving average of the student")
        chapter.say("""
            After every optimizer step, teacher <- tau * teacher + (1 - tau) * student. A weight of the teacher is \
            therefore an average of the student's recent values, with a memory of about 1 / (1 - tau) updates: \
            1,000 updates at tau = 0.999, 10,000 at 0.9999. data2vec raises tau linearly from tau0 to tauEnd over the \
            first tauN updates (speech: 0.999 -> 0.9999 over 30,000), so the teacher follows a fast-changing \
            student early on and becomes a slow, stable target later. Below, a one-weight student held at a random \
            value and a teacher that starts at 0: after n updates at tau the teacher has covered 1 - tau^n of the way.
            """)
        var rng = RandomGenerator(seed: chapter.options.seed.derived("teacher"))
        let student = Linear(1, 1, bias: false, using: &rng), copy = Linear(1, 1, bias: false, using: &rng)
        let target = student.weight.item
        let teacher = EMATeacher(student: student, copy: copy, schedule: .constant(0.9))
        teacher.model.weight.storage.pointer[0] = 0
        for _ in 0..<10 { teacher.update(from: student) }
        let value = teacher.model.weight.item, expected = target * Float(1 - pow(0.9, 10))
        print(String(format: "  student %.4f, teacher from 0, tau 0.9: after 10 updates the teacher is %.4f = %.4f * (1 - 0.9^10) = %.4f",
                     target, value, target, expected))
        chapter.check(abs(value - expected) < 1e-5, "the EMA update follows tau * teacher + (1 - tau) * student")
        let speech = EMASchedule(start: 0.999, end: 0.9999, annealSteps: 30_000)
        print(String(format: "  speech schedule: tau(0) = %.5f, tau(15,000) = %.5f, tau(40,000) = %.5f",
                     speech.tau(at: 0), speech.tau(at: 15_000), speech.tau(at: 40_000)))
        chapter.check(abs(speech.tau(at: 15_000) - 0.99945) < 1e-6 && speech.tau(at: 40_000) == 0.9999,
                      "tau rises linearly (halfway: 0.99945), then stays at tauEnd")
        chapter.figure("04-tau-schedule.png") { path throws(PlotError) in
            let updates = stride(from: 0, through: 40_000, by: 200).map { $0 }
            var figure = Figure(title: "EMA decay tau over training (speech: 0.999 -> 0.9999 over 30k updates)",
                                xLabel: "update", yLabel: "memory 1 / (1 - tau), in updates")
            figure.add(.line(x: updates.map(Double.init), y: updates.map { 1 / (1 - Double(speech.tau(at: $0))) }, title: "speech Base"))
            let vision = EMASchedule.constant(0.9998)
            figure.add(.line(x: updates.map(Double.init), y: updates.map { 1 / (1 - Double(vision.tau(at: $0))) }, title: "vision Base (constant 0.9998)"))
            try figure.render(to: path)
        }
    }
}
