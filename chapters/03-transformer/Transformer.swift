// # Chapter 03: the Transformer encoder, piece by piece
//
// What you will learn
//   1. self-attention: every position mixes the others with weights softmax(QK^T / sqrt(dh));
//      a key padding mask removes positions from that mix;
//   2. LayerNorm and GELU, the two nonlinear pieces around it;
//   3. pre-LN vs post-LN blocks, and what each hands to the next block (data2vec reads inside blocks);
//   4. a tiny Transformer trained to reverse strings of digits, its attention maps, and a checkpoint.
// Prerequisites: chapters 01-02. Run: `swift run -c release ch03-transformer` (`--quick`: seconds).
// Letters for shapes: B batch, T positions, D model width, H heads, dh = D / H, F the FFN's hidden size.
import ArgumentParser
import Autograd
import ChapterKit
import Foundation
import NN
import Optim
import Plot

/// Every knob of section 4's run (sections 1-3 are fixed demonstrations). Printed at the start.
struct ReversalConfig: Equatable {
    var length = 10
    /// 2 blocks of 4 heads, D = 64, F = 4D, BERT's initialization N(0, 0.02); the placement is set per run.
    var encoder = TransformerConfiguration(blockCount: 2, dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .preLN,
                                           initializer: .normal(std: 0.02))
    var usesPositions = true
    var optimizer = AdamWConfiguration(peakLearningRate: 2e-3, weightDecay: 0.01, warmupFraction: 100.0 / 1500)
    var steps = 1500
    var batchSize = 64
}

struct Chapter03: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch03-transformer", abstract: "Attention, blocks, a tiny Transformer.")
    @OptionGroup var options: ChapterOptions
    @Flag(help: "Train the reversal model without position embeddings (exercise 1).") var noPositions = false
    @Option(help: "Attention heads per block (default 4; D = 64 must be divisible by it).") var heads: Int?
    @Option(help: "Peak learning rate (default 0.002).") var learningRate: Float?

    func validate() throws {
        if let heads, !(heads >= 1 && 64 % heads == 0) { throw ValidationError("--heads must divide 64 (1, 2, 4, 8, 16, 32, 64), got \(heads)") }
        if let learningRate, !(learningRate > 0 && learningRate < 1) { throw ValidationError("--learning-rate must be in (0, 1), got \(learningRate)") }
    }

    func run() throws {
        let chapter = try Chapter(number: 3, title: "The Transformer encoder, piece by piece", options: options)
        var config = ReversalConfig()
        if options.quick { config.steps = 150 }
        config.usesPositions = !noPositions
        if let heads { config.encoder.headCount = heads }
        if let learningRate { config.optimizer.peakLearningRate = learningRate }
        chapter.printConfiguration(config)
        attentionByHand(chapter)
        normalizationAndActivation(chapter)
        placements(chapter)
        try reversalTask(chapter, config)
        chapter.section("Summary")
        chapter.say("""
            A Transformer block is attention (mixing positions) plus a feed-forward network (transforming each \
            position), each wrapped in a residual connection and a LayerNorm. Where the LayerNorm sits decides \
            what flows between blocks: a normalized stream (post-LN, data2vec's speech and text models) or a \
            growing residual sum (pre-LN, its vision model). data2vec's targets are read from inside these \
            blocks, which is why `TransformerBlock` returns its sub-layer outputs.
            Exercises (Tests/ExerciseTests/Chapter03ExerciseTests.swift holds the checkable part of each answer): \
            (1) --no-positions: train the reversal model without position embeddings and explain the accuracy you \
            get; (2) --heads 1: one head of 64 instead of 4 of 16, and look at the attention maps; (3) \
            --learning-rate 0.01, five times the default, for both placements: does either fail? Compare the loss curves. Tests/NNTests checks the layers \
            against PyTorch (Linear, LayerNorm, Conv1d, Embedding, attention, both blocks).
            """)
        try chapter.finish()
    }
}

func attentionByHand(_ chapter: Chapter) {
    chapter.section("1. Self-attention, written out")
    chapter.say("""
        Each position t asks a question (query q_t), offers a label (key k_t) and a message (value v_t), all \
        linear maps of its input. Position t receives the average of all messages weighted by \
        softmax_s(q_t . k_s / sqrt(dh)): the more a key matches the query, the more its value counts. With H \
        heads this happens H times in parallel on slices of size dh = D / H, and an output projection mixes them. \
        A key padding mask sets the scores of padded keys to -infinity, so they get weight exactly 0. Below, \
        one sequence of T = 4 positions (the last one padding), D = 8, H = 2, computed op by op:
        """)
    print("""
          qkv = x W^T + b                      [B, T, 3D]: one product gives the three projections
          q, k, v = split into H heads         [B H, T, dh] each
          scores = q k^T / sqrt(dh) + mask     [B H, T, T]
          weights = softmax over the keys      each row sums to 1
          context = weights v, heads joined    [B, T, D], then the output projection

        """)
    var rng = RandomGenerator(seed: chapter.options.seed)
    let attention = MultiHeadSelfAttention(dimension: 8, headCount: 2, using: &rng)
    let input = Tensor.normal([1, 4, 8], using: &rng)
    let padding = Tensor(shape: [1, 4], [0, 0, 0, 1])
    let (b, t, d, h) = (1, 4, 8, 2)
    let dh = d / h

    // The written-out attention, with a graph, so that its gradients can be compared too.
    let x = input.detached()
    x.requiresGradient = true
    let heads = attention.qkv(x).reshaped([b, t, 3, h, dh]).permuted([2, 0, 3, 1, 4])  // [3, B, H, T, dh]
    let q = heads.sliced(0..<1, along: 0).reshaped([b * h, t, dh])
    let k = heads.sliced(1..<2, along: 0).reshaped([b * h, t, dh])
    let v = heads.sliced(2..<3, along: 0).reshaped([b * h, t, dh])
    let mask = Tensor(shape: [b, 1, 1, t], padding.scalars.map { $0 != 0 ? -Float.infinity : 0 })
    let scores = (Tensor.matmul(q, k, transposeB: true) * (1 / Float(dh).squareRoot())).reshaped([b, h, t, t]) + mask
    let weights = scores.softmax(alongAxis: -1)  // [B, H, T, T]
    let context = Tensor.matmul(weights.reshaped([b * h, t, t]), v).reshaped([b, h, t, dh]).permuted([0, 2, 1, 3]).reshaped([b, t, d])
    let written = attention.output(context)
    print("  attention weights of head 0 (rows: queries, columns: keys; key 3 is padding):")
    for query in 0..<t { print("    " + (0..<t).map { String(format: "%.3f", weights[0, 0, query, $0]) }.joined(separator: "  ")) }
    let rowsSumToOne = (0..<h).allSatisfy { head in (0..<t).allSatisfy { query in abs((0..<t).map { weights[0, head, query, $0] }.reduce(0, +) - 1) < 1e-5 } }
    chapter.check(rowsSumToOne, "every row of attention weights sums to 1")
    chapter.check((0..<h).allSatisfy { head in (0..<t).allSatisfy { weights[0, head, $0, 3] == 0 } }, "no query attends to the padded key")

    // The same computation by the fused op the models use, and the gradients of both.
    let r = Tensor.normal([b, t, d], using: &rng)  // defines a scalar loss L = sum(r * y)
    (written * r).sum().backward()
    let writtenGradients = (input: x.grad!.scalars, weight: attention.qkv.weight.grad!.scalars)
    attention.zeroGradients()
    let xFused = input.detached()
    xFused.requiresGradient = true
    let (fused, fusedWeights) = attention(xFused, keyPaddingMask: padding, returnWeights: true)
    (fused * r).sum().backward()
    func largest(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }
    let differences = [largest(written.scalars, fused.scalars), largest(weights.scalars, fusedWeights!.scalars),
                       largest(writtenGradients.input, xFused.grad!.scalars), largest(writtenGradients.weight, attention.qkv.weight.grad!.scalars)]
    print(String(format: "  fused op against the written-out ops: largest difference %.1e (output), %.1e (weights), %.1e (dL/dx), %.1e (dL/dW_qkv)",
                 differences[0], differences[1], differences[2], differences[3]))
    chapter.check(differences.allSatisfy { $0 < 1e-5 }, "the fused attention op computes the written-out attention: values, weights and gradients agree to 1e-5")

    // Why the fused op exists: the size of chapter 05's model, forward and backward, both ways.
    let big = MultiHeadSelfAttention(dimension: 64, headCount: 4, using: &rng)
    let batch = Tensor.normal([64, 49, 64], using: &rng)
    func time(_ body: () -> Tensor) -> Double {
        let repeats = chapter.isQuick ? 3 : 20
        _ = body()
        return (0..<repeats).map { _ in
            measure { let y = body(); y.sum().backward(); big.zeroGradients() }.seconds
        }.sorted()[repeats / 2]
    }
    let composedTime = time { big.composed(batch).output }, fusedTime = time { big(batch).output }
    print(String(format: "  B = 64 sequences of T = 49, D = 64, H = 4, forward and backward: written out %.1f ms, fused %.1f ms (median; %.2fx)",
                 1000 * composedTime, 1000 * fusedTime, composedTime / fusedTime))
    chapter.say("""
        The fused op (Sources/Autograd/Ops+Attention.swift) reads q, k and v where the projection wrote them \
        instead of copying them into a head-major layout, computes the softmax in place, splits the (sample, \
        head) pairs across the cores, and keeps only what its backward pass needs. The written-out form above \
        is what it is tested against, value for value and gradient for gradient (Tests/AutogradTests).
        """)
}

func normalizationAndActivation(_ chapter: Chapter) {
    chapter.section("2. LayerNorm and GELU")
    chapter.say("""
        LayerNorm rescales each position's D features to mean 0 and variance 1 (biased variance, eps 1e-5 \
        inside the root, as PyTorch), then applies a learned scale and shift. GELU(x) = x Phi(x) weights its \
        input by the probability that a standard normal is below it: smooth where ReLU has a corner, and \
        slightly negative for small negative inputs.
        """)
    let x = Tensor(shape: [1, 4], [1, 2, 3, 10])
    let y = LayerNorm(4)(x)
    print("  LayerNorm([1, 2, 3, 10]) = \(y.scalars.map { String(format: "%.4f", $0) })")
    chapter.check(abs(y.mean().item) < 1e-6 && abs(y.variance().item - 1) < 1e-3, "LayerNorm output has mean 0 and variance 1 (up to eps)")
    let inputs = Tensor([-3, -1, -0.5, 0, 0.5, 1, 3])
    print("  x        " + inputs.scalars.map { String(format: "%7.3f", $0) }.joined())
    print("  GELU(x)  " + inputs.gelu().scalars.map { String(format: "%7.3f", $0) }.joined())
    print("  ReLU(x)  " + inputs.relu().scalars.map { String(format: "%7.3f", $0) }.joined())
    chapter.check(inputs.gelu()[1] < 0 && inputs.gelu()[6] > 2.99, "GELU dips below 0 for negative inputs and approaches x for large ones")
}

func placements(_ chapter: Chapter) {
    chapter.section("3. Pre-LN and post-LN blocks")
    chapter.say("""
        post-LN:  x = LN1(x + Attn(x));      f = FFN(x);       x = LN2(x + f)
        pre-LN:   x = x + Attn(LN1(x));      f = FFN(LN2(x));  x = x + f
        In post-LN every block hands on a normalized stream. In pre-LN the stream is a running sum: each block \
        adds to it and nothing rescales it until the final LayerNorm, so its scale grows with depth. We push \
        random inputs through 8 freshly initialized blocks of each kind and print the standard deviation of \
        each block's output.
        """)
    var rng = RandomGenerator(seed: chapter.options.seed.derived("placements"))
    let x = Tensor.normal([4, 16, 32], using: &rng)
    var scales: [LayerNormPlacement: [Float]] = [:]
    for placement in LayerNormPlacement.allCases {
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 8, dimension: 32, headCount: 4, feedForwardDimension: 128,
                                         placement: placement, initializer: .normal(std: 0.2)), using: &rng)
        let records = Tensor.withoutGradients { encoder(x, recordBlocks: true).blocks }
        scales[placement] = records.map { $0.output.variance().item.squareRoot() }
        print("  \(placement.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) block output std: "
              + scales[placement]!.map { String(format: "%.2f", $0) }.joined(separator: " "))
    }
    chapter.check(scales[.postLN]!.allSatisfy { abs($0 - 1) < 0.05 }, "post-LN blocks all output unit-scale features")
    chapter.check(scales[.preLN]!.last! > 1.5 * scales[.preLN]!.first!, "the pre-LN residual stream grows with depth")
    chapter.say("""
        Each block also reports its sub-layer outputs (BlockOutputs): the attention output, the FFN output \
        before the last residual add, and the end of the block. data2vec's teachers average the top K blocks' \
        FFN outputs (speech, text) or block ends (vision code); chapter 04 builds its targets from these records.
        """)
}
