import PruneCore

/// Vectorised passes over score arrays: 16 lanes at a time, branch-free in the common case.
package enum ScoreScan {
    /// Lane weights that turn a 16-lane comparison into a 16-bit mask.
    private static let laneBits = SIMD16<Int32>(
        1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)

    /// Counts values below `low` and appends the values in `[low, high]` to `inside`.
    package static func countBelowCollecting(
        _ values: UnsafeBufferPointer<Float>, low: Float, high: Float, into inside: inout [Float]
    ) -> Int {
        guard let base = values.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        let count = values.count
        let lowV = SIMD16<Float>(repeating: low)
        let highV = SIMD16<Float>(repeating: high)
        var below = 0
        var lanes = SIMD16<Int32>(repeating: 0)
        var i = 0
        var block = 0
        while i &+ 16 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            lanes &-= unsafeBitCast(v .< lowV, to: SIMD16<Int32>.self)
            let inWindow = (v .>= lowV) .& (v .<= highV)
            if any(inWindow) {
                for lane in 0..<16 where inWindow[lane] { inside.append(v[lane]) }
            }
            i &+= 16
            block &+= 1
            if block == 1 << 24 {
                below &+= Int(lanes.wrappedSum())
                lanes = SIMD16<Int32>(repeating: 0)
                block = 0
            }
        }
        below &+= Int(lanes.wrappedSum())
        while i < count {
            let v = base[i]
            if v < low { below &+= 1 } else if v <= high { inside.append(v) }
            i &+= 1
        }
        return below
    }

    /// Sets the mask bit of every value below `threshold`; returns how many were set.
    package static func setBelow(_ threshold: Float, in values: UnsafeBufferPointer<Float>, mask: inout Mask) -> Int {
        guard let base = values.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        let count = values.count
        let limit = SIMD16<Float>(repeating: threshold)
        var total = 0
        mask.withMutableWords { words in
            var w = 0
            var i = 0
            while i &+ 64 <= count {
                var word: UInt64 = 0
                for quarter in 0..<4 {
                    let v = raw.loadUnaligned(fromByteOffset: (i &+ quarter &* 16) &* 4, as: SIMD16<Float>.self)
                    let bits = unsafeBitCast(v .< limit, to: SIMD16<Int32>.self) & laneBits
                    word |= UInt64(UInt32(bitPattern: bits.wrappedSum())) << UInt64(quarter &* 16)
                }
                words[w] |= word
                total &+= word.nonzeroBitCount
                w &+= 1
                i &+= 64
            }
            while i < count {
                if base[i] < threshold {
                    words[i >> 6] |= 1 << UInt64(i & 63)
                    total &+= 1
                }
                i &+= 1
            }
        }
        return total
    }

    /// Sets the mask bits of the first `count` values equal to `threshold`, in index order.
    package static func setFirstEqual(
        _ threshold: Float, count: Int, in values: UnsafeBufferPointer<Float>, mask: inout Mask
    ) {
        var remaining = count
        var i = 0
        while remaining > 0, i < values.count {
            if values[i] == threshold {
                mask[i] = true
                remaining -= 1
            }
            i += 1
        }
    }
}
