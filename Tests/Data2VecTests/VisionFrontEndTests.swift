// The image front end: patches, positions, masking.
import Autograd
@testable import Data2Vec
import Testing

@Suite("Image front end")
struct VisionFrontEndTests {
    @Test func patchifyCutsRowMajorTiles() {
        // A 4 x 4 image with pixel value = its index, 2 x 2 patches: patch 0 holds pixels 0, 1, 4, 5;
        // patch 1 holds 2, 3, 6, 7; patch 2 holds 8, 9, 12, 13.
        let image = Tensor(shape: [1, 4, 4], (0..<16).map(Float.init))
        let patches = patchify(image, patchSize: 2)
        #expect(patches.shape == [1, 4, 4])
        #expect(patches.scalars == [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15])
    }

    @Test func sinusoidalPositionsAreDistinctAndBounded() {
        let positions = sinusoidalPositions2D(grid: 7, dimension: 32)
        #expect(positions.shape == [49, 32])
        #expect(positions.scalars.allSatisfy { abs($0) <= 1 })
        let rows = (0..<49).map { Array(positions.scalars[($0 * 32)..<($0 * 32 + 32)]) }
        #expect(Set(rows.map { $0.map { ($0 * 1e4).rounded() } }).count == 49)  // every grid cell has its own code
        // Position (0, 0): sin 0 = 0 and cos 0 = 1 in both halves.
        #expect(rows[0][0] == 0 && rows[0][8] == 1 && rows[0][16] == 0 && rows[0][24] == 1)
    }

    @Test func maskedPatchesGetTheMaskEmbeddingPlusTheirPosition() {
        var rng = RandomGenerator(seed: 0)
        let frontEnd = ImagePatchFrontEnd(ImagePatchConfiguration(dimension: 16), using: &rng)
        let images = Tensor.normal([2, 28, 28], using: &rng)
        let inputs = frontEnd.inputs(for: images, using: &rng)
        #expect(inputs.student.shape == [2, 49, 16] && inputs.teacher.shape == [2, 49, 16])
        let mask = inputs.mask
        #expect(mask.maskedCounts.allSatisfy { $0 > 20 && $0 <= 29 })
        // The teacher's view has no graph; the student's does (the front end is trained through it).
        #expect(!inputs.teacher.requiresGradient && inputs.student.requiresGradient)
        #expect(inputs.teacher.scalars == frontEnd.encoderInput(images).scalars)
        let student = inputs.student.scalars, teacher = inputs.teacher.scalars
        let positions = frontEnd.positions.scalars, maskVector = frontEnd.maskEmbedding.scalars
        for b in 0..<2 { for t in 0..<49 { for c in 0..<16 {
            let i = (b * 49 + t) * 16 + c
            if mask.isMasked[b][t] { #expect(abs(student[i] - (maskVector[c] + positions[t * 16 + c])) < 1e-6) }
            else { #expect(student[i] == teacher[i]) }
        } } }
    }
}
