import CPrunePlugin
import PruneCore

/// Builds the borrowed float32 views plugins read.
enum TensorViews {
    /// A contiguous float32 view of `tensor`, valid while `arena` lives.
    ///
    /// An aligned, unmasked float32 tensor is lent in place (a mapped file is not copied); anything else is
    /// converted into arena memory.
    static func view(of tensor: Tensor, name: String, in arena: CallArena) -> prune_tensor_view {
        let count = tensor.elementCount
        let data: UnsafeRawPointer
        let raw = tensor.bytes.raw
        if tensor.dtype == .f32, tensor.isUnmodified, let base = raw.baseAddress,
            Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0
        {
            arena.keep(tensor)
            data = base
        } else {
            let buffer = arena.allocate(Float.self, count: count)
            tensor.withFloatValues { values in
                if let source = values.baseAddress { buffer.initialize(from: source, count: count) }
            }
            data = UnsafeRawPointer(buffer)
        }
        return view(data: data, shape: tensor.shape, name: name, in: arena)
    }

    /// A contiguous float32 view of `data` with `shape`.
    static func view(data: UnsafeRawPointer, shape: [Int], name: String, in arena: CallArena) -> prune_tensor_view {
        var strides = [Int64](repeating: 1, count: shape.count)
        var stride: Int64 = 1
        for axis in shape.indices.reversed() {
            strides[axis] = stride
            stride *= Int64(shape[axis])
        }
        return prune_tensor_view(
            dtype: PRUNE_DTYPE_F32, rank: Int32(shape.count), shape: arena.copy(shape.map(Int64.init)),
            strides: arena.copy(strides), data: data, name: arena.cString(name))
    }

    /// The layout the pipeline gives `parameter` (``Parameter/effectiveLayout``).
    static func layout(of parameter: Parameter) -> WeightLayout? { parameter.effectiveLayout }

    /// The unit matrix of `slices`: row u holds unit u's elements of every slice, concatenated in slice order.
    ///
    /// - Returns: the matrix in arena memory and its row length.
    /// - Throws: `PruneError.Kind.unsupported` when units of one slice own different numbers of elements.
    /// - Complexity: O(elements covered).
    static func gatherUnits(
        count units: Int, slices: [UnitSlice], target: String, model: Model, in arena: CallArena
    ) throws -> (data: UnsafeMutablePointer<Float>, unitDim: Int) {
        var perSlice: [(parameter: Parameter, perUnit: Int)] = []
        for slice in slices {
            let parameter = try model.parameter(named: slice.parameter)
            let shape = parameter.tensor.shape
            guard slice.axis >= 0, slice.axis < shape.count else {
                throw PruneError(.invalidInput, "'\(target)': axis \(slice.axis) outside '\(slice.parameter)'")
            }
            let outer = shape[..<slice.axis].reduce(1, *)
            let inner = shape[(slice.axis + 1)...].reduce(1, *)
            let extent = shape[slice.axis]
            let covered = (0..<units).map { u in
                let first = slice.offset + u * slice.width
                return max(0, min(extent, first + slice.width) - first)
            }
            guard let width = covered.first, covered.allSatisfy({ $0 == width }) else {
                throw PruneError(
                    .unsupported, "'\(target)': units own different parts of '\(slice.parameter)' (ragged slice)")
            }
            perSlice.append((parameter, outer * width * inner))
        }
        let unitDim = perSlice.reduce(0) { $0 + $1.perUnit }
        let matrix = arena.allocate(Float.self, count: units * unitDim)
        var column = 0
        for (k, slice) in slices.enumerated() {
            let (parameter, perUnit) = perSlice[k]
            var cursor = [Int](repeating: 0, count: units)
            let base = column
            parameter.tensor.withFloatValues { values in
                slice.forEachElement(inShape: parameter.tensor.shape, units: units) { u, i in
                    (matrix + u * unitDim + base + cursor[u]).initialize(to: values[i])
                    cursor[u] += 1
                }
            }
            column += perUnit
        }
        return (matrix, unitDim)
    }
}
