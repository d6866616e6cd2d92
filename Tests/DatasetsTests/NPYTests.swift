// .npy reading and writing: round trips for every supported dtype, a byte-exact file as NumPy writes
// it, and clear errors (never a crash) for damaged files.
import Autograd
@testable import Datasets
import Foundation
import Testing

@Suite("NPY format")
struct NPYTests {
    func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("npy-tests-\(UUID().uuidString)-\(name)")
    }

    @Test func roundTripsEveryDType() throws {
        let arrays = [
            NPYArray(shape: [2, 3], floats: [1.5, -2, 0, 3.25, 1e-8, -1e8]),
            NPYArray(shape: [4], uint8: [0, 1, 128, 255]),
            NPYArray(shape: [2, 2], int16: [-32768, -1, 0, 32767]),
            NPYArray(shape: [3], int64: [-5, 0, 1 << 40]),
            NPYArray(shape: [], floats: [42]),
            NPYArray(shape: [0, 3], floats: []),
        ]
        for array in arrays {
            let url = temporaryURL("a.npy")
            try NPY.write(array, to: url)
            #expect(try NPY.read(url) == array)
            try? FileManager.default.removeItem(at: url)
        }
        #expect(try NPYArray(shape: [3], int64: [-5, 0, 1 << 40]).integers() == [-5, 0, 1 << 40])
        #expect(NPYArray(shape: [2, 2], int16: [-32768, -1, 0, 32767]).floats() == [-32768, -1, 0, 32767])
    }

    @Test func bytesAreWhatNumPyWrites() {
        // Fixture: NumPy 2.4's `np.save` of np.array([[1, 2], [3, 4]], dtype=np.uint8) is 132 bytes:
        // magic, version 1.0, header length 118 (0x76), the dict padded with spaces to byte 127, "\n", data.
        let u8 = NPY.encode(NPYArray(shape: [2, 2], uint8: [1, 2, 3, 4]))
        let dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }"
        let expected = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0x76, 0] + Array(dict.utf8)
            + [UInt8](repeating: 0x20, count: 127 - 10 - dict.utf8.count) + [0x0A, 1, 2, 3, 4]
        #expect(Array(u8) == expected)
        // np.save(np.array([1.5, -2], dtype='<f4')): 136 bytes ending in 0000c03f 000000c0 (little-endian floats).
        let f4 = NPY.encode(NPYArray(shape: [2], floats: [1.5, -2]))
        #expect(f4.count == 136 && f4[8] == 0x76)
        #expect(String(decoding: f4[10..<70], as: UTF8.self).hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"))
        #expect(Array(f4.suffix(8)) == [0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0])
    }

    @Test func readsTensors() throws {
        let url = temporaryURL("t.npy")
        try NPY.write(Tensor(shape: [2, 2], [1, 2, 3, 4]), to: url)
        let t = try NPY.readTensor(url)
        #expect(t.shape == [2, 2] && t.scalars == [1, 2, 3, 4])
        try? FileManager.default.removeItem(at: url)
    }

    @Test func missingFileSaysWhereToLook() {
        #expect(throws: NPYError.missingFile(path: "/nonexistent/x.npy")) { try NPY.read(URL(fileURLWithPath: "/nonexistent/x.npy")) }
        #expect(NPYError.missingFile(path: "p").description.contains("--data-dir"))
    }

    @Test func badMagicIsReported() {
        #expect(throws: NPYError.badMagic(path: "array")) { try NPY.decode(Data("hello, not numpy".utf8)) }
        #expect(throws: NPYError.badMagic(path: "array")) { try NPY.decode(Data()) }
    }

    @Test func truncatedDataIsReported() {
        let full = NPY.encode(NPYArray(shape: [10], floats: Array(repeating: 1, count: 10)))
        #expect(throws: NPYError.truncated(path: "array", expectedBytes: 40, foundBytes: 36)) {
            try NPY.decode(full.prefix(full.count - 4))
        }
        // Cut inside the header.
        #expect(throws: NPYError.self) { try NPY.decode(full.prefix(30)) }
    }

    @Test func unsupportedDTypeAndLayoutAreReported() {
        func file(header: String) -> Data {
            var h = header
            h += String(repeating: " ", count: (64 - (10 + h.utf8.count + 1) % 64) % 64) + "\n"
            return Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.utf8.count), 0]) + Data(h.utf8) + Data(count: 64)
        }
        #expect(throws: NPYError.unsupportedDType(path: "array", descr: "<f8")) {
            try NPY.decode(file(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"))
        }
        #expect(throws: NPYError.unsupportedDType(path: "array", descr: ">f4")) {
            try NPY.decode(file(header: "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"))
        }
        #expect(throws: NPYError.fortranOrder(path: "array")) {
            try NPY.decode(file(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"))
        }
        #expect(throws: NPYError.self) { try NPY.decode(file(header: "{'descr': '<f4', 'fortran_order': False, }")) }
        #expect(throws: NPYError.self) { try NPY.decode(file(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }")) }
        var version2 = file(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }")
        version2[6] = 2
        #expect(throws: NPYError.unsupportedVersion(path: "array", major: 2, minor: 0)) { try NPY.decode(version2) }
    }

    @Test func floatLabelsAreNotSilentlyConverted() {
        #expect(throws: NPYError.self) { try NPYArray(shape: [1], floats: [1]).integers() }
    }

    @Test func writingLeavesNoTemporaryFiles() throws {
        let folder = temporaryURL("folder")
        try NPY.write(NPYArray(shape: [1], floats: [1]), to: folder.appendingPathComponent("x.npy"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["x.npy"])
        try? FileManager.default.removeItem(at: folder)
    }
}
