import PruneCore

/// GRU (opsets 7–22): forward, reverse and bidirectional; gates zrh; `linear_before_reset` 0 and 1; optional bias,
/// sequence_lens and initial state; `clip`. Activations as for LSTM (default Sigmoid/Tanh). `layout` 1 is refused.
enum GRUOps {
    static let factories: [String: KernelFactory] = ["GRU": { node, _ in try GRUKernel(node) }]

    struct GRUKernel: Kernel {
        let directions: [Bool]  // true = reverse
        let hiddenSize: Int?
        let activations: [[RecurrentOps.Activation]]  // per direction: f, g
        let clip: Float?
        let linearBeforeReset: Bool

        init(_ node: GraphNode) throws {
            directions = try RecurrentOps.directions(of: node)
            hiddenSize = try node.optionalInt("hidden_size")
            var lists: [[RecurrentOps.Activation]] = Array(repeating: [.sigmoid, .tanh], count: directions.count)
            if case .strings(let names)? = node.attributes["activations"] {
                guard names.count == 2 * directions.count else {
                    throw node.error(.invalidInput, "activations has \(names.count) entries for \(directions.count) directions")
                }
                lists = try (0..<directions.count).map { d in
                    try names[(2 * d)..<(2 * d + 2)].map { name in
                        guard let a = RecurrentOps.Activation(rawValue: name) else {
                            throw node.error(.unsupported, "activation \(name) is not supported (Sigmoid, Tanh, Relu)")
                        }
                        return a
                    }
                }
            }
            activations = lists
            clip = try node.optionalFloat("clip")
            linearBeforeReset = try node.int("linear_before_reset", default: 0) != 0
            if try node.int("layout", default: 0) != 0 {
                throw node.error(.unsupported, "layout=1 (batch-first) is not supported by the runtime (nor by ONNX Runtime)")
            }
        }

        func run(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
            let io = try RecurrentInputs(inputs, gates: 3, directions: directions.count, hiddenSize: hiddenSize, context: context)
            let (x, w, r, bias, lengths, initialH) = (io.x, io.w, io.r, io.bias, io.lengths, io.initialH)
            let (steps, batch, inputSize, dirs, h) = (io.steps, io.batch, io.inputSize, io.directions, io.hidden)
            let gateCount = try CheckedSize.multiply(3, h, context)
            let y = try CheckedSize.tensor(.f32, [steps, dirs, batch, h], context)
            let yh = RuntimeTensor(uninitialized: .f32, shape: [dirs, batch, h])
            let projected = try CheckedSize.tensor(.f32, [steps * batch, gateCount], context)
            var recurrent = [Float](repeating: 0, count: batch * gateCount)
            var resetHidden = [Float](repeating: 0, count: batch * h)
            var candidate = [Float](repeating: 0, count: batch * h)
            let clipValue = clip
            @inline(__always) func clipped(_ v: Float) -> Float { clipValue.map { min(max(v, -$0), $0) } ?? v }
            for d in 0..<dirs {
                let reverse = directions[d]
                let f = activations[d][0]
                let g = activations[d][1]
                BLAS.sgemm(transB: true, m: steps * batch, n: gateCount, k: inputSize, a: x.f32, lda: inputSize,
                           b: w.f32 + d * gateCount * inputSize, ldb: inputSize, c: projected.f32, ldc: gateCount)
                let wb = bias.map { $0.f32 + d * 6 * h }
                let rb = bias.map { $0.f32 + d * 6 * h + 3 * h }
                if let wb, let rb {
                    for row in 0..<(steps * batch) {
                        let p = projected.f32 + row * gateCount
                        // z and r take both biases here; h's recurrent bias is added where the formula puts it.
                        for j in 0..<(2 * h) { p[j] += wb[j] + rb[j] }
                        for j in (2 * h)..<(3 * h) { p[j] += wb[j] }
                    }
                }
                let rh = r.f32 + d * gateCount * h + 2 * h * h
                var hidden = initialH.map { Array(UnsafeBufferPointer(start: $0.f32 + d * batch * h, count: batch * h)) }
                    ?? [Float](repeating: 0, count: batch * h)
                for step in 0..<steps {
                    let t = reverse ? steps - 1 - step : step
                    hidden.withUnsafeBufferPointer { hp in
                        recurrent.withUnsafeMutableBufferPointer { gp in
                            BLAS.sgemm(transB: true, m: batch, n: gateCount, k: h, a: hp.baseAddress!, lda: h,
                                       b: r.f32 + d * gateCount * h, ldb: h, c: gp.baseAddress!, ldc: gateCount)
                        }
                    }
                    if !linearBeforeReset {
                        // (r ⊙ H) · Rhᵀ needs r first.
                        for b in 0..<batch {
                            let input = projected.f32 + (t * batch + b) * gateCount
                            for j in 0..<h {
                                let reset = f(clipped(recurrent[b * gateCount + h + j] + input[h + j]))
                                resetHidden[b * h + j] = reset * hidden[b * h + j]
                            }
                        }
                        resetHidden.withUnsafeBufferPointer { hp in
                            candidate.withUnsafeMutableBufferPointer { cp in
                                BLAS.sgemm(transB: true, m: batch, n: h, k: h, a: hp.baseAddress!, lda: h, b: rh, ldb: h,
                                           c: cp.baseAddress!, ldc: h)
                            }
                        }
                    }
                    for b in 0..<batch {
                        let out = y.f32 + ((t * dirs + d) * batch + b) * h
                        guard t < lengths[b] else {
                            out.update(repeating: 0, count: h)
                            continue
                        }
                        let input = projected.f32 + (t * batch + b) * gateCount
                        for j in 0..<h {
                            let z = f(clipped(recurrent[b * gateCount + j] + input[j]))
                            let recurrentBias = rb?[2 * h + j] ?? 0
                            let hc: Float
                            if linearBeforeReset {
                                let reset = f(clipped(recurrent[b * gateCount + h + j] + input[h + j]))
                                hc = g(clipped(input[2 * h + j] + reset * (recurrent[b * gateCount + 2 * h + j] + recurrentBias)))
                            } else {
                                hc = g(clipped(input[2 * h + j] + candidate[b * h + j] + recurrentBias))
                            }
                            let value = (1 - z) * hc + z * hidden[b * h + j]
                            hidden[b * h + j] = value
                            out[j] = value
                        }
                    }
                }
                hidden.withUnsafeBufferPointer { (yh.f32 + d * batch * h).update(from: $0.baseAddress!, count: batch * h) }
            }
            return [y, yh]
        }
    }
}
