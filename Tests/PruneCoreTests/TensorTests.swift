import Testing

@testable import PruneCore

@Suite("Tensors and masks")
struct TensorTests {
    @Test func halfPrecisionBitPatternsWidenExactly() {
        // Values from the IEEE 754 binary16 and bfloat16 definitions.
        #expect(HalfPrecision.float(fromHalfBits: 0x3C00) == 1)
        #expect(HalfPrecision.float(fromHalfBits: 0xC000) == -2)
        #expect(HalfPrecision.float(fromHalfBits: 0x7BFF) == 65504)
        #expect(HalfPrecision.float(fromHalfBits: 0x0001) == 0x1p-24)
        #expect(HalfPrecision.float(fromHalfBits: 0x0400) == 0x1p-14)
        #expect(HalfPrecision.float(fromHalfBits: 0x8000).sign == .minus)
        #expect(HalfPrecision.float(fromHalfBits: 0x7C00) == .infinity)
        #expect(HalfPrecision.float(fromHalfBits: 0x7E00).isNaN)
        #expect(HalfPrecision.float(fromBFloat16Bits: 0x3F80) == 1)
        #expect(HalfPrecision.float(fromBFloat16Bits: 0xC0A0) == -5)
    }

    @Test func readsEveryDtypeAsFloat() throws {
        let cases: [(DType, [UInt8], [Float])] = [
            (.f16, [0x00, 0x3C, 0x00, 0xC0], [1, -2]),
            (.bf16, [0x80, 0x3F, 0xA0, 0xC0], [1, -5]),
            (.f64, [0, 0, 0, 0, 0, 0, 0xF8, 0x3F], [1.5]),
            (.i64, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [-2]),
            (.i32, [7, 0, 0, 0], [7]),
            (.i16, [0xFF, 0xFF], [-1]),
            (.i8, [0x80], [-128]),
            (.u8, [0xFF], [255]),
            (.bool, [0, 1, 2], [0, 1, 1]),
        ]
        for (dtype, bytes, expected) in cases {
            let tensor = try Tensor(dtype: dtype, shape: [expected.count], bytes: bytes)
            #expect(tensor.floatValues() == expected, "\(dtype)")
        }
    }

    @Test func zeroingIsLazyKeepsDtypeAndComposes() throws {
        let tensor = try Tensor(dtype: .f16, shape: [2, 2], bytes: [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x3C, 0x00, 0x3C])
        let once = tensor.zeroing(Mask(count: 4, setting: [1]))
        let twice = once.zeroing(Mask(count: 4, setting: [3]))
        #expect(tensor.floatValues() == [1, -2, 1, 1])
        #expect(twice.floatValues() == [1, 0, 1, 0])
        #expect(twice.dtype == .f16 && !twice.isUnmodified && tensor.isUnmodified)
        var bytes: [UInt8] = []
        twice.forEachByteChunk(maxChunkBytes: 2) { bytes += $0 }
        #expect(bytes == [0x00, 0x3C, 0, 0, 0x00, 0x3C, 0, 0])
        #expect(twice.zeroCount() == 2)
    }

    @Test func masksCountAndListSetPositions() {
        var mask = Mask(count: 130)
        for i in [0, 63, 64, 129] { mask[i] = true }
        #expect(mask.setCount == 4)
        #expect(mask.setIndices == [0, 63, 64, 129])
        #expect(mask.union(Mask(count: 130, setting: [1])).setCount == 5)
    }

    @Test func zeroCountingHandlesNegativeZeroAndTails() {
        let values: [Float] = (0..<37).map { $0 % 3 == 0 ? ($0 % 2 == 0 ? 0 : -0.0) : Float($0) }
        let tensor = Tensor(shape: [37], values: values)
        #expect(tensor.zeroCount() == values.filter { $0 == 0 }.count)
    }

    @Test func float32FastPathsAgreeWithElementByElementResults() {
        // 1000 values (not a multiple of 64), some already zero, masked at every third position.
        let values: [Float] = (0..<1000).map { $0 % 7 == 0 ? 0 : Float($0) - 500 }
        let mask = Mask(count: 1000, setting: stride(from: 0, to: 1000, by: 3))
        let masked = Tensor(shape: [1000], values: values).zeroing(mask)
        let expected = values.enumerated().map { $0.offset % 3 == 0 ? Float(0) : $0.element }
        #expect(masked.zeroCount() == expected.filter { $0 == 0 }.count)
        var bytes: [UInt8] = []
        masked.forEachByteChunk(maxChunkBytes: 512) { bytes += $0 }
        let floats = stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(
                bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(
                    bytes[i + 3]) << 24)
        }
        #expect(floats == expected)
    }
}
