import PruneCore

/// CumSum (float32, float64, int64) along the axis given by input 1, with `exclusive` and `reverse`.
enum CumSumOps {
    static let factories: [String: KernelFactory] = [
        "CumSum": { node, _ in
            let exclusive = try node.int("exclusive", default: 0) != 0
            let reverse = try node.int("reverse", default: 0) != 0
            return ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                try context.require(x, [.f32, .f64, .i64], "input 0")
                let axisValues = try context.intList(try context.input(inputs, 1), "input 1 (axis)")
                guard axisValues.count == 1 else { throw context.error(.invalidInput, "axis must have one value") }
                let rank = x.shape.count
                let axis = try context.axis(axisValues[0], rank: rank)
                let out = RuntimeTensor(uninitialized: x.dtype, shape: x.shape)
                if x.count == 0 { return [out] }
                let n = x.shape[axis]
                let outer = x.shape[..<axis].reduce(1, *)
                let inner = x.shape[(axis + 1)...].reduce(1, *)
                for o in 0..<outer {
                    for i in 0..<inner {
                        var sumF: Float = 0
                        var sumD: Double = 0
                        let doubles = x.raw.assumingMemoryBound(to: Double.self)
                        let outDoubles = out.raw.assumingMemoryBound(to: Double.self)
                        var sumI: Int64 = 0
                        for step in 0..<n {
                            let k = reverse ? n - 1 - step : step
                            let at = (o * n + k) * inner + i
                            if x.dtype == .f64 {
                                if exclusive { outDoubles[at] = sumD; sumD += doubles[at] } else { sumD += doubles[at]; outDoubles[at] = sumD }
                            } else if x.dtype == .f32 {
                                if exclusive { out.f32[at] = sumF; sumF += x.f32[at] } else { sumF += x.f32[at]; out.f32[at] = sumF }
                            } else {
                                if exclusive { out.i64[at] = sumI; sumI &+= x.i64[at] } else { sumI &+= x.i64[at]; out.i64[at] = sumI }
                            }
                        }
                    }
                }
                return [out]
            }
        }
    ]
}
