// Section 4 of chapter 03: a tiny Transformer learns to reverse strings of digits.
import Autograd
import ChapterKit
import Datasets
import Foundation
import NN
import Optim
import Plot

/// Token embedding + learned positions -> Transformer encoder -> a linear classifier per position.
final class DigitReverser: Module {
    let tokens: Embedding
    let positions: Embedding
    let encoder: TransformerEncoder
    let classifier: Linear
    var isTraining = true

    let usesPositions: Bool

    init(length: Int, encoder configuration: TransformerConfiguration, usesPositions: Bool = true, using rng: inout RandomGenerator) {
        let dimension = configuration.dimension
        tokens = Embedding(count: 10, dimension: dimension, initializer: .normal(std: 0.02), using: &rng)
        positions = Embedding(count: length, dimension: dimension, initializer: .normal(std: 0.02), using: &rng)
        encoder = TransformerEncoder(configuration, using: &rng)
        classifier = Linear(dimension, 10, initializer: .normal(std: 0.02), using: &rng)
        self.usesPositions = usesPositions
    }

    var submodules: [(name: String, module: any Module)] {
        [("tokens", tokens), ("positions", positions), ("encoder", encoder), ("classifier", classifier)]
    }

    /// digits: B strings of T digits (row-major) -> logits [B * T, 10] and the encoder's block records.
    func callAsFunction(_ digits: [Int], batch: Int, returnAttentionWeights: Bool = false) -> (logits: Tensor, blocks: [BlockOutputs]) {
        let length = digits.count / batch
        let embedded = tokens(digits, shape: [batch, length])
        let x = usesPositions ? embedded + positions(Array(0..<length), shape: [length]) : embedded
        let encoded = encoder(x, returnAttentionWeights: returnAttentionWeights)
        return (classifier(encoded.output).reshaped([batch * length, 10]), encoded.blocks)
    }
}

/// B random strings and, for each position t, the digit at T-1-t.
func reversalBatch(_ batch: Int, length: Int, using rng: inout RandomGenerator) -> (digits: [Int], targets: [Int]) {
    let digits = (0..<batch * length).map { _ in rng.int(below: 10) }
    let targets = (0..<batch * length).map { i in digits[(i / length) * length + length - 1 - i % length] }
    return (digits, targets)
}

func tokenAccuracy(_ model: DigitReverser, _ data: (digits: [Int], targets: [Int]), batch: Int) -> Float {
    let logits = Tensor.withoutGradients { model(data.digits, batch: batch).logits }
    // The index of the largest logit in each row of 10 (slice indices are absolute, hence - startIndex).
    let predictions = logits.scalars.chunked(10).map { row in row.indices.max { row[$0] < row[$1] }! - row.startIndex }
    return Float(zip(predictions, data.targets).filter { $0 == $1 }.count) / Float(data.targets.count)
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

func reversalTask(_ chapter: Chapter, _ config: ReversalConfig) throws {
    chapter.section("4. A tiny Transformer reverses digit strings")
    let (length, batch, steps) = (config.length, config.batchSize, config.steps)
    let e = config.encoder
    chapter.say("""
        Input: \(length) random digits. Target at position t: the digit at position \(length - 1)-t. No position \
        can be solved from its own token: it must find the mirrored position, which only attention can reach, \
        and only with position embeddings telling positions apart. Model: token \(config.usesPositions ? "and learned position " : "")\
        embeddings (D = \(e.dimension)), \(e.blockCount) blocks with \(e.headCount) heads and F = \(e.feedForwardDimension), a linear \
        classifier per position. AdamW (lr \(config.optimizer.peakLearningRate), weight decay \(config.optimizer.weightDecay) on \
        matrices), warm-up then cosine, batches of \(batch), \(steps) steps, once with each block placement. Chance is 10%.
        """)
    var rng = RandomGenerator(seed: chapter.options.seed)
    let test = reversalBatch(1000, length: length, using: &rng)
    var curves: [LayerNormPlacement: [Double]] = [:]
    var accuracies: [LayerNormPlacement: Float] = [:]
    var models: [LayerNormPlacement: DigitReverser] = [:]
    for placement in [LayerNormPlacement.preLN, .postLN] {
        var local = RandomGenerator(seed: chapter.options.seed.derived("reversal model"))
        var encoder = config.encoder
        encoder.placement = placement
        let model = DigitReverser(length: length, encoder: encoder, usesPositions: config.usesPositions, using: &local)
        let optimizer = config.optimizer.makeOptimizer(model.namedParameters)
        let schedule = config.optimizer.makeSchedule(totalSteps: steps)
        let progress = ProgressLine("\(placement.rawValue) step", total: steps)
        var losses: [Double] = []
        let (_, seconds) = try measure {
            for step in 1...steps {
                let data = reversalBatch(batch, length: length, using: &local)
                let loss = Loss.crossEntropy(logits: model(data.digits, batch: batch).logits, labels: data.targets)
                try chapter.requireFinite(loss.item, "the \(placement.rawValue) training loss", step: step)
                loss.backward()
                takeStep(optimizer, learningRate: schedule.learningRate(at: step - 1), clipNorm: config.optimizer.clipNorm)
                losses.append(Double(loss.item))
                progress.update(step: step, ["loss": loss.item])
            }
        }
        model.eval()
        accuracies[placement] = tokenAccuracy(model, test, batch: 1000)
        curves[placement] = losses
        models[placement] = model
        print(String(format: "  %@: %d parameters, %.1f s, test token accuracy %.1f%%", placement.rawValue,
                     model.parameterCount, seconds, 100 * accuracies[placement]!))
    }
    let preLN = accuracies[.preLN]!, postLN = accuracies[.postLN]!
    if chapter.isQuick {
        chapter.check(preLN > 0.15 && postLN > 0.15, "after a quick run both models beat chance (10%)")
    } else if config == ReversalConfig() {  // the claims are about the default setting; the exercises change it
        chapter.check(preLN > 0.95, String(format: "the pre-LN model reverses strings: %.1f%% of test digits right", 100 * preLN))
        chapter.check(postLN > 0.95, String(format: "the post-LN model too: %.1f%%", 100 * postLN))
    }
    chapter.figure("03-loss.png") { path throws(PlotError) in
        var figure = Figure(title: "Reversing \(length) digits: training loss", xLabel: "step", yLabel: "cross-entropy")
        for (placement, losses) in curves.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            figure.add(.line(x: losses.indices.map { Double($0 + 1) }, y: losses, title: placement.rawValue, width: 1.5))
        }
        figure.logScaleY = true
        try figure.render(to: path)
    }
    try attentionMaps(chapter, model: models[.preLN]!, length: length, checked: config == ReversalConfig())
    try checkpointRoundTrip(chapter, model: models[.preLN]!, test: test, config: config)
}

/// Plots every head's attention for one string, and measures how much attention lands on the mirrored key.
func attentionMaps(_ chapter: Chapter, model: DigitReverser, length: Int, checked: Bool) throws {
    chapter.say("""
        Where does the model look? For one test string we draw the attention weights of every head of both \
        blocks (rows: queries, columns: keys), all on one scale from 0 (black) to 1 (white). A head that solves \
        the task puts its weight on the anti-diagonal: position t looks at position \(length - 1)-t.
        """)
    var rng = RandomGenerator(seed: chapter.options.seed.derived("attention maps"))
    let sample = reversalBatch(200, length: length, using: &rng)
    let blocks = Tensor.withoutGradients { model(sample.digits, batch: 200, returnAttentionWeights: true).blocks }
    var images: [[Float]] = [], titles: [String] = []
    var bestMirrorShare: Float = 0, bestHead = ""
    for (b, block) in blocks.enumerated() {
        let w = block.attentionWeights!  // [200, H, T, T]
        let heads = w.shape[1], values = w.scalars
        for h in 0..<heads {
            // Share of attention on the mirrored key, averaged over queries and strings.
            var mirror: Float = 0
            for s in 0..<200 { for q in 0..<length { mirror += values[((s * heads + h) * length + q) * length + (length - 1 - q)] } }
            mirror /= Float(200 * length)
            if mirror > bestMirrorShare { bestMirrorShare = mirror; bestHead = "block \(b) head \(h)" }
            images.append(Array(values[(h * length * length)..<((h + 1) * length * length)]))
            titles.append(String(format: "block %d head %d (mirror %.0f%%)", b, h, 100 * mirror))
        }
    }
    print(String(format: "  the most mirror-focused head, %@, puts %.0f%% of its attention on the mirrored key", bestHead, 100 * bestMirrorShare))
    if !chapter.isQuick && checked {
        chapter.check(bestMirrorShare > 0.5, String(format: "some head attends mainly to the mirrored position (%.0f%%)", 100 * bestMirrorShare))
    }
    chapter.figure("03-attention.png") { path throws(PlotError) in
        try ImageGrid.render(images, width: length, height: length, columns: images.count / blocks.count, titles: titles,
                             colorRange: 0...1, to: path, cellSize: 230)
    }
}

/// Saves the model as safetensors, loads it into a fresh model, and checks the predictions agree.
func checkpointRoundTrip(_ chapter: Chapter, model: DigitReverser, test: (digits: [Int], targets: [Int]), config: ReversalConfig) throws {
    chapter.say("""
        Finally the trained model is saved in the safetensors format (an 8-byte header length, a JSON header, \
        raw little-endian floats), which Python opens directly: \
        `python3 Tests/NNTests/Fixtures/check_checkpoint.py checkpoints/ch03-transformer.safetensors`. We load it \
        into a freshly initialized model and compare predictions.
        """)
    let folder = URL(fileURLWithPath: chapter.isQuick ? NSTemporaryDirectory() : "checkpoints")
    let url = folder.appendingPathComponent("ch03-transformer.safetensors")
    try Checkpoint.save(model, metadata: ["chapter": "03-transformer", "placement": model.encoder.blocks[0].placement.rawValue], to: url)
    // The first tensor (in name order) as .npy, so the Python script can check values exactly.
    let first = model.namedParameters.min { $0.name < $1.name }!
    try NPY.write(first.tensor, to: folder.appendingPathComponent("ch03-first-tensor.npy"))
    var rng = RandomGenerator(seed: chapter.options.seed.derived("checkpoint reload"))
    var encoder = config.encoder
    encoder.placement = .preLN
    let fresh = DigitReverser(length: config.length, encoder: encoder, usesPositions: config.usesPositions, using: &rng)
    fresh.eval()
    try Checkpoint.load(url, into: fresh)
    let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    print("  wrote \(url.path) (\(size / 1024) KiB, \(model.namedParameters.count) tensors)")
    let before = Tensor.withoutGradients { model(test.digits, batch: 1000).logits }.scalars
    let after = Tensor.withoutGradients { fresh(test.digits, batch: 1000).logits }.scalars
    chapter.check(before == after, "the reloaded model gives bit-identical logits")
}
