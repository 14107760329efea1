import ONNXProto
import PruneCore

/// A Conv, Gemm or MatMul node whose weight is a float parameter: what the least-squares fit needs to know.
struct Layer {
    enum Form {
        /// A 2-D convolution (any `groups`); `pads` are explicit unless `autoPad` is `SAME_UPPER`/`SAME_LOWER`.
        case convolution(kernel: [Int], strides: [Int], pads: [Int], dilations: [Int], autoPad: AutoPad)
        /// Y = X·Wᵀ (+ C) with W `[out, in]`.
        case transposedWeight
        /// Y = X·W (+ C) with W `[in, out]` (Gemm without `transB`, MatMul).
        case plainWeight
    }

    /// How a convolution's padding is given.
    enum AutoPad {
        /// The `pads` attribute (`NOTSET`), or none at all (`VALID`).
        case explicit
        /// Padding that keeps ⌈input / stride⌉ outputs; an odd total puts the extra cell at the end.
        case sameUpper
        /// The same, with the extra cell at the start.
        case sameLower
    }

    let name: String
    let weight: String
    /// The bias parameter (seen through `Identity` chains when the layer was given its graph's readers).
    let bias: String?
    /// Whether the bias parameter is read by other nodes too: the re-fit then keeps it and fits the weights alone.
    let biasIsShared: Bool
    let input: String
    let output: String
    let form: Form
    /// Convolution groups (1 for other layers): output channels of group g read only input channels of group g.
    let groups: Int
    /// Why neither the OBS sweep nor the least-squares fit can handle this node, when they cannot.
    let problem: String?

    var inputAxis: Int {
        switch form {
        case .convolution, .transposedWeight: 1
        case .plainWeight: 0
        }
    }

    var outputAxis: Int {
        switch form {
        case .convolution, .transposedWeight: 0
        case .plainWeight: 1
        }
    }

    /// A convolution's pads `[top, left, bottom, right]` on an input of `height` × `width`: the explicit ones, or
    /// those `SAME_UPPER`/`SAME_LOWER` imply (total = max(0, (⌈in / s⌉ − 1)·s + (k − 1)·d + 1 − in)).
    func pads(height: Int, width: Int) -> [Int] {
        guard case .convolution(let kernel, let strides, let pads, let dilations, let autoPad) = form else { return [] }
        guard autoPad != .explicit else { return pads }
        var begin = [0, 0]
        var end = [0, 0]
        for (axis, extent) in [height, width].enumerated() {
            let outputs = (extent + strides[axis] - 1) / strides[axis]
            let total = max(0, (outputs - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - extent)
            let small = total / 2
            (begin[axis], end[axis]) = autoPad == .sameUpper ? (small, total - small) : (total - small, small)
        }
        return [begin[0], begin[1], end[0], end[1]]
    }

    /// The layer `node` is, or nil when it is not a Conv/Gemm/MatMul with a float weight parameter.
    ///
    /// With `readers`, a bias reached through `Identity` nodes is resolved to its parameter, a bias other nodes
    /// read too is marked shared, and a weight other nodes read is a problem (re-fitting it for one would change
    /// the others).
    init?(node: Onnx_NodeProto, model: Model, readers: ParameterReaders? = nil) throws {
        guard ["Conv", "Gemm", "MatMul"].contains(node.opType), node.input.count >= 2, node.output.count >= 1,
            let weightParameter = model[node.input[1]], weightParameter.tensor.dtype == .f32
        else { return nil }
        name = node.name.isEmpty ? node.input[1] : node.name
        weight = node.input[1]
        input = node.input[0]
        output = node.output[0]
        let shape = weightParameter.tensor.shape
        let biasName = (node.input.count >= 3 && !node.input[2].isEmpty ? node.input[2] : nil).map {
            readers?.parameter($0) ?? $0
        }
        biasIsShared = biasName.map { (readers?.readerCount($0) ?? 1) > 1 } ?? false
        func ints(_ attribute: String) -> [Int]? {
            node.attribute.first { $0.name == attribute }.map { $0.ints.map(Int.init) }
        }
        func int(_ attribute: String) -> Int? { node.attribute.first { $0.name == attribute }.map { Int($0.i) } }
        func float(_ attribute: String) -> Float? { node.attribute.first { $0.name == attribute }.map(\.f) }
        var problem: String?
        switch node.opType {
        case "Conv":
            let spatial = max(0, shape.count - 2)
            let autoPadName = node.attribute.first { $0.name == "auto_pad" }.map { String(decoding: $0.s, as: UTF8.self) }
            let autoPad: AutoPad =
                switch autoPadName {
                case "SAME_UPPER": .sameUpper
                case "SAME_LOWER": .sameLower
                default: .explicit
                }
            let zeroPads = [Int](repeating: 0, count: 2 * spatial)
            form = .convolution(
                kernel: ints("kernel_shape") ?? Array(shape.dropFirst(2)),
                strides: ints("strides") ?? [Int](repeating: 1, count: spatial),
                pads: autoPadName == "VALID" ? zeroPads : ints("pads") ?? zeroPads,
                dilations: ints("dilations") ?? [Int](repeating: 1, count: spatial), autoPad: autoPad)
            groups = int("group") ?? 1
            if shape.count != 4 {
                problem = "only 2-D convolutions are re-fitted (weight rank \(shape.count))"
            } else if groups < 1 || shape[0] % groups != 0 {
                problem = "group \(groups) does not divide the \(shape[0]) output channels"
            } else if let autoPadName, !["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPadName) {
                problem = "auto_pad \(autoPadName) is not an ONNX padding mode"
            }
            bias = biasName
        case "Gemm":
            groups = 1
            let transB = (int("transB") ?? 0) != 0
            form = transB ? .transposedWeight : .plainWeight
            if (int("transA") ?? 0) != 0 {
                problem = "Gemm with transA = 1 is not re-fitted"
            } else if (float("alpha") ?? 1) != 1 || (float("beta") ?? 1) != 1 {
                problem = "Gemm with alpha or beta ≠ 1 is not re-fitted"
            } else if let biasName, model[biasName]?.tensor.shape.count != 1 {
                problem = "Gemm bias '\(biasName)' is not a per-output vector parameter"
            }
            bias = biasName
        default:
            groups = 1
            form = .plainWeight
            if shape.count != 2 { problem = "MatMul with a weight of rank \(shape.count) is not re-fitted" }
            bias = nil
        }
        if let bias, model[bias]?.tensor.dtype != .f32 {
            problem = problem ?? "bias '\(bias)' is not a float32 parameter"
        }
        if let readers, readers.readerCount(weight) > 1 {
            problem =
                problem
                ?? "weight '\(weight)' is read by \(readers.readerCount(weight)) nodes; re-fitting it for one would "
                + "change the others"
        }
        self.problem = problem
    }
}
