/// Small vectorised loops shared by the core (counting, scanning); see `SWIFT-NOTES.md` for why they look so.
package enum Kernels {
    /// The number of elements equal to zero, counted 16 lanes at a time without branches.
    package static func countZeros(_ values: UnsafeBufferPointer<Float>) -> Int {
        countWhere(values) {
            $0 .== SIMD16<Float>(repeating: 0)
        } scalar: {
            $0 == 0
        }
    }

    /// The number of positions that are zero or set in `mask` (bit `i & 63` of word `i >> 6` is position `i`).
    package static func countZeros(_ values: UnsafeBufferPointer<Float>, orMasked mask: UnsafeBufferPointer<UInt64>)
        -> Int
    {
        guard let base = values.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        let count = values.count
        let zero = SIMD16<Float>(repeating: 0)
        var total = 0
        var w = 0
        var i = 0
        while i &+ 64 <= count {
            var word = mask[w]
            for quarter in 0..<4 {
                let v = raw.loadUnaligned(fromByteOffset: (i &+ quarter &* 16) &* 4, as: SIMD16<Float>.self)
                word |= sixteenBits(v .== zero) << UInt64(quarter &* 16)
            }
            total &+= word.nonzeroBitCount
            w &+= 1
            i &+= 64
        }
        while i < count {
            if base[i] == 0 || mask[i >> 6] & (1 << UInt64(i & 63)) != 0 { total &+= 1 }
            i &+= 1
        }
        return total
    }

    /// Lane weights that turn a 16-lane comparison into a 16-bit mask.
    private static let laneBits = SIMD16<Int32>(
        1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)

    /// The 16 lanes of a comparison as the low 16 bits of a word (lane 0 in bit 0).
    @inline(__always)
    package static func sixteenBits(_ lanes: SIMDMask<SIMD16<Int32>>) -> UInt64 {
        UInt64(UInt32(bitPattern: (unsafeBitCast(lanes, to: SIMD16<Int32>.self) & laneBits).wrappedSum()))
    }

    /// The SIMD mask whose lane `k` is bit `k` of `bits`.
    @inline(__always)
    package static func lanes(fromBits bits: UInt64) -> SIMDMask<SIMD16<Int32>> {
        (SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: bits)) & laneBits) .!= SIMD16<Int32>(repeating: 0)
    }

    /// The number of elements `v` with `v <= threshold`.
    package static func countAtMost(_ values: UnsafeBufferPointer<Float>, _ threshold: Float) -> Int {
        let limit = SIMD16<Float>(repeating: threshold)
        return countWhere(values) {
            $0 .<= limit
        } scalar: {
            $0 <= threshold
        }
    }

    /// The number of elements `v` with `v < threshold`.
    package static func countBelow(_ values: UnsafeBufferPointer<Float>, _ threshold: Float) -> Int {
        let limit = SIMD16<Float>(repeating: threshold)
        return countWhere(values) {
            $0 .< limit
        } scalar: {
            $0 < threshold
        }
    }

    @inline(__always)
    private static func countWhere(
        _ values: UnsafeBufferPointer<Float>, _ vector: (SIMD16<Float>) -> SIMDMask<SIMD16<Int32>>,
        scalar: (Float) -> Bool
    ) -> Int {
        guard let base = values.baseAddress else { return 0 }
        let count = values.count
        let raw = UnsafeRawPointer(base)
        var lanes = SIMD16<Int32>(repeating: 0)
        var total = 0
        var i = 0
        // Lane counters are flushed every 2^20 blocks so they never overflow.
        while i &+ 16 <= count {
            let blockEnd = min(count, i &+ (16 << 20))
            while i &+ 16 <= blockEnd {
                let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
                lanes &-= unsafeBitCast(vector(v), to: SIMD16<Int32>.self)  // true lanes are -1
                i &+= 16
            }
            total &+= Int(lanes.wrappedSum())
            lanes = SIMD16<Int32>(repeating: 0)
        }
        while i < count {
            if scalar(base[i]) { total &+= 1 }
            i &+= 1
        }
        return total
    }
}
