import PruneCore

/// Ops that change only the shape (no copy): Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout; plus
/// Shape and Expand.
enum ShapeOps {
    static let factories: [String: KernelFactory] = [
        "Reshape": reshape,
        "Flatten": flatten,
        "Squeeze": squeeze,
        "Unsqueeze": unsqueeze,
        "Identity": { _, _ in ClosureKernel { inputs, context in [try context.input(inputs, 0)] } },
        "Dropout": dropout,
        "Shape": shape,
        "Expand": { _, _ in ClosureKernel(body: expand) },
    ]

    private static let reshape: KernelFactory = { node, opset in
        let allowZero = try node.int("allowzero", default: 0) != 0
        let attributeShape = opset < 5 ? try node.ints("shape") : nil
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let requested = try attributeShape ?? context.intList(try context.input(inputs, 1), "input 1 (shape)")
            var shape = requested
            var inferred: Int?
            for (i, extent) in requested.enumerated() {
                if extent == 0 && !allowZero {
                    guard i < x.shape.count else { throw context.error(.shapeMismatch, "shape \(requested) copies dimension \(i) of \(x.shape)") }
                    shape[i] = x.shape[i]
                } else if extent == -1 {
                    guard inferred == nil else { throw context.error(.invalidInput, "shape \(requested) has two -1 entries") }
                    inferred = i
                } else if extent < 0 {
                    throw context.error(.invalidInput, "shape \(requested) has a negative extent")
                }
            }
            if let inferred {
                let known = try context.checkedElementCount(
                    shape.enumerated().filter { $0.offset != inferred }.map(\.element), "shape")
                guard known > 0, x.count % known == 0 else {
                    throw context.error(.shapeMismatch, "cannot reshape \(x.shape) to \(requested)")
                }
                shape[inferred] = x.count / known
            }
            guard try context.checkedElementCount(shape, "shape") == x.count else {
                throw context.error(.shapeMismatch, "cannot reshape \(x.shape) (\(x.count) elements) to \(requested)")
            }
            return [x.reshaped(shape)]
        }
    }

    private static let flatten: KernelFactory = { node, _ in
        let axisAttribute = try node.int("axis", default: 1)
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let rank = x.shape.count
            let axis = axisAttribute < 0 ? axisAttribute + rank : axisAttribute
            guard axis >= 0, axis <= rank else { throw context.error(.invalidInput, "axis \(axisAttribute) is out of range for rank \(rank)") }
            let outer = x.shape[..<axis].reduce(1, *)
            return [x.reshaped([outer, x.count / max(outer, 1)])]
        }
    }

    /// Axes from the attribute (before opset 13) or from input 1.
    private static func axes(_ attribute: [Int]?, _ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [Int]? {
        if let attribute { return attribute }
        if inputs.count > 1, let t = inputs[1] { return try context.intList(t, "input 1 (axes)") }
        return nil
    }

    private static let squeeze: KernelFactory = { node, _ in
        let attribute = try node.ints("axes")
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let rank = x.shape.count
            guard let requested = try axes(attribute, inputs, context) else {
                return [x.reshaped(x.shape.filter { $0 != 1 })]
            }
            let resolved = Set(try requested.map { try context.axis($0, rank: rank) })
            for axis in resolved where x.shape[axis] != 1 {
                throw context.error(.shapeMismatch, "cannot squeeze axis \(axis) of extent \(x.shape[axis])")
            }
            return [x.reshaped(x.shape.enumerated().filter { !resolved.contains($0.offset) }.map(\.element))]
        }
    }

    private static let unsqueeze: KernelFactory = { node, _ in
        let attribute = try node.ints("axes")
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            guard let requested = try axes(attribute, inputs, context) else {
                throw context.error(.invalidInput, "axes are missing")
            }
            let rank = x.shape.count + requested.count
            let resolved = Set(try requested.map { try context.axis($0, rank: rank) })
            guard resolved.count == requested.count else { throw context.error(.invalidInput, "axes \(requested) repeat") }
            var shape: [Int] = []
            var next = x.shape.makeIterator()
            for d in 0..<rank { shape.append(resolved.contains(d) ? 1 : next.next()!) }
            return [x.reshaped(shape)]
        }
    }

    /// Inference Dropout: the identity, with an all-true mask when the mask output is requested.
    private static let dropout: KernelFactory = { node, _ in
        if try node.optionalInt("is_test") == 0 {
            throw node.error(.unsupported, "attribute is_test=0 (training) is not supported")
        }
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            if inputs.count > 2, let training = inputs[2], training.boolValues().first == true {
                throw context.error(.unsupported, "training_mode=true (random dropout) is not supported")
            }
            guard context.node.outputs.count > 1 else { return [x] }
            let mask = RuntimeTensor(uninitialized: .bool, shape: x.shape)
            mask.u8.update(repeating: 1, count: x.count)
            return [x, mask]
        }
    }

    private static let shape: KernelFactory = { node, _ in
        let start = try node.int("start", default: 0)
        let end = try node.optionalInt("end")
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let rank = x.shape.count
            func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
            let lower = clamp(start)
            let upper = clamp(end ?? rank)
            let dims = lower < upper ? Array(x.shape[lower..<upper]) : []
            return [RuntimeTensor(shape: [dims.count], int64s: dims.map { Int64($0) })]
        }
    }

    private static func expand(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        let x = try context.input(inputs, 0)
        let requested = try context.intList(try context.input(inputs, 1), "input 1 (shape)")
        guard let shape = Broadcast.shape([x.shape, requested]) else {
            throw context.error(.shapeMismatch, "\(x.shape) does not broadcast with \(requested)")
        }
        _ = try context.checkedByteCount(x.dtype, shape)
        return [broadcastCopy(x, to: shape)]
    }
}

/// `x` broadcast to `shape` as a new contiguous tensor (any dtype).
func broadcastCopy(_ x: RuntimeTensor, to shape: [Int]) -> RuntimeTensor {
    let out = RuntimeTensor(uninitialized: x.dtype, shape: shape)
    StridedCopy.copy(
        from: x.raw, offset: 0, strides: Broadcast.strides(of: x.shape, in: shape), shape: shape, to: out.raw,
        elementSize: x.dtype.byteSize)
    return out
}
