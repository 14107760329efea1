import Foundation
import PruneCore
import PruneTestSupport
import Testing

import PruneRuntime

/// Conv (plain and fused with BatchNormalization and Relu) against a direct convolution computed here in `Double`,
/// over randomized shapes: 1-D to 3-D, groups, odd and even kernels, explicit and automatic padding, strides and
/// dilations, batches that split across threads and leave partial 16-column panels. Stride-1 "same" shapes take
/// the panel kernels on AVX2 machines, the others im2col + BLAS; both must match the reference.
@Suite("Conv against a direct reference")
struct ConvReferenceTests {
    /// One randomized convolution: shapes, attributes and values.
    struct Case: CustomStringConvertible {
        var batch: Int
        var group: Int
        var channelsPerGroup: Int
        var filtersPerGroup: Int
        var spatial: [Int]
        var kernel: [Int]
        var strides: [Int]
        var dilations: [Int]
        /// Explicit begins then ends, or nil with `autoPad`.
        var pads: [Int]?
        var autoPad: String?
        var bias: Bool
        var threads: Int

        var channels: Int { group * channelsPerGroup }
        var filters: Int { group * filtersPerGroup }
        var description: String {
            "N\(batch) C\(channels) M\(filters) g\(group) X\(spatial) K\(kernel) s\(strides) d\(dilations) "
                + "pads \(pads.map { "\($0)" } ?? autoPad ?? "-") bias \(bias) threads \(threads)"
        }

        /// Begin and end padding per axis and the output size, worked out from the ONNX definition.
        func geometry() -> (begin: [Int], output: [Int]) {
            var begin: [Int] = []
            var output: [Int] = []
            for axis in 0..<spatial.count {
                let span = (kernel[axis] - 1) * dilations[axis] + 1
                if let pads {
                    begin.append(pads[axis])
                    output.append((spatial[axis] + pads[axis] + pads[axis + spatial.count] - span) / strides[axis] + 1)
                } else {
                    let out = (spatial[axis] + strides[axis] - 1) / strides[axis]
                    let total = max(0, (out - 1) * strides[axis] + span - spatial[axis])
                    begin.append(autoPad == "SAME_UPPER" ? total / 2 : total - total / 2)
                    output.append(out)
                }
            }
            return (begin, output)
        }
    }

    /// SplitMix64, so every run draws the same cases.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }
        mutating func float() -> Float { Float(Double(next() >> 11) / Double(1 << 53)) * 2 - 1 }
        mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in float() } }
    }

    /// `y[n, m, o] = B[m] + Σ W[m, c, k] · X[n, g·C/g + c, o·s + k·d − pad]` over taps inside the input.
    static func reference(_ c: Case, x: [Float], w: [Float], b: [Float]?) -> [Double] {
        let (begin, output) = c.geometry()
        let rank = c.spatial.count
        func strides(_ dims: [Int]) -> [Int] {
            var s = [Int](repeating: 1, count: dims.count)
            for i in stride(from: dims.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * dims[i + 1] }
            return s
        }
        let inSize = c.spatial.reduce(1, *)
        let outSize = output.reduce(1, *)
        let kSize = c.kernel.reduce(1, *)
        let inStrides = strides(c.spatial)
        let outStrides = strides(output)
        let kStrides = strides(c.kernel)
        var y = [Double](repeating: 0, count: c.batch * c.filters * outSize)
        for n in 0..<c.batch {
            for m in 0..<c.filters {
                let g = m / c.filtersPerGroup
                for o in 0..<outSize {
                    var sum = Double(b?[m] ?? 0)
                    for ci in 0..<c.channelsPerGroup {
                        let plane = (n * c.channels + g * c.channelsPerGroup + ci) * inSize
                        for k in 0..<kSize {
                            var index = 0
                            var inside = true
                            for axis in 0..<rank {
                                let oi = o / outStrides[axis] % output[axis]
                                let ki = k / kStrides[axis] % c.kernel[axis]
                                let i = oi * c.strides[axis] + ki * c.dilations[axis] - begin[axis]
                                if i < 0 || i >= c.spatial[axis] { inside = false }
                                index += i * inStrides[axis]
                            }
                            if inside {
                                sum += Double(w[(m * c.channelsPerGroup + ci) * kSize + k]) * Double(x[plane + index])
                            }
                        }
                    }
                    y[(n * c.filters + m) * outSize + o] = sum
                }
            }
        }
        return y
    }

    /// Builds X → Conv(W, B?) [→ BatchNormalization → Relu] → Y and runs it.
    static func run(
        _ c: Case, x: [Float], w: [Float], b: [Float]?, batchNorm: [[Float]]? = nil
    ) throws -> RuntimeTensor {
        var builder = GraphBuilder()
        builder.input("x")
        builder.initializer("w", shape: [c.filters, c.channelsPerGroup] + c.kernel, floats: w)
        var inputs = ["x", "w"]
        if let b {
            builder.initializer("b", shape: [c.filters], floats: b)
            inputs.append("b")
        }
        var ints: [String: [Int]] = ["kernel_shape": c.kernel, "strides": c.strides, "dilations": c.dilations]
        var strings: [String: String] = [:]
        if let pads = c.pads { ints["pads"] = pads } else { strings["auto_pad"] = c.autoPad }
        let convOutput = batchNorm == nil ? "y" : "conv"
        builder.node("Conv", inputs, [convOutput], ints: ints, int: ["group": c.group], string: strings)
        if let batchNorm {
            for (name, values) in zip(["scale", "shift", "mean", "var"], batchNorm) {
                builder.initializer(name, shape: [c.filters], floats: values)
            }
            builder.node("BatchNormalization", ["conv", "scale", "shift", "mean", "var"], ["bn"])
            builder.node("Relu", ["bn"], ["y"])
        }
        builder.output("y")
        let interpreter = try Interpreter(graph: builder.graph(), options: .init(threads: c.threads))
        // Twice: the second run reuses pooled buffers and the cached packed filters.
        _ = try interpreter.run(["x": RuntimeTensor(shape: [c.batch, c.channels] + c.spatial, floats: x)])
        return try #require(
            try interpreter.run(["x": RuntimeTensor(shape: [c.batch, c.channels] + c.spatial, floats: x)])["y"])
    }

    /// Relative error above magnitude 1, absolute below; NaN must meet NaN.
    static func matches(_ actual: [Float], _ expected: [Double], tolerance: Double = 1e-4) -> Bool {
        guard actual.count == expected.count else { return false }
        for (a, e) in zip(actual, expected) {
            if e.isNaN || a.isNaN {
                if !(e.isNaN && a.isNaN) { return false }
                continue
            }
            if abs(Double(a) - e) > tolerance * max(1, abs(e)) { return false }
        }
        return true
    }

    /// A random case; `same` draws stride 1, dilation 1 and padding that keeps the spatial size.
    static func randomCase(_ r: inout Generator, same: Bool) -> Case {
        let rank = r.int(1...3)
        let spatial = (0..<rank).map { _ in rank == 3 ? r.int(1...5) : r.int(1...9) }
        let kernel = (0..<rank).map { _ in r.int(1...(rank == 3 ? 3 : 4)) }
        var c = Case(
            batch: r.int(1...7), group: r.int(1...3), channelsPerGroup: r.int(1...5), filtersPerGroup: r.int(1...8),
            spatial: spatial, kernel: kernel, strides: Array(repeating: 1, count: rank),
            dilations: Array(repeating: 1, count: rank), pads: nil, autoPad: nil, bias: r.int(0...1) == 1,
            threads: r.int(1...2))
        if same {
            if kernel.allSatisfy({ $0 % 2 == 1 }) && r.int(0...1) == 0 {
                c.pads = kernel.map { ($0 - 1) / 2 } + kernel.map { ($0 - 1) / 2 }
            } else {
                c.autoPad = r.int(0...1) == 0 ? "SAME_UPPER" : "SAME_LOWER"
            }
        } else {
            c.strides = (0..<rank).map { _ in r.int(1...3) }
            c.dilations = (0..<rank).map { _ in r.int(1...2) }
            c.pads = (0..<(2 * rank)).map { _ in r.int(0...2) }
            // Keep every output axis at least 1 long.
            for axis in 0..<rank {
                let span = (kernel[axis] - 1) * c.dilations[axis] + 1
                let room = spatial[axis] + c.pads![axis] + c.pads![axis + rank]
                if room < span { c.pads![axis + rank] += span - room }
            }
        }
        return c
    }

    static func check(_ c: Case, _ r: inout Generator) throws {
        let kSize = c.kernel.reduce(1, *)
        let x = r.floats(c.batch * c.channels * c.spatial.reduce(1, *))
        let w = r.floats(c.filters * c.channelsPerGroup * kSize)
        let b = c.bias ? r.floats(c.filters) : nil
        let y = try run(c, x: x, w: w, b: b)
        let (_, output) = c.geometry()
        #expect(y.shape == [c.batch, c.filters] + output, "\(c)")
        let agrees = matches(y.floatValues(), reference(c, x: x, w: w, b: b))
        #expect(agrees, "\(c)")
    }

    @Test("stride-1 same-size convolutions, randomized (the panel path)")
    func sameRandomized() throws {
        var r = Generator(state: 1)
        for _ in 0..<60 { try Self.check(Self.randomCase(&r, same: true), &r) }
    }

    @Test("strided, dilated and unevenly padded convolutions, randomized (the im2col path)")
    func generalRandomized() throws {
        var r = Generator(state: 2)
        for _ in 0..<40 { try Self.check(Self.randomCase(&r, same: false), &r) }
    }

    @Test("a batch that splits across two threads and several chunks, 3×3 same, 16 → 32 channels")
    func largeBatch() throws {
        var r = Generator(state: 3)
        for (batch, spatial) in [(37, [8, 8]), (9, [5, 7]), (3, [19, 13])] {
            let c = Case(
                batch: batch, group: 1, channelsPerGroup: 16, filtersPerGroup: 32, spatial: spatial, kernel: [3, 3],
                strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], autoPad: nil, bias: true, threads: 2)
            try Self.check(c, &r)
        }
    }

    @Test("fused Conv+BatchNormalization+Relu; NaN and infinity stay in their own image")
    func fusedWithNonFinite() throws {
        var r = Generator(state: 4)
        let c = Case(
            batch: 6, group: 2, channelsPerGroup: 3, filtersPerGroup: 7, spatial: [6, 6], kernel: [3, 3],
            strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], autoPad: nil, bias: true, threads: 2)
        var x = r.floats(c.batch * c.channels * 36)
        x[2 * c.channels * 36 + 0] = .nan  // image 2, channel 0, corner
        x[3 * c.channels * 36 + 4 * 36 + 35] = .infinity  // image 3, channel 4, opposite corner
        let w = r.floats(c.filters * c.channelsPerGroup * 9)
        let b = r.floats(c.filters)
        let bn = [
            (0..<c.filters).map { _ in r.float() + 1.5 }, r.floats(c.filters), r.floats(c.filters),
            (0..<c.filters).map { _ in r.float() + 1.5 },
        ]
        let y = try Self.run(c, x: x, w: w, b: b, batchNorm: bn)
        var expected = Self.reference(c, x: x, w: w, b: b)
        for i in expected.indices {
            let m = i / 36 % c.filters
            let s = Double(bn[0][m]) / (Double(bn[3][m]) + 1e-5).squareRoot()
            let v = (expected[i] - Double(bn[2][m])) * s + Double(bn[1][m])
            expected[i] = v.isNaN ? v : max(0, v)
        }
        let agrees = Self.matches(y.floatValues(), expected)
        #expect(agrees)
        // The non-finite values reach only their own image's outputs.
        let values = y.floatValues()
        let perImage = c.filters * 36
        for image in [0, 1, 4, 5] {
            let finite = values[(image * perImage)..<((image + 1) * perImage)].allSatisfy { $0.isFinite }
            #expect(finite, "image \(image)")
        }
        let poisoned = values[(2 * perImage)..<(3 * perImage)].contains { $0.isNaN }
        #expect(poisoned)
    }
}
