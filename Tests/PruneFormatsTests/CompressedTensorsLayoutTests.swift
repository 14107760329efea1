import Foundation
import PruneCore
@testable import PruneFormats
import Testing

/// The compressed-tensors layouts, checked against hand-computed bytes (what `numpy.packbits(bitorder="little")`,
/// `cumsum` and the 2:4 selection give for these tensors).
@Suite struct CompressedTensorsLayoutTests {
    @Test("sparse-bitmask: values in row-major order, little-endian bit order, row starts")
    func bitmaskByHand() throws {
        // Row 0 [10 columns]: non-zeros at 0, 3, 9 → bits 0 and 3 of byte 0 (0b0000_1001 = 9), bit 1 of byte 1 (2).
        // Row 1: non-zero at 8 only → byte 0 = 0, byte 1 = 1.
        var values = [Float](repeating: 0, count: 20)
        values[0] = 1; values[3] = -2; values[9] = 3; values[18] = 4
        let tensor = Tensor(shape: [2, 10], values: values)
        let form = SparseStorage.bitmask(of: tensor)
        #expect(form.bitmask == [9, 2, 0, 1])
        #expect(form.rowOffsets == [0, 3])
        #expect(form.values == [Float(1), -2, 3, 4].withUnsafeBytes { Array($0) })
    }

    @Test("sparse-24-bitmask: two kept per group of four, zeros filled from the left; nil when a group has three")
    func twoFourByHand() throws {
        // Groups: [0, 5, 0, 6] keeps lanes 1, 3; [0, 0, 0, 7] keeps lanes 0 (a zero), 3.
        let tensor = Tensor(shape: [1, 8], values: [0, 5, 0, 6, 0, 0, 0, 7])
        let form = try #require(SparseStorage.twoFour(of: tensor))
        // Kept positions 1, 3, 4, 7 → 0b1001_1010 = 154.
        #expect(form.bitmask == [154])
        #expect(form.values == [Float(5), 6, 0, 7].withUnsafeBytes { Array($0) })
        #expect(SparseStorage.twoFour(of: Tensor(shape: [1, 4], values: [1, 2, 3, 0])) == nil)
        #expect(SparseStorage.twoFour(of: Tensor(shape: [1, 6], values: [1, 0, 0, 0, 0, 0])) == nil)
    }

    @Test("The writer names the parts as the library does, and inspect reads them back")
    func writesAndInspects() throws {
        let directory = try TemporaryDirectory()
        let model = try Model(parameters: [
            Parameter(name: "layer.weight", tensor: Tensor(shape: [2, 10], values: (0..<20).map { $0 % 3 == 0 ? 0 : Float($0) })),
            Parameter(name: "layer.bias", tensor: Tensor(shape: [2], values: [0, 1])),
        ])
        let url = directory.url.appending(path: "model.safetensors")
        let summary = try SafetensorsWriter.write(model, to: url, options: WriteOptions(storage: .sparse), sources: [])
        #expect(summary.tensors.map(\.format) == ["sparse-bitmask", "dense"])
        let written = try SafetensorsDocument(url: url)
        #expect(written.model.parameters.map(\.name) == [
            "layer.shape", "layer.compressed", "layer.bitmask", "layer.row_offsets", "layer.bias",
        ])
        #expect(try written.model.parameter(named: "layer.shape").tensor.dtype == .i64)
        #expect(try written.model.parameter(named: "layer.compressed").tensor.shape == [13])
        let section = try #require(written.inspectionSections().first)
        // 13 non-zeros of 20: 7 zeros (0, 3, 6, 9, 12, 15, 18); 13 × 4 + 2 × 2 + 2 × 8 + 2 × 8 bytes.
        #expect(section.rows == [["layer.weight", "sparse-bitmask", "F32", "[2, 10]", "13", "35.00%", "88", "80"]])
        let config = try String(contentsOf: directory.url.appending(path: "config.json"), encoding: .utf8)
        #expect(config.contains("\"sparse-bitmask\""))
        #expect(!written.warnings.isEmpty)
    }
}
