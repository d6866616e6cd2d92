// Block masking of BEiT and data2vec vision: `MaskingGenerator` (BEiT and data2vec vision `beit/masking_generator.py`).
// Rectangles of patches are added until about `targetCount` patches of the grid are masked:
//   repeat while masked < target (and the last round added something):
//     up to 10 attempts: area ~ U(minimumBlock, min(target - masked, maximumBlock)),
//       aspect = exp(U(log r, log 1/r)), h = round(sqrt(area * aspect)), w = round(sqrt(area / aspect));
//       if the block fits (h < rows, w < columns): random top-left; accept it when it adds between 1 and
//       (target - masked) new patches; stop attempting once a block was added.
// The count per image therefore varies a little around the target (BEiT: 120 of 196 -> mean 119.5).
import Foundation
import Autograd

/// BEiT's block masking of a grid of patches (`MaskingGenerator`).
public struct BlockMasking: Sendable {
    /// The grid (7 x 7 for 4 x 4 patches of MNIST).
    public var rows: Int, columns: Int
    /// `num_mask_patches`: masked patches to aim for (data2vec: 60% of the grid).
    public var targetCount: Int
    /// `min_mask_patches_per_block` (data2vec: 16 of 196 patches; scaled to the grid here by the caller).
    public var minimumBlock: Int
    /// `max_mask_patches_per_block` (default: no limit).
    public var maximumBlock: Int
    /// Aspect ratios are drawn log-uniformly from [minimumAspect, 1 / minimumAspect] (BEiT: 0.3).
    public var minimumAspect: Double

    /// Block masking of a rows x columns grid aiming at `targetCount` patches.
    public init(rows: Int, columns: Int, targetCount: Int, minimumBlock: Int = 4, maximumBlock: Int? = nil, minimumAspect: Double = 0.3) {
        require(targetCount <= rows * columns, "BlockMasking: cannot mask \(targetCount) of \(rows * columns) patches")
        self.rows = rows
        self.columns = columns
        self.targetCount = targetCount
        self.minimumBlock = minimumBlock
        self.maximumBlock = maximumBlock ?? rows * columns
        self.minimumAspect = minimumAspect
    }

    /// One mask per image, flattened row-major over the grid (length rows * columns).
    public func callAsFunction(batchSize: Int, using rng: inout RandomGenerator) -> Mask {
        Mask((0..<batchSize).map { _ in single(using: &rng) })
    }

    func single(using rng: inout RandomGenerator) -> [Bool] {
        var grid = [Bool](repeating: false, count: rows * columns)
        var count = 0
        while count < targetCount {
            let added = addBlock(&grid, limit: min(targetCount - count, maximumBlock), using: &rng)
            if added == 0 { break }
            count += added
        }
        return grid
    }

    /// Tries up to 10 blocks; returns how many new patches the accepted one masked (0 if none).
    func addBlock(_ grid: inout [Bool], limit: Int, using rng: inout RandomGenerator) -> Int {
        for _ in 0..<10 {
            let area = Double(minimumBlock) + (Double(limit) - Double(minimumBlock)) * rng.uniformDouble()
            let aspect = exp(log(minimumAspect) + (log(1 / minimumAspect) - log(minimumAspect)) * rng.uniformDouble())
            let h = Int((area * aspect).squareRoot().rounded()), w = Int((area / aspect).squareRoot().rounded())
            guard h < rows && w < columns else { continue }
            let top = rng.int(below: rows - h + 1), left = rng.int(below: columns - w + 1)
            var new = 0
            for r in top..<(top + h) { for c in left..<(left + w) where !grid[r * columns + c] { new += 1 } }
            if new > 0 && new <= limit {
                for r in top..<(top + h) { for c in left..<(left + w) { grid[r * columns + c] = true } }
                return new
            }
        }
        return 0
    }
}
