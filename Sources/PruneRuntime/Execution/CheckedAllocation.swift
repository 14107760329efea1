import PruneCore

/// Checked allocation for kernels whose output shape comes from values or attributes of the model.
extension KernelContext {
    /// The bytes a tensor of `dtype` and `shape` takes, after checking that nothing overflows and the size stays
    /// within ``AllocationBudget/maxTensorBytes``.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming the node and its op when the shape cannot be allocated.
    func checkedByteCount(_ dtype: DType, _ shape: [Int], _ what: String = "output") throws -> Int {
        do {
            return try AllocationBudget.byteCount(shape: shape, elementSize: dtype.byteSize)
        } catch {
            throw self.error(.invalidInput, "\(what) shape \(shape) \(error)")
        }
    }

    /// A fresh tensor of `dtype` and `shape`, allocated only after ``checkedByteCount(_:_:_:)`` accepts it.
    func allocate(_ dtype: DType, _ shape: [Int], _ what: String = "output") throws -> RuntimeTensor {
        _ = try checkedByteCount(dtype, shape, what)
        return RuntimeTensor(uninitialized: dtype, shape: shape)
    }

    /// The element count of `shape`, without overflow.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming the node for a negative dimension or an overflowing product.
    func checkedElementCount(_ shape: [Int], _ what: String) throws -> Int {
        do {
            return try AllocationBudget.elementCount(shape)
        } catch {
            throw self.error(.invalidInput, "\(what) \(shape) \(error)")
        }
    }
}
