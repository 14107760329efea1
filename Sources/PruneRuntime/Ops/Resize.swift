import Foundation
import PruneCore

/// Resize (opsets 10–19) and Upsample (7, 9): nearest (every nearest_mode), n-linear and cubic interpolation, every
/// coordinate_transformation_mode except tf_crop_and_resize, scales or sizes, optional `axes` (opset 18).
///
/// The interpolation is separable: it runs axis by axis, each output coordinate reading 1 (nearest), 2 (linear)
/// or 4 (cubic) weighted taps of the previous pass. Coordinates are computed in float32, as ONNX Runtime does.
enum ResizeOps {
    static let factories: [String: KernelFactory] = [
        "Resize": { node, opset in ResizeKernel(settings: try Settings(node, opset: opset, upsample: false)) },
        "Upsample": { node, opset in ResizeKernel(settings: try Settings(node, opset: opset, upsample: true)) },
    ]

    enum Mode: String { case nearest, linear, cubic }
    enum NearestMode: String {
        case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil
        /// Resize-10 and Upsample: truncation when upsampling, ceiling when downsampling (ONNX Runtime's rule).
        case simple
    }
    enum Transform: String {
        case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners"
        case asymmetric, tfHalfPixelForNN = "tf_half_pixel_for_nn", halfPixelSymmetric = "half_pixel_symmetric"
    }

    struct Settings: Sendable {
        let mode: Mode
        let nearest: NearestMode
        let transform: Transform
        let cubicA: Float
        let excludeOutside: Bool
        let axes: [Int]?
        /// Upsample-7's `scales` attribute.
        let attributeScales: [Float]?
        /// Where scales are read from: input 1 (Resize-10, Upsample-9) or input 2 (Resize-11+).
        let scalesInput: Int
        let sizesInput: Int?

        init(_ node: GraphNode, opset: Int, upsample: Bool) throws {
            var modeName = try node.string("mode", default: "nearest")
            if modeName == "bilinear" || modeName == "trilinear" { modeName = "linear" }
            guard let mode = Mode(rawValue: modeName) else {
                throw node.error(.unsupported, "mode '\(modeName)' is not supported (nearest, linear, cubic)")
            }
            self.mode = mode
            let legacy = upsample || opset < 11
            if legacy {
                nearest = .simple
                transform = .asymmetric
                guard mode != .cubic else { throw node.error(.unsupported, "mode cubic needs Resize opset 11 or later") }
            } else {
                let nearestName = try node.string("nearest_mode", default: "round_prefer_floor")
                guard let n = NearestMode(rawValue: nearestName), n != .simple else {
                    throw node.error(.unsupported, "nearest_mode '\(nearestName)' is not supported")
                }
                nearest = n
                let transformName = try node.string("coordinate_transformation_mode", default: "half_pixel")
                guard let t = Transform(rawValue: transformName) else {
                    throw node.error(
                        .unsupported, "coordinate_transformation_mode '\(transformName)' is not supported by the runtime")
                }
                transform = t
            }
            cubicA = try node.float("cubic_coeff_a", default: -0.75)
            excludeOutside = try node.int("exclude_outside", default: 0) != 0
            if try node.int("antialias", default: 0) != 0 {
                throw node.error(.unsupported, "antialias=1 is not supported by the runtime")
            }
            let policy = try node.string("keep_aspect_ratio_policy", default: "stretch")
            guard policy == "stretch" else {
                throw node.error(.unsupported, "keep_aspect_ratio_policy '\(policy)' is not supported by the runtime")
            }
            axes = try node.ints("axes")
            attributeScales = upsample && opset < 9 ? try node.floats("scales") : nil
            if upsample && opset < 9 && attributeScales == nil { throw node.error(.invalidInput, "attribute scales is missing") }
            scalesInput = legacy ? 1 : 2
            sizesInput = legacy ? nil : 3
        }
    }

    struct ResizeKernel: Kernel {
        let settings: Settings

        func run(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
            let x = try context.input(inputs, 0)
            try context.require(x, [.f32], "input 0 (X)")
            let rank = x.shape.count
            let axes = try (settings.axes ?? Array(0..<rank)).map { try context.axis($0, rank: rank, "axes value") }
            func present(_ i: Int?) -> RuntimeTensor? {
                guard let i, i < inputs.count, let t = inputs[i], t.count > 0 else { return nil }
                return t
            }
            var scales = [Float](repeating: 1, count: rank)
            var outShape = x.shape
            if let sizes = present(settings.sizesInput) {
                let values = try context.intList(sizes, "input 3 (sizes)")
                guard values.count == axes.count else {
                    throw context.error(.invalidInput, "sizes has \(values.count) values for \(axes.count) axes")
                }
                for (i, axis) in axes.enumerated() {
                    guard values[i] >= 0 else { throw context.error(.invalidInput, "sizes has a negative value") }
                    outShape[axis] = values[i]
                    scales[axis] = Float(values[i]) / Float(x.shape[axis])
                }
            } else {
                let values: [Float]
                if let attribute = settings.attributeScales {
                    values = attribute
                } else if let t = present(settings.scalesInput) {
                    try context.require(t, [.f32], "scales")
                    values = t.floatValues()
                } else {
                    throw context.error(.invalidInput, "neither scales nor sizes is given")
                }
                guard values.count == axes.count else {
                    throw context.error(.invalidInput, "scales has \(values.count) values for \(axes.count) axes")
                }
                for (i, axis) in axes.enumerated() {
                    guard values[i] > 0, values[i].isFinite else {
                        throw context.error(.invalidInput, "scale \(values[i]) is not positive")
                    }
                    scales[axis] = values[i]
                    let extent = (values[i] * Float(x.shape[axis])).rounded(.down)
                    guard extent < Float(Int32.max) else { throw context.error(.invalidInput, "output extent \(extent) is too large") }
                    outShape[axis] = Int(extent)
                }
            }
            _ = try CheckedSize.count(outShape, context)
            var current = x
            for axis in 0..<rank where outShape[axis] != x.shape[axis] || scales[axis] != 1 {
                let taps = try self.taps(
                    input: x.shape[axis], output: outShape[axis], scale: scales[axis], context)
                current = try pass(current, axis: axis, output: outShape[axis], taps: taps, context)
            }
            if current.storage === x.storage {
                let copy = RuntimeTensor(uninitialized: .f32, shape: x.shape)
                copy.raw.copyMemory(from: x.raw, byteCount: x.count * 4)
                current = copy
            }
            return [current]
        }

        /// Input indices and weights (`width` per output coordinate) along one axis.
        struct Taps {
            var index: [Int]
            var weight: [Float]
            let width: Int
        }

        func taps(input n: Int, output m: Int, scale: Float, _ context: KernelContext) throws -> Taps {
            guard n > 0 || m == 0 else { throw context.error(.invalidInput, "cannot resize an empty axis to \(m)") }
            let width = settings.mode == .nearest ? 1 : (settings.mode == .linear ? 2 : 4)
            var taps = Taps(index: [], weight: [], width: width)
            taps.index.reserveCapacity(m * width)
            taps.weight.reserveCapacity(m * width)
            for j in 0..<m {
                let x = original(Float(j), inputLength: n, outputLength: m, scale: scale)
                switch settings.mode {
                case .nearest:
                    taps.index.append(min(max(nearestIndex(x, downsampling: scale < 1), 0), n - 1))
                    taps.weight.append(1)
                case .linear:
                    let clamped = min(max(x, 0), Float(n - 1))
                    let low = Int(clamped.rounded(.down))
                    let high = min(low + 1, n - 1)
                    let ratio = clamped - Float(low)
                    taps.index += [low, high]
                    taps.weight += [1 - ratio, ratio]
                case .cubic:
                    let low = Int(x.rounded(.down))
                    let ratio = x - Float(low)
                    var w = cubicCoefficients(ratio)
                    var idx = [low - 1, low, low + 1, low + 2]
                    if settings.excludeOutside {
                        var total: Float = 0
                        for t in 0..<4 {
                            if idx[t] < 0 || idx[t] >= n { w[t] = 0 }
                            total += w[t]
                        }
                        if total != 0 { for t in 0..<4 { w[t] /= total } }
                    }
                    for t in 0..<4 { idx[t] = min(max(idx[t], 0), n - 1) }
                    taps.index += idx
                    taps.weight += w
                }
            }
            return taps
        }

        /// The input coordinate of output coordinate `x` under the coordinate transformation mode.
        func original(_ x: Float, inputLength n: Int, outputLength m: Int, scale: Float) -> Float {
            switch settings.transform {
            case .halfPixel: return (x + 0.5) / scale - 0.5
            case .pytorchHalfPixel: return m > 1 ? (x + 0.5) / scale - 0.5 : 0
            case .alignCorners: return m == 1 ? 0 : x * Float(n - 1) / Float(m - 1)
            case .asymmetric: return x / scale
            case .tfHalfPixelForNN: return (x + 0.5) / scale
            case .halfPixelSymmetric:
                let adjustment = Float(m) / (scale * Float(n))
                let center = Float(n) / 2
                let offset = center * (1 - adjustment)
                return offset + (x + 0.5) / scale - 0.5
            }
        }

        func nearestIndex(_ x: Float, downsampling: Bool) -> Int {
            switch settings.nearest {
            case .roundPreferFloor:
                return x == x.rounded(.down) + 0.5 ? Int(x.rounded(.down)) : Int(x.rounded())
            case .roundPreferCeil:
                return x == x.rounded(.down) + 0.5 ? Int(x.rounded(.up)) : Int(x.rounded())
            case .floor: return Int(x.rounded(.down))
            case .ceil: return Int(x.rounded(.up))
            case .simple: return downsampling ? Int(x.rounded(.up)) : Int(x.rounded(.towardZero))
            }
        }

        func cubicCoefficients(_ r: Float) -> [Float] {
            let a = settings.cubicA
            let s = 1 - r
            return [
                ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
                ((a + 2) * r - (a + 3)) * r * r + 1,
                ((a + 2) * s - (a + 3)) * s * s + 1,
                ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
            ]
        }

        /// Resamples `x` along `axis` to `output` coordinates.
        func pass(_ x: RuntimeTensor, axis: Int, output m: Int, taps: Taps, _ context: KernelContext) throws -> RuntimeTensor {
            var shape = x.shape
            shape[axis] = m
            let out = try CheckedSize.tensor(.f32, shape, context)
            let n = x.shape[axis]
            let outer = x.shape[..<axis].reduce(1, *)
            let inner = x.shape[(axis + 1)...].reduce(1, *)
            if out.count == 0 { return out }
            let src = SharedPointer(x.f32)
            let dst = SharedPointer(out.f32)
            let width = taps.width
            taps.index.withUnsafeBufferPointer { indexBuffer in
                taps.weight.withUnsafeBufferPointer { weightBuffer in
                    let index = indexBuffer.baseAddress!
                    let weight = weightBuffer.baseAddress!
                    for o in 0..<outer {
                        let s = src.pointer + o * n * inner
                        for j in 0..<m {
                            let d = dst.pointer + (o * m + j) * inner
                            let first = s + index[j * width] * inner
                            let w0 = weight[j * width]
                            if width == 1 {
                                d.update(from: first, count: inner)
                                continue
                            }
                            for i in 0..<inner { d[i] = w0 * first[i] }
                            for t in 1..<width {
                                let w = weight[j * width + t]
                                let row = s + index[j * width + t] * inner
                                for i in 0..<inner { d[i] += w * row[i] }
                            }
                        }
                    }
                }
            }
            return out
        }
    }
}
