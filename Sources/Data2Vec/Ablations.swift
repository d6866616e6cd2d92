// The paper's ablations (section 5.5, Figures 2 and 3, Tables 5, 7 and 8; section 6 on collapse) as data: each
// ablation is a list of arms, and each arm is the default recipe with exactly one field changed. Chapter 08
// pretrains every arm with the same code path (`Data2VecTrainer`), so an arm's result differs from the default's
// only through that field and the seed.
//
//   ablation            the field                          arms (vision, 4 blocks, a 7 x 7 grid of patches)
//   top-K averaging     data2vec.averageTopKLayers         1, 2, 3, 4 (all)
//   target context      data2vec.teacherContextRadius      0, 1, 2, 3 patches, the whole image
//   target type         data2vec.targetPoint               self-attention, FFN, end of block
//   normalization       data2vec.layerwiseTargetNorm /     per block: none, instance, layer; on the average: none
//                       data2vec.finalTargetNorm
//   teacher tau         data2vec.emaDecay / emaEndDecay    constant at the start value, the schedule, constant at the end value
//   masking             frontEnd.maskedPatches             40%, 60%, 80% of the patches
//   loss                data2vec.lossBeta                  L2 (beta 0), Smooth L1 beta 0.25, 1, 2
//
// On speech (`speechGrid`: post-LN blocks, 10 ms frames) the context is a window of frames, the target types are
// Table 5's four (FFN + residual differs from the end of the block there), and masking is Table 8's probability and
// span length; the normalization and tau are measured on images only.
import Autograd
import NN
import Optim

/// Everything a pretraining run depends on besides its seed and its data: the front end's configuration, the
/// encoder's, data2vec's, the optimizer's, the number of updates and the batch size. An ablation arm changes one
/// field of it.
public struct PretrainingRecipe<FrontEndConfiguration: Equatable>: Equatable {
    /// The modality's front end (sizes, masking, initialization).
    public var frontEnd: FrontEndConfiguration
    /// The Transformer.
    public var encoder: TransformerConfiguration
    /// Targets, teacher, loss, head.
    public var data2vec: Data2VecConfig
    /// AdamW and its schedule.
    public var optimization: AdamWConfiguration
    /// Updates of the run.
    public var steps: Int
    /// Samples per update.
    public var batchSize: Int

    /// A recipe of these parts.
    public init(frontEnd: FrontEndConfiguration, encoder: TransformerConfiguration, data2vec: Data2VecConfig,
                optimization: AdamWConfiguration, steps: Int, batchSize: Int) {
        self.frontEnd = frontEnd
        self.encoder = encoder
        self.data2vec = data2vec
        self.optimization = optimization
        self.steps = steps
        self.batchSize = batchSize
    }
}

/// One arm of an ablation: a name, where it is drawn on the ablation's axis, and the one change it makes.
public struct AblationArm<Recipe> {
    /// "K = 1", "radius 2", "whole image".
    public var label: String
    /// Its place on the ablation's axis: the setting itself when it is a number (K, a radius, beta), else its
    /// index. Chapter 08 draws the arms as bars in their order; a line plot of your own can use this.
    public var position: Double
    /// The change to the default recipe (the identity for the arm that is the default).
    public var change: (inout Recipe) -> Void

    /// An arm called `label`, drawn at `position`, that applies `change`.
    public init(_ label: String, at position: Double, _ change: @escaping (inout Recipe) -> Void) {
        self.label = label
        self.position = position
        self.change = change
    }

    /// The default recipe with this arm's change.
    public func recipe(from base: Recipe) -> Recipe {
        var recipe = base
        change(&recipe)
        return recipe
    }
}

/// What the paper found in an ablation, stated so that a run can check whether its direction holds.
public enum PaperFinding {
    /// The arm labelled `better` scores above the arm labelled `worse`.
    case above(better: String, worse: String)
    /// The arm labelled `best` scores at least as high as every other arm.
    case best(String)
    /// The arm labelled `worst` scores below every other arm.
    case worst(String)
    /// No arm is more than `points` percentage points from the best (the choice matters little).
    case withinPoints(Float)

    /// Whether `means` (one per arm label, accuracies in [0, 1]) show this finding.
    public func holds(_ means: [String: Float]) -> Bool {
        switch self {
        case .above(let better, let worse):
            guard let b = means[better], let w = means[worse] else { return false }
            return b > w
        case .best(let label):
            guard let best = means[label] else { return false }
            return means.values.allSatisfy { $0 <= best }
        case .worst(let label):
            guard let worst = means[label] else { return false }
            return means.filter { $0.key != label }.values.allSatisfy { $0 > worst }
        case .withinPoints(let points):
            guard let top = means.values.max() else { return false }
            return means.values.allSatisfy { 100 * (top - $0) <= points }
        }
    }
}

/// One of the paper's ablations: the arms, which of them is the default recipe and which the paper's choice, and
/// what the paper found.
public struct Ablation<Recipe> {
    /// "top-K averaging".
    public var name: String
    /// A short key for file names and flags: "top-k".
    public var key: String
    /// Where the paper shows it: "Figure 2", "Table 5".
    public var source: String
    /// The figure's x axis.
    public var axis: String
    /// The arms, in the order of the axis.
    public var arms: [AblationArm<Recipe>]
    /// The label of the arm that is the default recipe unchanged.
    public var defaultArm: String
    /// The label of the arm the paper chose (or found best).
    public var paperChoice: String
    /// The paper's findings, in words and as checks.
    public var paperSays: String
    public var findings: [(words: String, finding: PaperFinding)]

    /// An ablation; see the properties.
    public init(name: String, key: String, source: String, axis: String, arms: [AblationArm<Recipe>], defaultArm: String,
                paperChoice: String, paperSays: String, findings: [(words: String, finding: PaperFinding)]) {
        self.name = name
        self.key = key
        self.source = source
        self.axis = axis
        self.arms = arms
        self.defaultArm = defaultArm
        self.paperChoice = paperChoice
        self.paperSays = paperSays
        self.findings = findings
    }

    /// The arms whose labels are in `labels`, in order (a subset of the grid).
    public func keeping(_ labels: [String]) -> Ablation {
        var copy = self
        copy.arms = arms.filter { labels.contains($0.label) }
        copy.findings = findings.filter { finding in
            switch finding.finding {
            case .above(let a, let b): labels.contains(a) && labels.contains(b)
            case .best(let a), .worst(let a): labels.contains(a)
            case .withinPoints: true
            }
        }
        return copy
    }
}

extension PretrainingRecipe {
    /// "K = 1" ... "K = `blocks`": the targets averaged over the top K teacher blocks.
    static func topKArms(blocks: Int) -> [AblationArm<PretrainingRecipe>] {
        (1...blocks).map { k in AblationArm("K = \(k)", at: Double(k)) { $0.data2vec.averageTopKLayers = k } }
    }

    /// One arm per Smooth L1 beta, in increasing order ("L2" for beta 0).
    static func lossArms(betas: Set<Float>) -> [AblationArm<PretrainingRecipe>] {
        betas.sorted().map { b in AblationArm(lossLabel(b), at: Double(b)) { $0.data2vec.lossBeta = b } }
    }

    /// "L2" or "beta 0.25".
    static func lossLabel(_ beta: Float) -> String { beta == 0 ? "L2" : "beta \(beta)" }
}

/// The vision recipe of chapters 05 and 08.
public typealias VisionRecipe = PretrainingRecipe<ImagePatchConfiguration>

extension Ablation where Recipe == VisionRecipe {
    /// The paper's ablations on the image model of `base` (pre-LN blocks, a square grid of patches), every arm one
    /// field away from `base`. Table 5's "FFN + residual" is left out: in a pre-LN block it is the end of the block.
    public static func visionGrid(_ base: VisionRecipe) -> [Ablation] {
        let blocks = base.encoder.blockCount, grid = base.frontEnd.grid, patches = grid * grid
        let start = base.data2vec.emaDecay, end = base.data2vec.emaEndDecay
        let beta = base.data2vec.lossBeta, lossLabel = VisionRecipe.lossLabel
        func percent(_ count: Int) -> String { "\(Int((100 * Double(count) / Double(patches)).rounded()))%" }
        let maskCounts = [Int((0.4 * Double(patches)).rounded()), base.frontEnd.maskedPatches, Int((0.8 * Double(patches)).rounded())]
        return [
            Ablation(name: "top-K averaging", key: "top-k", source: "Figure 2", axis: "K, the teacher blocks averaged into a target",
                     arms: VisionRecipe.topKArms(blocks: blocks),
                     defaultArm: "K = \(base.data2vec.averageTopKLayers)", paperChoice: "K = \(blocks)",
                     paperSays: "averaging several blocks beats the top block alone in every modality (slightly for vision); all blocks is nearly as good as the best K",
                     findings: [("K = \(blocks) above K = 1", .above(better: "K = \(blocks)", worse: "K = 1"))]),
            Ablation(name: "target context", key: "context", source: "Figure 3", axis: "radius of the teacher's attention window, in patches",
                     arms: (0..<(grid / 2 + 1)).map { r in AblationArm("radius \(r)", at: Double(r)) { $0.data2vec.teacherContextRadius = r } }
                         + [AblationArm("whole image", at: Double(grid - 1)) { $0.data2vec.teacherContextRadius = nil }],
                     defaultArm: "whole image", paperChoice: "whole image",
                     paperSays: "the more context the teacher sees, the better the targets; best with the whole sample",
                     findings: [("whole image above radius 0", .above(better: "whole image", worse: "radius 0")),
                                ("whole image the best", .best("whole image"))]),
            Ablation(name: "target type", key: "target-type", source: "Table 5", axis: "the block output the targets are built from",
                     arms: [AblationArm("self-attention", at: 0) { $0.data2vec.targetPoint = .selfAttention },
                            AblationArm("FFN", at: 1) { $0.data2vec.targetPoint = .feedForward },
                            AblationArm("end of block", at: 2) { $0.data2vec.targetPoint = .endOfBlock }],
                     defaultArm: label(base.data2vec.targetPoint), paperChoice: "FFN",
                     paperSays: "speech: FFN 13.1 WER, end of block 14.5, FFN + residual 14.8, self-attention 100 (unusable)",
                     findings: [("self-attention the worst", .worst("self-attention"))]),
            Ablation(name: "target normalization", key: "normalization", source: "section 3.3, section 6", axis: "how each block's output is normalized",
                     arms: [AblationArm("none per block", at: 0) { $0.data2vec.layerwiseTargetNorm = .none },
                            AblationArm("instance per block", at: 1) { $0.data2vec.layerwiseTargetNorm = .instance },
                            AblationArm("layer per block", at: 2) { _ in },
                            AblationArm("no final norm", at: 3) { $0.data2vec.finalTargetNorm = .none }],
                     defaultArm: "layer per block", paperChoice: "layer per block",
                     paperSays: "normalizing each block's output keeps the targets from collapsing to a constant and stops high-norm blocks from dominating the average",
                     findings: [("layer norm per block above none", .above(better: "layer per block", worse: "none per block"))]),
            Ablation(name: "teacher tau", key: "tau", source: "section 3.2, section 6", axis: "the EMA decay over the run",
                     arms: [AblationArm("constant \(start)", at: 0) { $0.data2vec.emaEndDecay = start },
                            AblationArm("\(start) to \(end)", at: 1) { _ in },
                            AblationArm("constant \(end)", at: 2) { $0.data2vec.emaDecay = end }],
                     defaultArm: "\(start) to \(end)", paperChoice: "\(start) to \(end)",
                     paperSays: "tau rises from a faster-moving teacher early to a slow one late; too low a tau lets the model collapse",
                     findings: [("the schedule above constant \(start)", .above(better: "\(start) to \(end)", worse: "constant \(start)"))]),
            Ablation(name: "masking", key: "masking", source: "section 4.1, Table 8", axis: "masked fraction of the patches",
                     arms: maskCounts.map { n in AblationArm(percent(n), at: Double(n) / Double(patches)) { $0.frontEnd.maskedPatches = n } },
                     defaultArm: percent(base.frontEnd.maskedPatches), paperChoice: percent(maskCounts[1]),
                     paperSays: "vision: masking 60% of the patches is more accurate than BEiT's 40%; speech (Table 8): p = 0.65 best, 0.5 and 0.8 within 0.2 WER",
                     findings: [("60% above 40%", .above(better: percent(maskCounts[1]), worse: percent(maskCounts[0])))]),
            Ablation(name: "loss", key: "loss", source: "Table 7", axis: "Smooth L1 beta (0 is L2)",
                     arms: VisionRecipe.lossArms(betas: [0, 0.25, 1, beta]),
                     defaultArm: lossLabel(beta), paperChoice: lossLabel(beta),
                     paperSays: "speech: L2 17.1, Smooth L1 16.8 to 17.3 WER over beta 0.08 to 1: the choice matters little",
                     findings: [("every loss within 2 points of the best", .withinPoints(2))]),
        ]
    }

    static func label(_ point: TargetPoint) -> String { targetLabel(point) }
}

/// The name of a target point as the paper's Table 5 writes it.
func targetLabel(_ point: TargetPoint) -> String {
        switch point {
        case .selfAttention: "self-attention"
        case .feedForward: "FFN"
        case .feedForwardAndResidual: "FFN + residual"
        case .endOfBlock: "end of block"
        }
}

/// The speech recipe of chapters 06 and 08.
public typealias SpeechRecipe = PretrainingRecipe<SpeechFrontEndConfiguration>

extension Ablation where Recipe == SpeechRecipe {
    /// The paper's speech ablations on the model of `base` (post-LN blocks, frames of 10 ms), every arm one field
    /// away from `base`: top-K (Figure 2), target context (Figure 3), the four target types of Table 5, Table 8's
    /// mask probability and span length (10, 20, 30 frames of 10 ms: upstream's 5, 10, 15 frames of 20 ms) and
    /// Table 7's loss. The target normalization and tau are measured on images (`visionGrid`).
    public static func speechGrid(_ base: SpeechRecipe) -> [Ablation] {
        let blocks = base.encoder.blockCount, k = base.data2vec.averageTopKLayers
        let probability = base.frontEnd.masking.probability, span = base.frontEnd.masking.spanLength
        let beta = base.data2vec.lossBeta, lossLabel = SpeechRecipe.lossLabel
        func radiusLabel(_ r: Int) -> String { "radius \(r) (\(20 * r + 10) ms)" }
        return [
            Ablation(name: "top-K averaging", key: "top-k", source: "Figure 2", axis: "K, the teacher blocks averaged into a target",
                     arms: SpeechRecipe.topKArms(blocks: blocks),
                     defaultArm: "K = \(k)", paperChoice: "K = \(k)",
                     paperSays: "averaging blocks beats the top block alone, most of all for speech (K = 8 of 12 blocks upstream, here \(k) of \(blocks))",
                     findings: [("K = \(k) above K = 1", .above(better: "K = \(k)", worse: "K = 1"))]),
            Ablation(name: "target context", key: "context", source: "Figure 3", axis: "radius of the teacher's attention window, in frames",
                     arms: [0, 5, 25].map { r in AblationArm(radiusLabel(r), at: Double(r)) { $0.data2vec.teacherContextRadius = r } }
                         + [AblationArm("whole clip", at: 100) { $0.data2vec.teacherContextRadius = nil }],
                     defaultArm: "whole clip", paperChoice: "whole clip",
                     paperSays: "the more context the teacher sees, the better the targets; best with the whole utterance",
                     findings: [("whole clip above \(radiusLabel(0))", .above(better: "whole clip", worse: radiusLabel(0))),
                                ("whole clip the best", .best("whole clip"))]),
            Ablation(name: "target type", key: "target-type", source: "Table 5", axis: "the block output the targets are built from",
                     arms: [AblationArm("self-attention", at: 0) { $0.data2vec.targetPoint = .selfAttention },
                            AblationArm("FFN", at: 1) { $0.data2vec.targetPoint = .feedForward },
                            AblationArm("FFN + residual", at: 2) { $0.data2vec.targetPoint = .feedForwardAndResidual },
                            AblationArm("end of block", at: 3) { $0.data2vec.targetPoint = .endOfBlock }],
                     defaultArm: targetLabel(base.data2vec.targetPoint), paperChoice: "FFN",
                     paperSays: "FFN 13.1 WER, end of block 14.5, FFN + residual 14.8, self-attention 100 (unusable)",
                     findings: [("FFN the best", .best("FFN")), ("self-attention the worst", .worst("self-attention"))]),
            Ablation(name: "mask probability", key: "mask-probability", source: "Table 8", axis: "p, the probability that a frame starts a masked span",
                     arms: [0.5, probability, 0.8].map { p in AblationArm("p = \(p)", at: p) { $0.frontEnd.masking.probability = p } },
                     defaultArm: "p = \(probability)", paperChoice: "p = 0.65",
                     paperSays: "p = 0.65 17.1 WER, 0.8 17.2, 0.5 17.3: little difference",
                     findings: [("every p within 2 points of the best", .withinPoints(2))]),
            Ablation(name: "mask span length", key: "mask-span", source: "Table 8", axis: "span length, in frames of 10 ms",
                     arms: [span / 2, span, 3 * span / 2].map { l in AblationArm("\(l) frames", at: Double(l)) { $0.frontEnd.masking.spanLength = l } },
                     defaultArm: "\(span) frames", paperChoice: "\(span) frames",
                     paperSays: "10 frames of 20 ms 17.1 WER, 5 frames 22.1, 15 frames 18.9: both shorter and longer spans hurt",
                     findings: [("\(span) frames above \(span / 2)", .above(better: "\(span) frames", worse: "\(span / 2) frames")),
                                ("\(span) frames above \(3 * span / 2)", .above(better: "\(span) frames", worse: "\(3 * span / 2) frames"))]),
            Ablation(name: "loss", key: "loss", source: "Table 7", axis: "Smooth L1 beta (0 is L2)",
                     arms: SpeechRecipe.lossArms(betas: [0, 0.25, 1, beta]),
                     defaultArm: lossLabel(beta), paperChoice: "L2",
                     paperSays: "L2 17.1, Smooth L1 16.8 to 17.3 WER over beta 0.08 to 1: the choice matters little",
                     findings: [("every loss within 2 points of the best", .withinPoints(2))]),
        ]
    }
}
