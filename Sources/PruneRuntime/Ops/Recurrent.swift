import Foundation
import PruneCore

/// LSTM (opsets 7–22): forward, reverse and bidirectional; gates iofc; optional bias, sequence_lens, initial
/// states and peepholes; `clip`; `input_forget`. `layout` 1 (batch first) is refused, as ONNX Runtime does. Activations: Sigmoid, Tanh, Relu (the default
/// Sigmoid/Tanh/Tanh or any list of these).
///
/// The input projection of every time step is one `sgemm` per direction; each step adds `H · Rᵀ` (one `sgemm`).
enum RecurrentOps {
    static let factories: [String: KernelFactory] = ["LSTM": { node, _ in try LSTMKernel(node) }]

    enum Activation: String, Sendable {
        case sigmoid = "Sigmoid", tanh = "Tanh", relu = "Relu"
        @inline(__always) func callAsFunction(_ x: Float) -> Float {
            switch self {
            case .sigmoid: return 1 / (1 + Foundation.exp(-x))
            case .tanh: return Foundation.tanh(x)
            case .relu: return x < 0 ? 0 : x
            }
        }
    }

    struct LSTMKernel: Kernel {
        let directions: [Bool]  // true = reverse
        let hiddenSize: Int?
        let activations: [[Activation]]  // per direction: f, g, h
        let clip: Float?
        let inputForget: Bool

        init(_ node: GraphNode) throws {
            directions = try RecurrentOps.directions(of: node)
            hiddenSize = try node.optionalInt("hidden_size")
            var lists: [[Activation]] = Array(repeating: [.sigmoid, .tanh, .tanh], count: directions.count)
            if let names = try Self.strings(node, "activations") {
                guard names.count == 3 * directions.count else {
                    throw node.error(.invalidInput, "activations has \(names.count) entries for \(directions.count) directions")
                }
                lists = try (0..<directions.count).map { d in
                    try names[(3 * d)..<(3 * d + 3)].map { name in
                        guard let a = Activation(rawValue: name) else {
                            throw node.error(.unsupported, "activation \(name) is not supported (Sigmoid, Tanh, Relu)")
                        }
                        return a
                    }
                }
            }
            activations = lists
            clip = try node.optionalFloat("clip")
            inputForget = try node.int("input_forget", default: 0) != 0
            if try node.int("layout", default: 0) != 0 {
                throw node.error(.unsupported, "layout=1 (batch-first) is not supported by the runtime (nor by ONNX Runtime)")
            }
        }

        /// The string-list attribute `key`, if set.
        static func strings(_ node: GraphNode, _ key: String) throws -> [String]? {
            guard case .strings(let values)? = node.attributes[key] else { return nil }
            return values
        }

        func run(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
            let io = try RecurrentInputs(inputs, gates: 4, directions: directions.count, hiddenSize: hiddenSize, context: context)
            let (x, w, r, bias, lengths, initialH) = (io.x, io.w, io.r, io.bias, io.lengths, io.initialH)
            let (steps, batch, inputSize, dirs, h) = (io.steps, io.batch, io.inputSize, io.directions, io.hidden)
            func optional(_ i: Int) -> RuntimeTensor? { i < inputs.count ? inputs[i] : nil }
            let initialC = optional(6)
            if let t = initialC, t.shape != [dirs, batch, h] {
                throw context.error(.shapeMismatch, "initial_c has shape \(t.shape)")
            }
            let peepholes = optional(7)
            if let p = peepholes, p.shape != [dirs, 3 * h] { throw context.error(.shapeMismatch, "P has shape \(p.shape)") }
            let gateCount = try CheckedSize.multiply(4, h, context)
            let y = try CheckedSize.tensor(.f32, [steps, dirs, batch, h], context)
            let yh = RuntimeTensor(uninitialized: .f32, shape: [dirs, batch, h])
            let yc = RuntimeTensor(uninitialized: .f32, shape: [dirs, batch, h])
            let projected = try CheckedSize.tensor(.f32, [steps * batch, gateCount], context)
            var gates = [Float](repeating: 0, count: batch * gateCount)
            for d in 0..<dirs {
                let reverse = directions[d]
                let act = activations[d]
                // Input projections of all steps: [steps·batch, 4h] = X · Wᵀ (+ Wb + Rb).
                BLAS.sgemm(transB: true, m: steps * batch, n: gateCount, k: inputSize, a: x.f32, lda: inputSize,
                           b: w.f32 + d * gateCount * inputSize, ldb: inputSize, c: projected.f32, ldc: gateCount)
                if let bias {
                    let b = bias.f32 + d * 8 * h
                    for row in 0..<(steps * batch) {
                        let p = projected.f32 + row * gateCount
                        for j in 0..<gateCount { p[j] += b[j] + b[gateCount + j] }
                    }
                }
                var hidden = initialH.map { Array(UnsafeBufferPointer(start: $0.f32 + d * batch * h, count: batch * h)) }
                    ?? [Float](repeating: 0, count: batch * h)
                var cell = initialC.map { Array(UnsafeBufferPointer(start: $0.f32 + d * batch * h, count: batch * h)) }
                    ?? [Float](repeating: 0, count: batch * h)
                let p = peepholes.map { $0.f32 + d * 3 * h }
                for step in 0..<steps {
                    let t = reverse ? steps - 1 - step : step
                    // gates = H · Rᵀ, then + projected input.
                    hidden.withUnsafeBufferPointer { hp in
                        gates.withUnsafeMutableBufferPointer { gp in
                            BLAS.sgemm(transB: true, m: batch, n: gateCount, k: h, a: hp.baseAddress!, lda: h,
                                       b: r.f32 + d * gateCount * h, ldb: h, c: gp.baseAddress!, ldc: gateCount)
                        }
                    }
                    for b in 0..<batch {
                        let out = y.f32 + ((t * dirs + d) * batch + b) * h
                        guard t < lengths[b] else {
                            out.update(repeating: 0, count: h)
                            continue
                        }
                        let g = b * gateCount
                        let input = projected.f32 + (t * batch + b) * gateCount
                        for j in 0..<h {
                            var gi = gates[g + j] + input[j]
                            var go = gates[g + h + j] + input[h + j]
                            var gf = gates[g + 2 * h + j] + input[2 * h + j]
                            var gc = gates[g + 3 * h + j] + input[3 * h + j]
                            let previous = cell[b * h + j]
                            if let p {
                                gi += p[j] * previous
                                gf += p[2 * h + j] * previous
                            }
                            if let clip {
                                gi = min(max(gi, -clip), clip)
                                gf = min(max(gf, -clip), clip)
                                gc = min(max(gc, -clip), clip)
                            }
                            let i = act[0](gi)
                            let f = inputForget ? 1 - i : act[0](gf)
                            let c = f * previous + i * act[1](gc)
                            if let p { go += p[h + j] * c }
                            if let clip { go = min(max(go, -clip), clip) }
                            let o = act[0](go)
                            cell[b * h + j] = c
                            let value = o * act[2](c)
                            hidden[b * h + j] = value
                            out[j] = value
                        }
                    }
                }
                hidden.withUnsafeBufferPointer { (yh.f32 + d * batch * h).update(from: $0.baseAddress!, count: batch * h) }
                cell.withUnsafeBufferPointer { (yc.f32 + d * batch * h).update(from: $0.baseAddress!, count: batch * h) }
            }
            return [y, yh, yc]
        }
    }
}

extension RecurrentOps {
    /// The directions a recurrent node runs (`true` = reverse), from its `direction` attribute; refuses the
    /// activation parameters the runtime does not implement.
    static func directions(of node: GraphNode) throws -> [Bool] {
        if node.attributes["activation_alpha"] != nil || node.attributes["activation_beta"] != nil {
            throw node.error(.unsupported, "activation_alpha/activation_beta are not supported by the runtime")
        }
        let direction = try node.string("direction", default: "forward")
        switch direction {
        case "forward": return [false]
        case "reverse": return [true]
        case "bidirectional": return [false, true]
        default: throw node.error(.invalidInput, "direction '\(direction)' is not forward, reverse or bidirectional")
        }
    }
}

/// The inputs every ONNX recurrent operator shares — X, W, R, B, sequence_lens, initial_h — checked for a cell
/// of `gates` gates (LSTM 4, GRU 3): shapes, dtypes and sequence lengths.
struct RecurrentInputs {
    let x: RuntimeTensor
    let w: RuntimeTensor
    let r: RuntimeTensor
    let bias: RuntimeTensor?
    let initialH: RuntimeTensor?
    let lengths: [Int]
    let steps: Int
    let batch: Int
    let inputSize: Int
    let directions: Int
    let hidden: Int

    init(
        _ inputs: [RuntimeTensor?], gates: Int, directions: Int, hiddenSize: Int?, context: KernelContext
    ) throws {
        x = try context.input(inputs, 0)
        w = try context.input(inputs, 1)
        r = try context.input(inputs, 2)
        for (t, name) in [(x, "X"), (w, "W"), (r, "R")] { try context.require(t, [.f32], name) }
        guard x.shape.count == 3 else { throw context.error(.invalidInput, "X has shape \(x.shape), expected rank 3") }
        let (steps, batch, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
        (self.steps, self.batch, self.inputSize) = (steps, batch, inputSize)
        self.directions = directions
        let h = hiddenSize ?? r.shape.last ?? 0
        hidden = h
        guard w.shape == [directions, gates * h, inputSize], r.shape == [directions, gates * h, h] else {
            throw context.error(
                .shapeMismatch,
                "W \(w.shape) / R \(r.shape) do not fit \(directions) direction(s), hidden \(h), input \(inputSize)")
        }
        let optional = { (i: Int) -> RuntimeTensor? in i < inputs.count ? inputs[i] : nil }
        bias = optional(3)
        if let bias, bias.shape != [directions, 2 * gates * h] {
            throw context.error(.shapeMismatch, "B has shape \(bias.shape)")
        }
        var lengths = [Int](repeating: steps, count: batch)
        if let s = optional(4) {
            lengths = try context.intList(s, "sequence_lens")
            guard lengths.count == batch, lengths.allSatisfy({ $0 >= 0 && $0 <= steps }) else {
                throw context.error(
                    .invalidInput, "sequence_lens \(lengths) does not fit batch \(batch), \(steps) steps")
            }
        }
        self.lengths = lengths
        initialH = optional(5)
        if let t = initialH, t.shape != [directions, batch, h] {
            throw context.error(.shapeMismatch, "initial_h has shape \(t.shape)")
        }
    }
}
