/// A dense n-dimensional array of one dtype, backed by a mapped file region or owned memory.
///
/// A tensor is a value: rewriting one returns a new tensor and never touches the bytes of the original (which
/// may be the user's input file). Masking is lazy — `zeroing(_:)` records which elements become zero and the
/// zeros are written out only when the bytes are read — so a pruned 400 M-parameter model costs one bit per
/// weight on top of its mapped input.
public struct Tensor: Sendable {
    /// The element type.
    public let dtype: DType
    /// The extent of each dimension, outermost first (row-major, C order).
    public let shape: [Int]
    package let bytes: TensorBytes
    /// Elements that read as zero whatever `bytes` holds; nil when none.
    package let zeroMask: Mask?

    /// The number of elements: the product of `shape` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
    /// The number of bytes the elements take in `dtype`.
    public var byteCount: Int { elementCount * dtype.byteSize }

    package init(dtype: DType, shape: [Int], bytes: TensorBytes, zeroMask: Mask? = nil) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
        self.zeroMask = zeroMask
    }

    /// Creates a tensor from raw little-endian bytes, copying them.
    ///
    /// - Throws: `PruneError` when the byte count is not `product(shape) × dtype.byteSize`.
    public init(dtype: DType, shape: [Int], bytes raw: some Collection<UInt8>) throws {
        guard let count = Tensor.checkedElementCount(shape),
            count.multipliedReportingOverflow(by: dtype.byteSize)
                .partialValue == raw.count
        else {
            throw PruneError(
                .shapeMismatch, "shape \(shape) of \(dtype.rawValue) needs a different byte count than \(raw.count)")
        }
        let array = Array(raw)
        self.init(dtype: dtype, shape: shape, bytes: array.withUnsafeBytes { TensorBytes(copying: $0) })
    }

    /// Creates a float32 tensor holding `values` in row-major order.
    ///
    /// - Precondition: `values.count` equals the product of `shape`.
    public init(shape: [Int], values: [Float]) {
        precondition(Tensor.checkedElementCount(shape) == values.count, "shape \(shape) needs \(values.count) values")
        self.init(dtype: .f32, shape: shape, bytes: values.withUnsafeBytes { TensorBytes(copying: $0) })
    }

    /// The element count of `shape`, or nil when a dimension is negative or the product overflows.
    public static func checkedElementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// A tensor equal to this one except that the elements set in `mask` read as zero; the dtype is kept.
    ///
    /// - Precondition: `mask.count == elementCount`.
    public func zeroing(_ mask: Mask) -> Tensor {
        precondition(mask.count == elementCount, "mask of \(mask.count) positions for \(elementCount) elements")
        let combined = zeroMask.map { $0.union(mask) } ?? mask
        return Tensor(dtype: dtype, shape: shape, bytes: bytes, zeroMask: combined)
    }

    /// Whether the stored bytes are exactly those of the source (no elements zeroed since loading).
    public var isUnmodified: Bool { zeroMask == nil }

    /// Hands `body` the tensor's bytes as they would be saved, in chunks of whole elements.
    ///
    /// Unmodified tensors are handed over without a copy; masked ones pass through a bounded scratch buffer, so
    /// saving never holds more than one chunk of a tensor in memory.
    public func forEachByteChunk(
        maxChunkBytes: Int = 8 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let raw = bytes.raw
        guard let zeroMask else {
            try body(raw)
            return
        }
        let elementSize = dtype.byteSize
        let elementsPerChunk = max(64, (maxChunkBytes / elementSize) & ~63)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: elementsPerChunk * elementSize, alignment: 64)
        defer { scratch.deallocate() }
        var start = 0
        while start < elementCount {
            let end = min(elementCount, start + elementsPerChunk)
            let chunk = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<((end - start) * elementSize)])
            chunk.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(start * elementSize)..<(end * elementSize)]))
            Tensor.applyZeros(zeroMask, elements: start..<end, elementSize: elementSize, into: chunk)
            try body(UnsafeRawBufferPointer(chunk))
            start = end
        }
    }

    /// Hint that this tensor will not be read again soon: mapped pages leave the resident set.
    public func releaseResidentPages() { bytes.releaseResidentPages() }

    /// The 4-byte case of `applyZeros`, 16 lanes at a time (the chunk starts on a mask word boundary).
    private static func applyZeros32(_ mask: Mask, elements: Range<Int>, into base: UnsafeMutableRawPointer) {
        mask.withWords { words in
            let count = elements.count
            var i = 0
            var w = elements.lowerBound >> 6
            while i &+ 64 <= count {
                let word = words[w]
                if word != 0 {
                    for quarter in 0..<4 {
                        let offset = (i &+ quarter &* 16) &* 4
                        let bits = (word >> UInt64(quarter &* 16)) & 0xFFFF
                        guard bits != 0 else { continue }
                        let v = base.loadUnaligned(fromByteOffset: offset, as: SIMD16<Int32>.self)
                        let zeroed = v.replacing(with: 0, where: Kernels.lanes(fromBits: bits))
                        base.storeBytes(of: zeroed, toByteOffset: offset, as: SIMD16<Int32>.self)
                    }
                }
                w &+= 1
                i &+= 64
            }
            while i < count {
                let index = elements.lowerBound &+ i
                if words[index >> 6] & (1 << UInt64(index & 63)) != 0 {
                    base.storeBytes(of: UInt32(0), toByteOffset: i &* 4, as: UInt32.self)
                }
                i &+= 1
            }
        }
    }

    /// Writes zeros over the masked elements of `elements` in `chunk` (which holds exactly those elements).
    private static func applyZeros(
        _ mask: Mask, elements: Range<Int>, elementSize: Int, into chunk: UnsafeMutableRawBufferPointer
    ) {
        guard let base = chunk.baseAddress else { return }
        if elementSize == 4, elements.lowerBound & 63 == 0 {
            applyZeros32(mask, elements: elements, into: base)
            return
        }
        mask.withWords { words in
            var index = elements.lowerBound
            while index < elements.upperBound {
                let word = words[index >> 6] >> UInt64(index & 63)
                if word == 0 {
                    index = (index | 63) + 1
                    continue
                }
                let skip = word.trailingZeroBitCount
                index += skip
                if index < elements.upperBound {
                    (base + (index - elements.lowerBound) * elementSize).initializeMemory(
                        as: UInt8.self, repeating: 0, count: elementSize)
                }
                index += 1
            }
        }
    }
}
