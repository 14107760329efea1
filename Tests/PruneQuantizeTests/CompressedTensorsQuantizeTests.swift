import Foundation
import PruneFormats
import PruneKit
import PruneQuantize
import Testing

/// `quantize` on a safetensors model (no graph): compressed-tensors' `int-quantized` and `pack-quantized` parts, checked
/// against values worked out by hand.
@Suite struct CompressedTensorsQuantizeTests {
    static func model(_ name: String, shape: [Int], values: [Float]) throws -> Model {
        try Model(parameters: [
            Parameter(name: name, tensor: Tensor(shape: shape, values: values), layout: .pytorch),
            Parameter(name: "fc.bias", tensor: Tensor(shape: [shape[0]], values: Array(repeating: 0.5, count: shape[0]))),
        ])
    }

    static func selectAll(_ name: String, in model: Model, pruning: [Int] = []) throws -> Selection {
        let parameter = try model.parameter(named: name)
        return Selection(entries: [
            .init(
                target: .elements(of: parameter),
                decision: .prune(Mask(count: parameter.tensor.elementCount, setting: pruning)))
        ])
    }

    static func int32s(_ tensor: Tensor) -> [Int32] {
        (0..<tensor.elementCount).map { tensor.bytes.raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self) }
    }

    @Test("int8 per channel: p.weight holds the levels, p.weight_scale [rows, 1] the scales")
    func int8ByHand() throws {
        // Row 0: max 127·2⁻⁷ → scale 2⁻⁷: 0.9921875 → 127, −0.5 → −64, 0.01171875 = 1.5 steps → 2 (half to even), 0 → 0.
        // Row 1: max 127·2⁻⁶ → scale 2⁻⁶: −127, 0.03125 → 2, 0.0234375 = 1.5 → 2, 0.0078125 = 0.5 → 0.
        let model = try Self.model(
            "fc.weight", shape: [2, 4],
            values: [0.9921875, -0.5, 0.01171875, 0, -1.984375, 0.03125, 0.0234375, 0.0078125])
        let result = try QuantizeRewriter(scheme: try WeightQuantization(bits: 8, groupSize: 0))
            .rewrite(model, applying: try Self.selectAll("fc.weight", in: model), in: PruneContext(model: model, threads: 1))
        let levels = try result.model.parameter(named: "fc.weight").tensor
        #expect(levels.dtype == .i8)
        #expect(levels.shape == [2, 4])
        #expect(Array(levels.bytes.raw).map { Int8(bitPattern: $0) } == [127, -64, 2, 0, -127, 2, 2, 0])
        let scale = try result.model.parameter(named: "fc.weight_scale").tensor
        #expect(scale.shape == [2, 1])
        #expect(scale.floatValues() == [0.0078125, 0.015625])
        let record = try #require(result.model.quantizedWeights["fc.weight"])
        #expect(record.format == "int-quantized")
        #expect(record.parts == ["fc.weight", "fc.weight_scale"])
        #expect(record.zeros == 2)
        #expect(result.model["fc.bias"]?.tensor.floatValues() == [0.5, 0.5])
    }

    @Test("int4 in groups: eight levels + 8 per int32 word, first column lowest; scales [rows, groups]; weight_shape")
    func int4PackedByHand() throws {
        // Groups of 5 columns. Row 0, group 0: max 0.875 → scale 0.125: [7, −4 (−3.5 to even), 1, 0, 2];
        // group 1: max 1.75 → scale 0.25: [7, 1, −7, 3, −2]. Nibbles (level + 8): 15 4 9 8 10 | 15 9 1 11 6.
        // Word 0 (columns 0–7, lowest first) = 0x19FA894F; word 1 (columns 8, 9) = 0x6B. Row 1 is zero (scale 1):
        // nibble 8 everywhere, 0x88888888 and 0x88 (padding bits stay 0). Column 3 of row 0 is pruned (it is 0).
        let row0: [Float] = [0.875, -0.4375, 0.125, 0.3, 0.25, 1.75, 0.25, -1.75, 0.75, -0.5]
        let model = try Self.model("fc.weight", shape: [2, 10], values: row0 + Array(repeating: 0, count: 10))
        let result = try QuantizeRewriter(scheme: try WeightQuantization(bits: 4, groupSize: 5))
            .rewrite(
                model, applying: try Self.selectAll("fc.weight", in: model, pruning: [3]),
                in: PruneContext(model: model, threads: 1))
        #expect(result.model["fc.weight"] == nil)
        let packed = try result.model.parameter(named: "fc.weight_packed").tensor
        #expect(packed.dtype == .i32)
        #expect(packed.shape == [2, 2])
        #expect(Self.int32s(packed) == [0x19FA_894F, 0x6B, Int32(bitPattern: 0x8888_8888), 0x88])
        let scale = try result.model.parameter(named: "fc.weight_scale").tensor
        #expect(scale.shape == [2, 2])
        #expect(scale.floatValues() == [0.125, 0.25, 1, 1])
        let shape = try result.model.parameter(named: "fc.weight_shape").tensor
        #expect(shape.dtype == .i64)
        #expect((0..<2).map { shape.bytes.raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) } == [2, 10])
        #expect(result.model.quantizedWeights["fc.weight"]?.zeros == 11)
        #expect(
            CompressedTensorsQuantization.unpackInt32(Self.int32s(packed), rows: 2, columns: 10, bits: 4).prefix(10)
                == [7, -4, 1, 0, 2, 7, 1, -7, 3, -2])
    }

    @Test("What compressed-tensors cannot read is refused, naming the weight")
    func refusals() throws {
        let ragged = try Self.model("fc.weight", shape: [2, 10], values: (0..<20).map { Float($0) })
        let grouped = QuantizeRewriter(scheme: try WeightQuantization(bits: 4, groupSize: 4))
        let error = try #require(throws: PruneError.self) {
            try grouped.rewrite(
                ragged, applying: try Self.selectAll("fc.weight", in: ragged), in: PruneContext(model: ragged, threads: 1))
        }
        #expect(error.message.contains("'fc.weight' has 10 columns, not a multiple of group=4"), "\(error.message)")

        let conv = try Self.model("conv.weight", shape: [2, 1, 3, 3], values: (0..<18).map { Float($0) })
        let int8 = QuantizeRewriter(scheme: try WeightQuantization(bits: 8, groupSize: 0))
        let rank = try #require(throws: PruneError.self) {
            try int8.rewrite(conv, applying: try Self.selectAll("conv.weight", in: conv), in: PruneContext(model: conv, threads: 1))
        }
        #expect(rank.message.contains("'conv.weight' has rank 4"), "\(rank.message)")

        let unnamed = try Self.model("W1", shape: [2, 4], values: (0..<8).map { Float($0) })
        let name = try #require(throws: PruneError.self) {
            try int8.rewrite(unnamed, applying: try Self.selectAll("W1", in: unnamed), in: PruneContext(model: unnamed, threads: 1))
        }
        #expect(name.message.contains("'W1' is not named '<module>.weight'"), "\(name.message)")
    }
}
