/// Small vectorised loops shared by the core (counting, scanning); see `SWIFT-NOTES.md` for why they look so.
package enum Kernels {
    /// The number of elements equal to zero, counted 16 lanes at a time without branches.
    package static func countZeros(_ values: UnsafeBufferPointer<Float>) -> Int {
        countWhere(values) { $0 .== SIMD16<Float>(repeating: 0) } scalar: { $0 == 0 }
    }

    /// The number of elements `v` with `v <= threshold`.
    package static func countAtMost(_ values: UnsafeBufferPointer<Float>, _ threshold: Float) -> Int {
        let limit = SIMD16<Float>(repeating: threshold)
        return countWhere(values) { $0 .<= limit } scalar: { $0 <= threshold }
    }

    /// The number of elements `v` with `v < threshold`.
    package static func countBelow(_ values: UnsafeBufferPointer<Float>, _ threshold: Float) -> Int {
        let limit = SIMD16<Float>(repeating: threshold)
        return countWhere(values) { $0 .< limit } scalar: { $0 < threshold }
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
