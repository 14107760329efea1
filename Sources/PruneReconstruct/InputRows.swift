import PruneCore
import PruneRuntime

/// The rows of a layer's input matrix X: one row per sample (and spatial position, for a Conv, unfolded im2col-style
/// into `(c, kh, kw)` columns in the weight's order), plus a ones column when `bias` is set.
enum InputRows {
    /// X of `layer` for the captured input `x`, in double precision, row-major `count` × (`features` [+ 1]); for a
    /// grouped convolution, of the input channels of `group` only. `values` are `x`'s elements as floats, when the
    /// caller already holds them (a grouped convolution reads the same input once per group).
    ///
    /// - Throws: `PruneError.Kind.shapeMismatch` naming the layer when `x` does not fit the weight.
    static func rows(
        layer: Layer, x: RuntimeTensor, values: [Float]? = nil, features: Int, bias: Bool, group: Int = 0
    ) throws -> (values: [Double], count: Int) {
        let columns = features + (bias ? 1 : 0)
        let xv = values ?? x.floatValues()
        func mismatch(_ detail: String) -> PruneError {
            PruneError(.shapeMismatch, "'reconstruct': layer '\(layer.name)': \(detail)")
        }
        switch layer.form {
        case .convolution(let kernel, let strides, _, let dilations, _):
            guard x.shape.count == 4 else { throw mismatch("input \(x.shape) is not [N, C, H, W]") }
            let (n, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let pads = layer.pads(height: height, width: width)
            let (kh, kw) = (kernel[0], kernel[1])
            let groupChannels = features / max(1, kh * kw)
            guard groupChannels * layer.groups == channels, groupChannels * kh * kw == features else {
                throw mismatch(
                    "input has \(channels) channels for a weight of \(groupChannels) channels per group × \(layer.groups)")
            }
            let firstChannel = group * groupChannels
            let (outH, outW) = outputSize(layer: layer, height: height, width: width)
            guard outH > 0, outW > 0 else { throw mismatch("input \(x.shape) is smaller than the kernel") }
            let count = n * outH * outW
            var rows = [Double](repeating: 0, count: count * columns)
            for b in 0..<n {
                for oh in 0..<outH {
                    for ow in 0..<outW {
                        let base = ((b * outH + oh) * outW + ow) * columns
                        for c in 0..<groupChannels {
                            for i in 0..<kh {
                                let ih = oh * strides[0] - pads[0] + i * dilations[0]
                                guard ih >= 0, ih < height else { continue }
                                for j in 0..<kw {
                                    let iw = ow * strides[1] - pads[1] + j * dilations[1]
                                    guard iw >= 0, iw < width else { continue }
                                    rows[base + (c * kh + i) * kw + j] = Double(
                                        xv[((b * channels + firstChannel + c) * height + ih) * width + iw])
                                }
                            }
                        }
                        if bias { rows[base + features] = 1 }
                    }
                }
            }
            return (rows, count)
        case .transposedWeight, .plainWeight:
            guard let last = x.shape.last, last == features else {
                throw mismatch("input \(x.shape) does not end in the weight's \(features) inputs")
            }
            let count = xv.count / features
            var rows = [Double](repeating: 0, count: count * columns)
            for row in 0..<count {
                for f in 0..<features { rows[row * columns + f] = Double(xv[row * features + f]) }
                if bias { rows[row * columns + features] = 1 }
            }
            return (rows, count)
        }
    }

    /// The spatial output size of a convolution layer on an input of `height` × `width` (0 for other layers).
    static func outputSize(layer: Layer, height: Int, width: Int) -> (height: Int, width: Int) {
        guard case .convolution(let kernel, let strides, _, let dilations, _) = layer.form else { return (0, 0) }
        let pads = layer.pads(height: height, width: width)
        let outH = (height + pads[0] + pads[2] - dilations[0] * (kernel[0] - 1) - 1) / strides[0] + 1
        let outW = (width + pads[1] + pads[3] - dilations[1] * (kernel[1] - 1) - 1) / strides[1] + 1
        return (outH, outW)
    }
}
