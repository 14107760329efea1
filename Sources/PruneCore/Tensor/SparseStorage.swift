/// The element-level rules every sparse storage format shares: which elements are stored, how a dense tensor is
/// encoded, and how one is rebuilt (with size checks) from what a file holds.
///
/// An element is stored when it is not zero; either sign of zero counts as zero, as PyTorch's `tensor != 0` does
/// (so a masked `-0.0` is not kept). ONNX's `sparse_initializer` (coordinate list) and the compressed-tensors
/// bitmask formats are built from these functions; their container code lives with each format.
package enum SparseStorage {
    /// Why sparse data cannot be turned into a dense tensor; `reason` completes "sparse tensor 'name': ".
    package struct Invalid: Error, Equatable {
        /// A phrase saying what is wrong.
        package var reason: String

        /// Creates the error.
        package init(_ reason: String) { self.reason = reason }
    }

    /// Whether the element at byte `offset` of `raw` is non-zero in `dtype`.
    @inline(__always)
    package static func isNonzero(_ raw: UnsafeRawBufferPointer, at offset: Int, dtype: DType) -> Bool {
        switch dtype {
        case .f32: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self) & 0x7FFF_FFFF != 0
        case .f64: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) & 0x7FFF_FFFF_FFFF_FFFF != 0
        case .f16, .bf16: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self) & 0x7FFF != 0
        case .i64: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != 0
        case .i32: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self) != 0
        case .i16: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self) != 0
        case .i8, .u8, .bool: raw[offset] != 0
        }
    }

    /// The number of elements of `tensor` that would be stored (its non-zeros), counted in one pass.
    package static func nonzeroCount(of tensor: Tensor) -> Int {
        let size = tensor.dtype.byteSize
        var count = 0
        tensor.forEachByteChunk { chunk in
            let elements = chunk.count / size
            var local = 0
            for element in 0..<elements {
                local &+= isNonzero(chunk, at: element &* size, dtype: tensor.dtype) ? 1 : 0
            }
            count += local
        }
        return count
    }

    /// The coordinate list (COO) of `tensor`: the row-major linear index of each non-zero element, ascending, and
    /// the non-zero values' bytes in the same order (little-endian, the tensor's dtype).
    ///
    /// - Complexity: O(`elementCount`), one pass over the bytes as they would be saved.
    package static func coordinateList(of tensor: Tensor) -> (indices: [Int64], values: [UInt8]) {
        let size = tensor.dtype.byteSize
        var indices: [Int64] = []
        var values: [UInt8] = []
        var base = 0
        tensor.forEachByteChunk { chunk in
            let elements = chunk.count / size
            for element in 0..<elements where isNonzero(chunk, at: element &* size, dtype: tensor.dtype) {
                indices.append(Int64(base + element))
                values.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[(element * size)..<((element + 1) * size)]))
            }
            base += elements
        }
        return (indices, values)
    }

    /// The byte count of the dense tensor of `shape` in `dtype`, checked against overflow and ``AllocationBudget``.
    ///
    /// - Throws: ``Invalid`` when the size overflows or is over budget.
    package static func denseByteCount(dtype: DType, shape: [Int]) throws(Invalid) -> Int {
        do {
            return try AllocationBudget.byteCount(shape: shape, elementSize: dtype.byteSize)
        } catch {
            throw Invalid("its dense shape \(shape) \(error)")
        }
    }

    /// Rebuilds a dense tensor from a coordinate list, checking everything a hostile file could get wrong; the one
    /// densifier every reader of sparse data uses (ONNX documents, the interpreter).
    ///
    /// - Parameters:
    ///   - values: the stored values' bytes, `dtype.byteSize` each.
    ///   - indices: either one linear (row-major) index per value, or `shape.count` coordinates per value (the
    ///     `[NNZ, rank]` form), as `columns` says.
    ///   - columns: 1 for linear indices, `shape.count` for coordinates.
    ///   - buffer: where the dense bytes go: exactly ``denseByteCount(dtype:shape:)`` bytes; zero-filled first.
    /// - Throws: ``Invalid`` when the index count does not match the value count, an index is out of range, or the
    ///   indices are not strictly ascending (ONNX requires ascending order without duplicates; lexicographic for
    ///   coordinates). Nothing is written to `buffer` before every index has been checked.
    /// - Complexity: O(dense size + NNZ).
    package static func scatter(
        values: UnsafeRawBufferPointer, dtype: DType, indices: UnsafeBufferPointer<Int64>, columns: Int, shape: [Int],
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(Invalid) {
        let size = dtype.byteSize
        let elementCount = buffer.count / max(size, 1)
        guard Tensor.checkedElementCount(shape) == elementCount, buffer.count == elementCount * size else {
            throw Invalid("the dense buffer does not fit shape \(shape)")
        }
        guard values.count % size == 0 else {
            throw Invalid("its values hold \(values.count) bytes, not a whole number of \(dtype.rawValue) elements")
        }
        let nnz = values.count / size
        guard columns == 1 || (columns == shape.count && columns > 0) else {
            throw Invalid("its indices have \(columns) columns; expected 1 (linear) or the rank \(shape.count)")
        }
        guard indices.count == nnz * columns else {
            throw Invalid("it has \(nnz) values but \(indices.count) index entries (expected \(nnz * columns))")
        }
        guard nnz <= elementCount else {
            throw Invalid("it has \(nnz) values, more than the \(elementCount) elements of shape \(shape)")
        }
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        var linear = [Int](repeating: 0, count: nnz)
        for entry in 0..<nnz {
            var position = 0
            if columns == 1 {
                let index = indices[entry]
                guard index >= 0, index < Int64(elementCount) else {
                    throw Invalid("index \(index) of value \(entry) is outside shape \(shape)")
                }
                position = Int(index)
            } else {
                for axis in 0..<columns {
                    let coordinate = indices[entry * columns + axis]
                    guard coordinate >= 0, coordinate < Int64(shape[axis]) else {
                        throw Invalid("coordinate \(coordinate) on axis \(axis) of value \(entry) is outside shape \(shape)")
                    }
                    position += Int(coordinate) * strides[axis]
                }
            }
            if entry > 0, position <= linear[entry - 1] {
                throw Invalid("its indices are not strictly ascending at value \(entry)")
            }
            linear[entry] = position
        }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        guard let target = buffer.baseAddress, let source = values.baseAddress else { return }
        for (entry, position) in linear.enumerated() {
            (target + position * size).copyMemory(from: source + entry * size, byteCount: size)
        }
    }

    /// ``scatter(values:dtype:indices:columns:shape:into:)`` into a new tensor.
    ///
    /// - Throws: ``Invalid`` as `scatter` and ``denseByteCount(dtype:shape:)`` do.
    package static func dense(
        values: UnsafeRawBufferPointer, dtype: DType, indices: UnsafeBufferPointer<Int64>, columns: Int, shape: [Int]
    ) throws(Invalid) -> Tensor {
        let byteCount = try denseByteCount(dtype: dtype, shape: shape)
        var failure: Invalid?
        let bytes = TensorBytes(count: byteCount) { (buffer: UnsafeMutableRawBufferPointer) -> Void in
            do throws(Invalid) {
                try scatter(values: values, dtype: dtype, indices: indices, columns: columns, shape: shape, into: buffer)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return Tensor(dtype: dtype, shape: shape, bytes: bytes)
    }

    /// compressed-tensors' bitmask form of a rank-2 tensor (its `BitmaskCompressor`): the non-zero values in
    /// row-major order, a bitmask of shape `[rows, ⌈cols/8⌉]` with element `j` of a row in bit `j % 8` of byte
    /// `j / 8` (`numpy.packbits(..., bitorder="little")`), and each row's start in the values.
    ///
    /// - Precondition: `tensor.shape.count == 2`.
    package static func bitmask(of tensor: Tensor) -> (values: [UInt8], bitmask: [UInt8], rowOffsets: [Int64]) {
        precondition(tensor.shape.count == 2, "bitmask storage takes rank-2 tensors")
        let (rows, columns) = (tensor.shape[0], tensor.shape[1])
        let rowBytes = (columns + 7) / 8
        let size = tensor.dtype.byteSize
        var values: [UInt8] = []
        var mask = [UInt8](repeating: 0, count: rows * rowBytes)
        var rowOffsets = [Int64](repeating: 0, count: rows)
        var stored = 0
        var base = 0
        tensor.forEachByteChunk { chunk in
            let elements = chunk.count / size
            for element in 0..<elements {
                let flat = base + element
                let (row, column) = columns == 0 ? (0, 0) : (flat / columns, flat % columns)
                if column == 0 { rowOffsets[row] = Int64(stored) }
                guard isNonzero(chunk, at: element &* size, dtype: tensor.dtype) else { continue }
                mask[row * rowBytes + column / 8] |= UInt8(1) << UInt8(column % 8)
                values.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[(element * size)..<((element + 1) * size)]))
                stored += 1
            }
            base += elements
        }
        return (values, mask, rowOffsets)
    }

    /// compressed-tensors' 2:4 form of a rank-2 tensor (its `Sparse24BitMaskCompressor`): in every group of four
    /// consecutive elements of a row exactly two are kept — the non-zeros, then the earliest zeros when a group has
    /// fewer than two — giving values of shape `[rows, cols/2]` and a bitmask `[rows, ⌈cols/8⌉]` as in ``bitmask(of:)``.
    ///
    /// - Returns: nil when the tensor is not rank 2, its columns are not a multiple of 4, or some group has more than
    ///   two non-zeros.
    package static func twoFour(of tensor: Tensor) -> (values: [UInt8], bitmask: [UInt8])? {
        guard tensor.shape.count == 2, tensor.shape[1] % 4 == 0 else { return nil }
        let (rows, columns) = (tensor.shape[0], tensor.shape[1])
        let rowBytes = (columns + 7) / 8
        let size = tensor.dtype.byteSize
        var values: [UInt8] = []
        values.reserveCapacity(rows * columns / 2 * size)
        var mask = [UInt8](repeating: 0, count: rows * rowBytes)
        var fits = true
        var base = 0
        // Chunks hold whole elements in multiples of 64, so groups of four never straddle two chunks.
        tensor.forEachByteChunk { chunk in
            guard fits else { return }
            let elements = chunk.count / size
            var group = 0
            while group + 4 <= elements {
                var keep: [Int] = []
                for lane in 0..<4 where isNonzero(chunk, at: (group + lane) * size, dtype: tensor.dtype) {
                    keep.append(lane)
                }
                guard keep.count <= 2 else {
                    fits = false
                    return
                }
                var lane = 0
                while keep.count < 2 {
                    if !keep.contains(lane) { keep.append(lane) }
                    lane += 1
                }
                keep.sort()
                for lane in keep {
                    let flat = base + group + lane
                    let (row, column) = (flat / columns, flat % columns)
                    mask[row * rowBytes + column / 8] |= UInt8(1) << UInt8(column % 8)
                    let offset = (group + lane) * size
                    values.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + size)]))
                }
                group += 4
            }
            base += elements
        }
        return fits ? (values, mask) : nil
    }
}
