import PruneCore

/// Splitting a tensor along its first (sample) dimension, for batching.
extension RuntimeTensor {
    /// The elements of one sample: the product of every dimension after the first (1 for rank ≤ 1).
    public var sampleSize: Int { shape.dropFirst().reduce(1, *) }

    /// A copy of the samples `range` along dimension 0: shape `[range.count] + shape[1...]`.
    ///
    /// - Precondition: the tensor has rank ≥ 1 and `range` lies within `0..<shape[0]`.
    /// - Complexity: O(`range.count` × ``sampleSize``), one contiguous copy.
    public func samples(_ range: Range<Int>) -> RuntimeTensor {
        precondition(
            !shape.isEmpty && range.lowerBound >= 0 && range.upperBound <= shape[0], "samples \(range) of \(shape)")
        if range.count == shape[0] { return self }
        let rowBytes = sampleSize * dtype.byteSize
        let result = RuntimeTensor(uninitialized: dtype, shape: [range.count] + shape.dropFirst())
        result.raw.copyMemory(from: raw + range.lowerBound * rowBytes, byteCount: range.count * rowBytes)
        return result
    }
}
