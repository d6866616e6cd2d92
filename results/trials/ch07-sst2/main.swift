// The harness behind results/trials/ch07-sst2-trials.txt: SST-2 fine-tuning from chapter 07's two checkpoints
// (checkpoints/ch07-text) and from scratch, scored on 20% of the labelled phrases held out (the dev set is
// never read). From the repository root, after a full run of chapter 07 (which writes checkpoints/ch07-text):
//   swift build -c release --product trial-ch07-sst2
//   .build/release/trial-ch07-sst2 LABELS MAX_UPDATES LR_DATA2VEC LR_MLM LR_SCRATCH     e.g. 1000 800 3e-4 3e-4 3e-4
// The log was made with the chapter's code of its day; today's chapter 07 and engine move the numbers.
import Autograd
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim

// usage: exp7 LABELS MAXSTEPS LR_DATA2VEC LR_MLM LR_SCRATCH
let a = CommandLine.arguments
guard a.count == 6 else { print("usage: trial-ch07-sst2 LABELS MAX_UPDATES LR_DATA2VEC LR_MLM LR_SCRATCH (e.g. 1000 800 3e-4 3e-4 3e-4)"); exit(64) }
let count = Int(a[1])!, maxSteps = Int(a[2])!, lrs = [Float(a[3])!, Float(a[4])!, Float(a[5])!]
let folder = URL(fileURLWithPath: "checkpoints/ch07-text")
let tokenizer = try BytePairEncoding.load(from: folder)
let train = try SST2(URL(fileURLWithPath: "data/text/sst2_train.tsv"))
let ids = train.sentences.map { tokenizer.sentence($0, maxLength: 64) }
let fe = TextFrontEndConfiguration(vocabularySize: 4096, dimension: 64)
let enc = TransformerConfiguration(blockCount: 4, dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .postLN,
                                   dropout: 0.1, attentionDropout: 0.1, initializer: .normal(std: 0.02))
nonisolated(unsafe) let G = (ids, train, fe, enc, count, maxSteps, lrs, folder)
func runJob(_ job: Int) -> String {
    let names = ["data2vec", "masked LM", "scratch"]
    let (ids, train, fe, enc, count, maxSteps, lrs, folder) = G
    var pick = RandomGenerator(seed: 500 &+ UInt64(count))
    let labelled = Array(pick.permutation(train.count).prefix(count))
    var rng = RandomGenerator(seed: 600)
    let backbone = TextBackbone(frontEnd: fe, encoder: enc, using: &rng)
    if job < 2 { try! Checkpoint.load(folder.appendingPathComponent(job == 0 ? "data2vec.safetensors" : "masked-lm.safetensors"), into: backbone) }
    let model = SentenceClassifier(backbone: backbone, classCount: 2, using: &rng)
    let opt = AdamWConfiguration(peakLearningRate: lrs[job], beta2: 0.98, epsilon: 1e-6, weightDecay: 0.1, warmupFraction: 0.06)
    let budget = TrainingBudget(maximumEpochs: 40, maximumSteps: maxSteps, minimumSteps: 200, batchSize: 32, minimumStepsBetweenValidations: 50,
                                maximumStepsBetweenValidations: 150, patience: 4)
    func acc(_ idx: [Int]) -> Float {
        let logits = chunks(idx, size: 128).map { model(TextBatch($0.map { ids[$0] })) }
        return accuracy(logits: Tensor.concatenate(logits, along: 0), labels: idx.map { train.labels[$0] })
    }
    let t0 = Date()
    let report = trainWithEarlyStopping(model, optimization: opt, examples: labelled, labels: train.labels, budget: budget, seed: 0,
                                        lengths: { ids[$0].count },
                                        loss: { b in Loss.crossEntropy(logits: model(TextBatch(b.map { ids[$0] })), labels: b.map { train.labels[$0] }) },
                                        score: { acc($0) })
    return String(format: "%@ lr %g: best validation %.1f%% at update %d of %d (%.0f s)", names[job], lrs[job], 100 * (report.bestValidationScore ?? 0),
                  report.bestStep, report.steps, Date().timeIntervalSince(t0))
}
let results = Parallel.independentJobs(3, runJob)
print(a.dropFirst().joined(separator: " ")); results.forEach { print("  " + $0) }
