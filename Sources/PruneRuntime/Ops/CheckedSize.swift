import PruneCore

/// Overflow-checked size arithmetic for the kernels that compute output shapes from input values.
enum CheckedSize {
    /// The element count of `shape`, or an error naming the node when an extent is negative or the product
    /// overflows.
    static func count(_ shape: [Int], _ context: KernelContext, _ what: String = "output") throws -> Int {
        var total = 1
        for extent in shape {
            guard extent >= 0 else { throw context.error(.invalidInput, "\(what) shape \(shape) has a negative extent") }
            let (product, overflow) = total.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw context.error(.invalidInput, "\(what) shape \(shape) has too many elements") }
            total = product
        }
        return total
    }

    /// `a + b`, or an error when it overflows.
    static func add(_ a: Int, _ b: Int, _ context: KernelContext) throws -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw context.error(.invalidInput, "size \(a) + \(b) overflows") }
        return sum
    }

    /// `a · b`, or an error when it overflows.
    static func multiply(_ a: Int, _ b: Int, _ context: KernelContext) throws -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw context.error(.invalidInput, "size \(a) × \(b) overflows") }
        return product
    }

    /// Makes an uninitialized tensor of `shape` after checking its element and byte counts against overflow and
    /// the memory budget (``KernelContext/allocate(_:_:_:)``: one check for every computed shape).
    static func tensor(_ dtype: DType, _ shape: [Int], _ context: KernelContext) throws -> RuntimeTensor {
        try context.allocate(dtype, shape)
    }
}
