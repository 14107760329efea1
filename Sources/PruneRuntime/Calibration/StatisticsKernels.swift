import Dispatch

/// Per-index sums of a float tensor along one axis: Σx², Σ|x| and the number of exact zeros (±0).
struct AxisSums {
    var squares: [Double]
    var absolutes: [Double]
    var zeros: [Int]
    /// The number of values each index's sums cover.
    var count: Int
}

/// Accumulation loops for calibration statistics over one axis of a contiguous float tensor.
///
/// The tensor is viewed as `[outer, extent, inner]` with the statistic's axis in the middle. All three sums are
/// taken in one pass over the values (the pass is memory-bound, so the extra arithmetic is free), in SIMD lanes
/// of `Float` over blocks of a few thousand values that are then added into `Double` accumulators, so a sum never
/// stalls at 2^24 and rounding stays at block level. Large tensors are split across threads by ranges of the
/// axis, so every thread writes its own indices and results do not depend on the thread count.
enum StatisticsKernels {
    /// Values per lane-block before the `Float` lanes are flushed into `Double`.
    static let block = 4096
    /// Fewest values per thread worth a dispatch.
    static let grain = 1 << 16

    /// Σx², Σ|x| and zero counts of every index along the axis.
    static func sums(
        _ values: UnsafePointer<Float>, outer: Int, extent: Int, inner: Int, threads: Int
    ) -> AxisSums {
        var result = AxisSums(
            squares: [Double](repeating: 0, count: extent), absolutes: [Double](repeating: 0, count: extent),
            zeros: [Int](repeating: 0, count: extent), count: outer * inner)
        guard extent > 0, outer * inner > 0 else { return result }
        result.squares.withUnsafeMutableBufferPointer { squares in
            result.absolutes.withUnsafeMutableBufferPointer { absolutes in
                result.zeros.withUnsafeMutableBufferPointer { zeros in
                    let out = Outputs(
                        values: values, squares: squares.baseAddress!, absolutes: absolutes.baseAddress!,
                        zeros: zeros.baseAddress!)
                    // Inner == 1 works on strips of 8 features; keep chunk borders on strip borders.
                    let unit = inner == 1 ? 8 : 1
                    let units = (extent + unit - 1) / unit
                    let chunks = min(threads, units, outer * extent * inner / grain)
                    if chunks <= 1 {
                        out.accumulate(features: 0..<extent, outer: outer, extent: extent, inner: inner)
                    } else {
                        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                            let start = min(extent, units * chunk / chunks * unit)
                            let end = min(extent, units * (chunk + 1) / chunks * unit)
                            out.accumulate(features: start..<end, outer: outer, extent: extent, inner: inner)
                        }
                    }
                }
            }
        }
        return result
    }

    /// The input and the three accumulator arrays, handed to worker threads that each write a disjoint range of
    /// features.
    private struct Outputs: @unchecked Sendable {
        let values: UnsafePointer<Float>
        let squares: UnsafeMutablePointer<Double>
        let absolutes: UnsafeMutablePointer<Double>
        let zeros: UnsafeMutablePointer<Int>

        func accumulate(features: Range<Int>, outer: Int, extent: Int, inner: Int) {
            if inner == 1 {
                StatisticsKernels.addColumns(
                    values, rows: outer, width: extent, features: features, squares: squares, absolutes: absolutes,
                    zeros: zeros)
            } else {
                StatisticsKernels.addRuns(
                    values, outer: outer, extent: extent, inner: inner, features: features, squares: squares,
                    absolutes: absolutes, zeros: zeros)
            }
        }
    }

    /// Channels-first layout: every (outer, feature) pair is a contiguous run of `inner` values.
    private static func addRuns(
        _ values: UnsafePointer<Float>, outer: Int, extent: Int, inner: Int, features: Range<Int>,
        squares: UnsafeMutablePointer<Double>, absolutes: UnsafeMutablePointer<Double>,
        zeros: UnsafeMutablePointer<Int>
    ) {
        for o in 0..<outer {
            for f in features {
                let (sq, ab, zc) = runSums(values + (o &* extent &+ f) &* inner, count: inner)
                squares[f] += sq
                absolutes[f] += ab
                zeros[f] &+= zc
            }
        }
    }

    /// Σx², Σ|x| and zeros over one contiguous run, 16 lanes at a time.
    @inline(__always)
    private static func runSums(_ base: UnsafePointer<Float>, count: Int) -> (Double, Double, Int) {
        let raw = UnsafeRawPointer(base)
        let magnitude = SIMD16<UInt32>(repeating: 0x7FFF_FFFF)
        var squares = 0.0
        var absolutes = 0.0
        var zeros = 0
        var i = 0
        while i &+ 16 <= count {
            let end = min(count, i &+ block)
            var sq = SIMD16<Float>()
            var ab = SIMD16<Float>()
            var zc = SIMD16<Int32>()
            while i &+ 16 <= end {
                let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
                sq += v * v
                ab += unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & magnitude, to: SIMD16<Float>.self)
                // A true mask lane is all ones, -1 as Int32.
                zc &-= unsafeBitCast(v .== 0, to: SIMD16<Int32>.self)
                i &+= 16
            }
            squares += Double(sq.sum())
            absolutes += Double(ab.sum())
            zeros &+= Int(zc.wrappedSum())
        }
        var sq: Float = 0
        var ab: Float = 0
        while i < count {
            let v = base[i]
            sq += v * v
            ab += abs(v)
            zeros &+= Int(unsafeBitCast(v == 0, to: UInt8.self))
            i &+= 1
        }
        return (squares + Double(sq), absolutes + Double(ab), zeros)
    }

    /// Channels-last layout (`inner == 1`): `rows` rows of `width` features; a strip of 8 features is summed down
    /// the rows in registers.
    private static func addColumns(
        _ values: UnsafePointer<Float>, rows: Int, width: Int, features: Range<Int>,
        squares: UnsafeMutablePointer<Double>, absolutes: UnsafeMutablePointer<Double>,
        zeros: UnsafeMutablePointer<Int>
    ) {
        let raw = UnsafeRawPointer(values)
        let magnitude = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
        let rowBlock = max(1, block / 8)
        var f = features.lowerBound
        while f &+ 8 <= features.upperBound {
            var r = 0
            while r < rows {
                let end = min(rows, r &+ rowBlock)
                var sq = SIMD8<Float>()
                var ab = SIMD8<Float>()
                var zc = SIMD8<Int32>()
                while r < end {
                    let v = raw.loadUnaligned(fromByteOffset: (r &* width &+ f) &* 4, as: SIMD8<Float>.self)
                    sq += v * v
                    ab += unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & magnitude, to: SIMD8<Float>.self)
                    zc &-= unsafeBitCast(v .== 0, to: SIMD8<Int32>.self)
                    r &+= 1
                }
                for lane in 0..<8 {
                    squares[f &+ lane] += Double(sq[lane])
                    absolutes[f &+ lane] += Double(ab[lane])
                    zeros[f &+ lane] &+= Int(zc[lane])
                }
            }
            f &+= 8
        }
        while f < features.upperBound {
            var sq = 0.0
            var ab = 0.0
            var zc = 0
            for r in 0..<rows {
                let v = values[r &* width &+ f]
                sq += Double(v * v)
                ab += Double(abs(v))
                zc &+= Int(unsafeBitCast(v == 0, to: UInt8.self))
            }
            squares[f] += sq
            absolutes[f] += ab
            zeros[f] &+= zc
            f &+= 1
        }
    }
}
