// Sections 1-4 of chapter 04: masking, the teacher's schedule, targets, the loss.
import Autograd
import ChapterKit
import Data2Vec
import Foundation
import NN
import Plot

func maskingPolicies(_ chapter: Chapter) {
    chapter.section("1. What the student does not see: three masking policies")
    chapter.say("""
        Speech (fairseq's compute_mask_indices): each frame starts a span of l = 10 frames with probability \
        p / l, p = 0.65; spans overlap, so about 49% of the frames end up masked (paper section 4.2). Images \
        (BEiT's block masking): rectangles of at least a few patches are added until about 60% of the grid is \
        masked. Text (BERT): 15% of the tokens are chosen; 80% of those become <mask>, 10% a random token, 10% \
        stay as they are.
        """)
    var rng = RandomGenerator(seed: chapter.options.seed)
    let span = SpanMasking(probability: 0.65, spanLength: 10, sameCountPerRow: false)
    var ratios: [String] = [], worst = 0.0
    for length in [100, 200, 500, 1000] {
        let draws = chapter.isQuick ? 50 : 400
        let ratio = (0..<draws).map { _ in span(batchSize: 1, length: length, using: &rng).ratio }.reduce(0, +) / Double(draws)
        ratios.append(String(format: "T = %d: %.1f%%", length, 100 * ratio))
        worst = max(worst, abs(ratio - 0.49))
    }
    print("  span masking, masked fraction: " + ratios.joined(separator: ", "))
    chapter.check(worst < 0.03, "span masking with p = 0.65, l = 10 masks 49% +- 3 points of the frames at every length")

    let blocks = BlockMasking(rows: 7, columns: 7, targetCount: 29, minimumBlock: 4)
    let blockMasks = blocks(batchSize: 1000, using: &rng)
    let meanCount = Double(blockMasks.maskedCounts.reduce(0, +)) / 1000
    print(String(format: "  block masking on the 7 x 7 grid, target 29: %.1f patches masked on average (%.1f%%)", meanCount, 100 * meanCount / 49))
    chapter.check(meanCount > 26 && meanCount <= 29, "block masking masks close to its target of 29 of 49 patches (about 60%)")

    let bert = BERTMasking(maskToken: 3, vocabularySize: 30, specialTokens: [0, 1, 2])
    let sentence = [0, 11, 17, 24, 8, 29, 13, 5, 21, 9, 16, 27, 6, 19, 10, 2]
    let result = bert(Array(repeating: sentence, count: 2000), using: &rng)
    let chosen = result.selected.maskedCounts.reduce(0, +), shown = result.showsMaskToken.maskedCounts.reduce(0, +)
    let eligible = 2000 * (sentence.count - 2)
    print("  BERT masking of one sentence (3 = <mask>):")
    print("    original: \(sentence.map(String.init).joined(separator: " "))")
    print("    student:  \(result.tokens[0].map(String.init).joined(separator: " "))")
    print(String(format: "  over 2,000 copies: %.1f%% of the ordinary tokens chosen, %.1f%% of those shown as <mask>",
                 100 * Double(chosen) / Double(eligible), 100 * Double(shown) / Double(chosen)))
    chapter.check(abs(Double(chosen) / Double(eligible) - 0.15) < 0.01 && abs(Double(shown) / Double(chosen) - 0.8) < 0.03,
                  "BERT masking chooses 15% of the tokens and shows <mask> at 80% of them")

    chapter.figure("04-span-masks.png") { path throws(PlotError) in
        var rowsRng = RandomGenerator(seed: chapter.options.seed &+ 1)
        let mask = SpanMasking(probability: 0.65, spanLength: 10)(batchSize: 12, length: 200, using: &rowsRng)
        var figure = Figure(title: "Span masking (p = 0.65, l = 10): 12 sequences of 200 frames, masked frames in red",
                            xLabel: "frame", yLabel: "sequence")
        figure.add(.heatmap(values: mask.isMasked.map { $0.map { $0 ? 1.0 : 0.0 } }, xRange: 0...199, yRange: 0...11))
        figure.extraSettings = ["unset colorbox", "set cbrange [0:1]", "unset key"]
        figure.xRange = -0.5...199.5
        figure.yRange = -0.5...11.5
        figure.height = 320
        try figure.render(to: path)
    }
    chapter.figure("04-block-masks.png") { path throws(PlotError) in
        let images = (0..<8).map { blockMasks.isMasked[$0].map { $0 ? Float(1) : 0 } }
        try ImageGrid.render(images, width: 7, height: 7, columns: 8,
                             titles: (0..<8).map { "\(blockMasks.maskedCounts[$0]) of 49 masked (white)" }, to: path, cellSize: 150)
    }
}

func teacherSchedule(_ chapter: Chapter) {
    chapter.section("2. The teacher: an exponential moving average of the student")
    chapter.say("""
        After every optimizer step, teacher <- tau * teacher + (1 - tau) * student. A weight of the teacher is \
        therefore an average of the student's recent values, with a memory of about 1 / (1 - tau) updates: \
        1,000 updates at tau = 0.999, 10,000 at 0.9999. data2vec raises tau linearly from tau0 to tauEnd over the \
        first tauN updates (speech: 0.999 -> 0.9999 over 30,000), so the teacher follows a fast-changing \
        student early on and becomes a slow, stable target later.
        """)
    // EMA arithmetic: teacher 0, student fixed at 1, tau 0.9: after n updates the teacher is 1 - 0.9^n.
    var rng = RandomGenerator(seed: 0)
    let student = Linear(1, 1, bias: false, using: &rng), copy = Linear(1, 1, bias: false, using: &rng)
    student.weight.storage.pointer[0] = 1
    let teacher = EMATeacher(student: student, copy: copy, schedule: .constant(0.9))
    teacher.model.weight.storage.pointer[0] = 0
    for _ in 0..<10 { teacher.update(from: student) }
    let value = teacher.model.weight.item
    print(String(format: "  teacher 0, student 1, tau 0.9: after 10 updates the teacher is %.4f = 1 - 0.9^10 = %.4f", value, 1 - pow(0.9, 10)))
    chapter.check(abs(value - Float(1 - pow(0.9, 10))) < 1e-6, "the EMA update follows tau * teacher + (1 - tau) * student")
    let speech = EMASchedule(start: 0.999, end: 0.9999, annealSteps: 30_000)
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

func targetConstruction(_ chapter: Chapter) {
    chapter.section("3. Building a target from the teacher's top K blocks")
    chapter.say("""
        The teacher encodes the unmasked input. From each of its top K blocks we take the FFN output before the \
        last residual connection, normalize it without learned parameters (speech: instance norm over time; \
        text and vision: layer norm over channels), and average. Without the normalization, blocks whose \
        outputs are large would dominate the average. Here: a random 4-block post-LN encoder on 2 signals.
        """)
    var rng = RandomGenerator(seed: chapter.options.seed &+ 5)
    let encoder = TransformerEncoder(blockCount: 4, dimension: 32, headCount: 4, feedForwardDimension: 128, placement: .postLN, using: &rng)
    encoder.eval()
    // Give the blocks different scales, as trained networks have.
    for (i, block) in encoder.blocks.enumerated() { let w = block.fc2.weight; for j in 0..<w.count { w.storage.pointer[j] *= Float(1 << i) } }
    let x = sinusoidBatch(batch: 2, length: 40, features: 32, using: &rng)
    let blocks = Tensor.withoutGradients { encoder(x, recordBlocks: true).blocks }
    let raw = blocks.map { $0.feedForward.variance().item.squareRoot() }
    let normalized = blocks.map { instanceNorm($0.feedForward).variance().item.squareRoot() }
    print("  std of each block's FFN output:        " + raw.map { String(format: "%7.3f", $0) }.joined())
    print("  after instance norm over time:         " + normalized.map { String(format: "%7.3f", $0) }.joined())
    let target = TargetBuilder(topK: 4, layerwise: .instance)(blocks)
    print("  target: shape \(target.shape), the average of the 4 normalized blocks")
    chapter.check(raw.max()! > 4 * raw.min()! && normalized.allSatisfy { abs($0 - 1) < 0.01 },
                  "blocks differ in scale by more than 4x; after normalization each has unit scale and counts equally")
}

func lossSection(_ chapter: Chapter) {
    chapter.section("4. The loss, at the masked positions only")
    chapter.say("""
        The student's final output at each masked position goes through the regression head (a Linear layer) \
        and is compared with the target there: squared error summed over the D channels (speech; Smooth L1 with \
        beta for text and vision), averaged over the masked positions, scaled by 1 / sqrt(D). Positions the \
        student could see do not enter the loss: predicting them would be copying.
        """)
    let prediction = Tensor(shape: [2, 4], [1, 0, 0, 0, 0, 2, 0, 0]), target = Tensor.zeros([2, 4])
    let value = Data2VecLoss(beta: 0)(prediction, target).item
    print("  two masked positions with squared errors summing to 1 and 4 per position: (1 + 4) / 2 / sqrt(4) = \(value)")
    chapter.check(value == 1.25, "the loss is the per-position sum over channels, averaged, times 1/sqrt(D)")
}
