// Chapter 04, section 4: the loss, at the masked positions only.
import Autograd
import ChapterKit
import Data2Vec
import Foundation

extension Chapter04 {
    func lossSection(_ chapter: Chapter, _ config: Data2VecChapterConfig) {
        chapter.section("4. The loss, at the masked positions only")
        chapter.say("""
            The student's final output at each masked position goes through the regression head and is compared \
            with the target there. fairseq sums the per-channel loss over the D channels, averages over the masked \
            positions and multiplies by a scale: speech uses the squared error (`loss_beta: 0`) and the scale \
            1 / sqrt(D); text uses Smooth L1 with beta 4 and the scale 1. data2vec vision (the BEiT code) takes \
            Smooth L1 with beta 2 and the mean over every element, which equals the fairseq form times 1 / D. \
            Positions the student could see do not enter the loss: predicting them would be copying.
            """)
        let prediction = Tensor(shape: [2, 4], [1, 0, 0, 0, 0, 2, 0, 0]), target = Tensor.zeros([2, 4])
        let value = Data2VecLoss(beta: 0)(prediction, target).item
        print("  two masked positions, squared errors summing to 1 and 4 over their D = 4 channels: (1 + 4) / 2 / sqrt(4) = \(value)")
        chapter.check(value == 1.25, "the speech loss is the per-position sum over channels, averaged, times 1/sqrt(D)")
        let text = Data2VecLoss(beta: 4, scale: 1)(prediction, target).item
        print("  the same with text's Smooth L1 (beta 4, |d| < beta: d^2 / 8) and scale 1: (1/8 + 4/8) / 2 = \(text)")
        chapter.check(abs(text - 0.3125) < 1e-7, "text's loss: Smooth L1 with beta 4, summed over channels, averaged, scale 1")
    }
}
