import PruneCore

/// The sliding-window geometry shared by Conv and the pools, with 1-D and 2-D cases padded to three spatial
/// dimensions (extent 1, kernel 1, stride 1, no padding) so one loop nest serves all.
struct SpatialGeometry {
    var input = [1, 1, 1]
    var kernel = [1, 1, 1]
    var stride = [1, 1, 1]
    var dilation = [1, 1, 1]
    var padBegin = [0, 0, 0]
    var padEnd = [0, 0, 0]
    var output = [1, 1, 1]
    /// The number of real spatial dimensions (1–3).
    let rank: Int

    var inputSize: Int { input[0] * input[1] * input[2] }
    var outputSize: Int { output[0] * output[1] * output[2] }
    var kernelSize: Int { kernel[0] * kernel[1] * kernel[2] }
    /// The real output spatial extents.
    var outputShape: [Int] { Array(output[(3 - rank)...]) }

    /// The window attributes of `node` (parsed at build time; shapes are known only at run time).
    struct Attributes: Sendable {
        let kernelShape: [Int]?
        let strides: [Int]?
        let dilations: [Int]?
        let pads: [Int]?
        let autoPad: String
        let ceilMode: Bool

        init(_ node: GraphNode) throws {
            kernelShape = try node.ints("kernel_shape")
            strides = try node.ints("strides")
            dilations = try node.ints("dilations")
            pads = try node.ints("pads")
            autoPad = try node.string("auto_pad", default: "NOTSET")
            ceilMode = try node.int("ceil_mode", default: 0) != 0
            guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else {
                throw node.error(.unsupported, "auto_pad='\(autoPad)' is not supported")
            }
        }
    }

    /// Computes the geometry for spatial input extents `spatial` and kernel extents `kernel`.
    init(spatial: [Int], kernel kernelShape: [Int], attributes: Attributes, context: KernelContext) throws {
        rank = spatial.count
        guard (1...3).contains(rank), kernelShape.count == rank else {
            throw context.error(.unsupported, "\(rank)-D spatial input with a \(kernelShape.count)-D kernel is not supported")
        }
        let offset = 3 - rank
        func list(_ values: [Int]?, _ name: String, fallback: Int, count: Int) throws -> [Int] {
            guard let values else { return Array(repeating: fallback, count: count) }
            guard values.count == count else {
                throw context.error(.invalidInput, "attribute \(name) has \(values.count) values, expected \(count)")
            }
            return values
        }
        let strides = try list(attributes.strides, "strides", fallback: 1, count: rank)
        let dilations = try list(attributes.dilations, "dilations", fallback: 1, count: rank)
        let pads = try list(attributes.pads, "pads", fallback: 0, count: 2 * rank)
        // Bounding every extent to 2^31 keeps all window arithmetic below (spans, padded sizes) within 64 bits.
        let limit = 1 << 31
        for (name, values) in [("kernel_shape", kernelShape), ("strides", strides), ("dilations", dilations)]
        where values.contains(where: { $0 <= 0 || $0 > limit }) {
            throw context.error(.invalidInput, "attribute \(name) \(values) must lie in 1...\(limit)")
        }
        if pads.contains(where: { $0 < 0 || $0 > limit }) {
            throw context.error(.invalidInput, "attribute pads \(pads) must lie in 0...\(limit)")
        }
        if spatial.contains(where: { $0 < 0 || $0 > limit }) {
            throw context.error(.invalidInput, "spatial input extents \(spatial) must lie in 0...\(limit)")
        }
        for i in 0..<rank {
            let o = offset + i
            input[o] = spatial[i]
            kernel[o] = kernelShape[i]
            stride[o] = strides[i]
            dilation[o] = dilations[i]
            guard stride[o] > 0, dilation[o] > 0, kernel[o] > 0 else {
                throw context.error(.invalidInput, "kernel, strides and dilations must be positive")
            }
            let span = (kernel[o] - 1) * dilation[o] + 1
            switch attributes.autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                output[o] = (input[o] + stride[o] - 1) / stride[o]
                let total = max(0, (output[o] - 1) * stride[o] + span - input[o])
                padBegin[o] = attributes.autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                padEnd[o] = total - padBegin[o]
            case "VALID":
                output[o] = max(0, (input[o] - span) / stride[o] + 1)
            default:
                padBegin[o] = pads[i]
                padEnd[o] = pads[rank + i]
                let room = input[o] + padBegin[o] + padEnd[o] - span
                guard room >= 0 else {
                    throw context.error(.shapeMismatch, "window of extent \(span) does not fit input extent \(input[o]) with padding")
                }
                if attributes.ceilMode {
                    var count = (room + stride[o] - 1) / stride[o] + 1
                    // The last window must start inside the input or its leading padding.
                    if (count - 1) * stride[o] >= input[o] + padBegin[o] { count -= 1 }
                    output[o] = count
                } else {
                    output[o] = room / stride[o] + 1
                }
            }
        }
    }
}
