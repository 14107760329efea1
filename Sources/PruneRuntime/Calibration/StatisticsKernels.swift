/// Accumulation loops for calibration statistics over one axis of a contiguous float tensor.
///
/// The tensor is viewed as `[outer, extent, inner]` with the statistic's axis in the middle. Partial sums are
/// taken in `Float` over short runs (vector code) and added into `Double` accumulators.
enum StatisticsKernels {
    /// Adds Σx² of every index along the axis into `sums`.
    static func addSquares(
        _ values: UnsafePointer<Float>, outer: Int, extent: Int, inner: Int, into sums: inout [Double]
    ) {
        if inner == 1 {
            addRows(values, rows: outer, width: extent, into: &sums) { $0 * $0 }
            return
        }
        for o in 0..<outer {
            for f in 0..<extent {
                let base = values + (o * extent + f) * inner
                sums[f] += Double(sumOfSquares(base, count: inner))
            }
        }
    }

    /// Adds Σ|a| into `sums` and the number of exact zeros into `zeros` for every index along the axis.
    static func addAbsoluteAndZeros(
        _ values: UnsafePointer<Float>, outer: Int, extent: Int, inner: Int, sums: inout [Double],
        zeros: inout [Int]
    ) {
        if inner == 1 {
            addRows(values, rows: outer, width: extent, into: &sums) { abs($0) }
            for r in 0..<outer {
                let row = values + r * extent
                for f in 0..<extent where row[f] == 0 { zeros[f] += 1 }
            }
            return
        }
        for o in 0..<outer {
            for f in 0..<extent {
                let base = values + (o * extent + f) * inner
                let (sum, count) = absoluteSumAndZeros(base, count: inner)
                sums[f] += Double(sum)
                zeros[f] += count
            }
        }
    }

    /// Sums `transform` over rows of `width` features, in Float blocks of up to 64 rows.
    @inline(__always)
    private static func addRows(
        _ values: UnsafePointer<Float>, rows: Int, width: Int, into sums: inout [Double], _ transform: (Float) -> Float
    ) {
        var partial = [Float](repeating: 0, count: width)
        var start = 0
        while start < rows {
            let end = min(rows, start + 64)
            partial.withUnsafeMutableBufferPointer { acc in
                for i in 0..<width { acc[i] = 0 }
                for r in start..<end {
                    let row = values + r * width
                    for f in 0..<width { acc[f] += transform(row[f]) }
                }
            }
            for f in 0..<width { sums[f] += Double(partial[f]) }
            start = end
        }
    }

    /// Σx² over a contiguous run, with 16 lanes of partial sums.
    @inline(__always)
    private static func sumOfSquares(_ base: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD16<Float>(repeating: 0)
        var i = 0
        let raw = UnsafeRawPointer(base)
        while i &+ 16 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            lanes += v * v
            i &+= 16
        }
        var total = lanes.sum()
        while i < count {
            total += base[i] * base[i]
            i &+= 1
        }
        return total
    }

    /// Σ|x| and the number of exact zeros over a contiguous run, 16 lanes at a time.
    @inline(__always)
    private static func absoluteSumAndZeros(_ base: UnsafePointer<Float>, count: Int) -> (Float, Int) {
        var lanes = SIMD16<Float>(repeating: 0)
        var zeroLanes = SIMD16<Int32>(repeating: 0)
        let ones = SIMD16<Int32>(repeating: 1)
        let none = SIMD16<Int32>(repeating: 0)
        let magnitude = SIMD16<UInt32>(repeating: 0x7FFF_FFFF)
        var i = 0
        let raw = UnsafeRawPointer(base)
        while i &+ 16 <= count {
            let bits = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<UInt32>.self) & magnitude
            lanes += unsafeBitCast(bits, to: SIMD16<Float>.self)
            zeroLanes &+= none.replacing(with: ones, where: bits .== 0)
            i &+= 16
        }
        var total = lanes.sum()
        var zeros = Int(zeroLanes.wrappedSum())
        while i < count {
            total += abs(base[i])
            if base[i] == 0 { zeros += 1 }
            i &+= 1
        }
        return (total, zeros)
    }
}
