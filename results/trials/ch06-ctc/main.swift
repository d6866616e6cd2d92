// The harness behind results/trials/ch06-ctc-trials.txt (its last form): CTC training of chapter 06's recognizer
// on digit strings from the training clips, scored on 130 training strings held out (never the test split).
// From the repository root, after a full run of chapter 06 (which writes checkpoints/ch06-speech.safetensors):
//   swift build -c release --product trial-ch06-ctc
//   .build/release/trial-ch06-ctc LABELLED STEPS LR0 LR1 HEAD_ONLY0 SCRATCH1     e.g. 517 1000 2e-3 2e-3 0 0
// (job 0 is fine-tuned from the checkpoint; job 1 too, or from scratch with SCRATCH1 = 1). The log was made
// with the chapter's code of its day; today's chapter 06 and engine move the numbers, not the comparisons' point.
import Autograd
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim

// usage: exp labelled steps lr0 lr1 headOnly0 scratch1(0/1)
let a = CommandLine.arguments
guard a.count == 7 else { print("usage: trial-ch06-ctc LABELLED STEPS LR0 LR1 HEAD_ONLY0 SCRATCH1 (e.g. 517 1000 2e-3 2e-3 0 0)"); exit(64) }
let labelledCount = Int(a[1])!, steps = Int(a[2])!, lrs = [Float(a[3])!, Float(a[4])!], headOnly = Int(a[5])!, scratch1 = a[6] == "1"
let digits = try SpokenDigits(directory: URL(fileURLWithPath: "data"))
let (train, _) = try digits.split(testSpeakers: nil)
let strings = digits.digitStrings(from: train, passes: 1, seed: 11)
let val = Array((strings.count - 130)..<strings.count)
var pick = RandomGenerator(seed: 300)
let labelled = Array(pick.permutation(strings.count - 130).prefix(labelledCount))
let enc = TransformerConfiguration(blockCount: 4, dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .postLN,
                                   inputLayerNorm: true, dropout: 0.1, attentionDropout: 0.1, layerDrop: 0.05, initializer: .normal(std: 0.02))
nonisolated(unsafe) let G = (enc, strings, labelled, val, steps, lrs, headOnly, scratch1)
func run(_ job: Int) -> String {
    let (enc, strings, labelled, val, steps, lrs, headOnly, scratch1) = G
    var rng = RandomGenerator(seed: 400)
    let backbone = SpeechBackbone(frontEnd: SpeechFrontEndConfiguration(dimension: 64), encoder: enc, using: &rng)
    let tuned = !(job == 1 && scratch1)
    if tuned { try! Checkpoint.load(URL(fileURLWithPath: "checkpoints/ch06-speech.safetensors"), into: backbone) }
    let model = SpeechRecognizer(backbone: backbone, symbols: 11, framesPerStep: 2, dropout: 0.1, using: &rng)
    let opt = AdamWConfiguration(peakLearningRate: lrs[job], beta2: 0.98, epsilon: 1e-8, weightDecay: 0.01, warmupFraction: 0.1, finalFraction: 0.05, shape: .triStage(hold: 0.4), clipNorm: 3)
    let optimizer = opt.makeOptimizer(model.namedParameters)
    let schedule = opt.makeSchedule(totalSteps: steps)
    var brng = RandomGenerator(seed: 9)
    var pending: [[Int]] = []
    var log = "job \(job) \(tuned ? "tuned" : "scratch") lr \(lrs[job]):"
    let t0 = Date()
    model.train()
    for s in 0..<steps {
        if pending.isEmpty { pending = lengthBucketedBatches(labelled, lengths: { strings[$0].samples.count }, size: 8, using: &brng) }
        let batch = pending.removeLast()
        let audio = AudioBatch(batch.map { strings[$0].samples })
        let frozen = job == 0 && s < headOnly
        let (logits, frames): (Tensor, [Int])
        if frozen {
            model.backbone.eval()
            let (e, l) = Tensor.withoutGradients { model.backbone.encode(audio, frozenCNN: false) }
            model.backbone.train()
            let (b, t, d) = (e.output.shape[0], e.output.shape[1], e.output.shape[2])
            var x = zeroPadding(model.dropout(e.output), validLengths: l)
            if t % 2 == 1 { x = Tensor.concatenate([x, Tensor.zeros([b, 1, d])], along: 1) }
            (logits, frames) = (model.head(x.reshaped([b, (t + 1) / 2, 2 * d])), l.map { ($0 + 1) / 2 })
        } else { (logits, frames) = model(audio, frozenCNN: false) }
        Tensor.ctcLoss(logits: logits, inputLengths: frames, targets: batch.map { strings[$0].digits.map { $0 + 1 } }).backward()
        takeStep(optimizer, learningRate: schedule.learningRate(at: s), clipNorm: 3)
        if (s + 1) % 100 == 0 {
            model.eval()
            var hyp: [[Int]] = [], ref: [[Int]] = []
            Tensor.withoutGradients {
                for c in chunks(val, size: 16) {
                    let (lg, ln) = model(AudioBatch(c.map { strings[$0].samples }), frozenCNN: false)
                    hyp += greedyDecode(logits: lg, lengths: ln).map { $0.map { $0 - 1 } }
                    ref += c.map { strings[$0].digits }
                }
            }
            model.train()
            log += String(format: " %d:%.1f", s + 1, 100 * errorRate(hypotheses: hyp, references: ref))
        }
    }
    return log + String(format: "  (%.0f s)", Date().timeIntervalSince(t0))
}
let r = Parallel.independentJobs(2, run)
print(a.dropFirst().joined(separator: " ")); r.forEach { print("  " + $0) }
