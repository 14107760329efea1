import PruneCore

/// Einsum (float32) with one or two operands and no ellipsis or repeated subscripts within an operand: the forms
/// exporters write for attention and bilinear layers (`bhid,bhjd->bhij`, `bij,bjk->bik`, `ij->ji`, …). Two
/// operands become one batched `sgemm` between permuted copies; subscripts only one operand has and the output
/// lacks are summed out first.
enum EinsumOps {
    static let factories: [String: KernelFactory] = ["Einsum": { node, _ in try EinsumKernel(node) }]

    struct EinsumKernel: Kernel {
        let operands: [[Character]]
        let output: [Character]

        init(_ node: GraphNode) throws {
            let equation = try node.string("equation", default: "").filter { !$0.isWhitespace }
            guard !equation.contains(".") else { throw node.error(.unsupported, "Einsum with an ellipsis is not supported by the runtime") }
            let sides = equation.components(separatedBy: "->")
            guard sides.count <= 2, !sides[0].isEmpty else { throw node.error(.invalidInput, "equation '\(equation)' is malformed") }
            operands = sides[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
            guard (1...2).contains(operands.count), operands.count == node.inputs.count else {
                throw node.error(.unsupported, "Einsum with \(operands.count) operands is not supported by the runtime (1 or 2)")
            }
            for letters in operands where Set(letters).count != letters.count || !letters.allSatisfy(\.isLetter) {
                throw node.error(.unsupported, "Einsum subscripts '\(String(letters))' repeat a letter (diagonals are not supported)")
            }
            if sides.count == 2 {
                output = Array(sides[1])
            } else {
                // Implicit output: the letters that appear once, in alphabetical order.
                let all = operands.flatMap { $0 }
                output = Set(all).filter { c in all.filter { $0 == c }.count == 1 }.sorted()
            }
            let known = Set(operands.flatMap { $0 })
            guard output.allSatisfy(known.contains), Set(output).count == output.count else {
                throw node.error(.invalidInput, "output subscripts '\(String(output))' are not valid")
            }
        }

        func run(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
            var tensors: [RuntimeTensor] = []
            var extents: [Character: Int] = [:]
            for (k, letters) in operands.enumerated() {
                let t = try context.input(inputs, k)
                try context.require(t, [.f32], "input \(k)")
                guard t.shape.count == letters.count else {
                    throw context.error(.shapeMismatch, "input \(k) has shape \(t.shape) for subscripts '\(String(letters))'")
                }
                for (letter, extent) in zip(letters, t.shape) {
                    if let known = extents[letter], known != extent {
                        throw context.error(.shapeMismatch, "subscript \(letter) has extents \(known) and \(extent)")
                    }
                    extents[letter] = extent
                }
                tensors.append(t)
            }
            // Sum out letters that only one operand has and the output lacks.
            var letters = operands
            for k in tensors.indices {
                let others = Set(letters.enumerated().filter { $0.offset != k }.flatMap(\.element)).union(output)
                let summed = letters[k].filter { !others.contains($0) }
                if !summed.isEmpty {
                    let kept = letters[k].filter { others.contains($0) }
                    tensors[k] = try permuteAndSum(tensors[k], from: letters[k], to: kept, context)
                    letters[k] = kept
                }
            }
            if tensors.count == 1 {
                return [try permuteAndSum(tensors[0], from: letters[0], to: output, context)]
            }
            let (a, b) = (letters[0], letters[1])
            let batch = output.filter { a.contains($0) && b.contains($0) }
            let aKept = output.filter { a.contains($0) && !b.contains($0) }
            let bKept = output.filter { b.contains($0) && !a.contains($0) }
            let contracted = a.filter { b.contains($0) && !output.contains($0) }
            let size = { (cs: [Character]) in cs.reduce(1) { $0 * extents[$1]! } }
            let left = try permuteAndSum(tensors[0], from: a, to: batch + aKept + contracted, context)
            let right = try permuteAndSum(tensors[1], from: b, to: batch + contracted + bKept, context)
            let (nb, m, n, k) = (size(batch), size(aKept), size(bKept), size(contracted))
            let product = try CheckedSize.tensor(.f32, [nb, m, n], context)
            for i in 0..<nb {
                BLAS.sgemm(m: m, n: n, k: k, a: left.f32 + i * m * k, lda: max(k, 1), b: right.f32 + i * k * n, ldb: max(n, 1),
                           c: product.f32 + i * m * n, ldc: max(n, 1))
            }
            let productLetters = batch + aKept + bKept
            let shaped = product.reshaped(productLetters.map { extents[$0]! })
            return [try permuteAndSum(shaped, from: productLetters, to: output, context)]
        }

        /// `x` (subscripts `from`) with the letters of `to` in that order, summing over the letters `to` lacks.
        func permuteAndSum(
            _ x: RuntimeTensor, from: [Character], to: [Character], _ context: KernelContext
        ) throws -> RuntimeTensor {
            let summed = from.filter { !to.contains($0) }
            let order = (to + summed).map { from.firstIndex(of: $0)! }
            if order == Array(0..<from.count) && summed.isEmpty { return x }
            let strides = StridedCopy.contiguousStrides(x.shape)
            let permutedShape = order.map { x.shape[$0] }
            let permuted = try CheckedSize.tensor(.f32, permutedShape, context)
            StridedCopy.copy(
                from: x.raw, offset: 0, strides: order.map { strides[$0] }, shape: permutedShape, to: permuted.raw,
                elementSize: 4)
            let keptShape = Array(permutedShape.prefix(to.count))
            if summed.isEmpty { return permuted }
            let inner = permutedShape.dropFirst(to.count).reduce(1, *)
            let out = RuntimeTensor(uninitialized: .f32, shape: keptShape)
            for i in 0..<out.count {
                var total: Float = 0
                let row = permuted.f32 + i * inner
                for j in 0..<inner { total += row[j] }
                out.f32[i] = total
            }
            return out
        }
    }
}
