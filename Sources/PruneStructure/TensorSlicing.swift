import PruneCore

extension Tensor {
    /// A copy without the indices `removed` along `axis`, in any element type; zeros recorded by a mask are
    /// written into the copy.
    ///
    /// - Complexity: O(elements).
    func removing(_ removed: Set<Int>, along axis: Int) -> Tensor {
        var newShape = shape
        let extent = shape[axis]
        let kept = (0..<extent).filter { !removed.contains($0) }
        newShape[axis] = kept.count
        let outer = shape[..<axis].reduce(1, *)
        let innerBytes = shape[(axis + 1)...].reduce(1, *) * dtype.byteSize
        var source = [UInt8]()
        source.reserveCapacity(byteCount)
        forEachByteChunk { source.append(contentsOf: $0) }
        let bytes = TensorBytes(count: outer * kept.count * innerBytes) { target in
            source.withUnsafeBytes { from in
                var position = 0
                for o in 0..<outer {
                    for k in kept {
                        let start = (o * extent + k) * innerBytes
                        UnsafeMutableRawBufferPointer(rebasing: target[position..<(position + innerBytes)]).copyMemory(
                            from: UnsafeRawBufferPointer(rebasing: from[start..<(start + innerBytes)]))
                        position += innerBytes
                    }
                }
            }
        }
        return Tensor(dtype: dtype, shape: newShape, bytes: bytes)
    }
}
