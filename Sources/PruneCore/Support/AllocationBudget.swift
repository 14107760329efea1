import Foundation

/// Checked size arithmetic and the memory budget for tensors made from untrusted shapes.
///
/// Every path that allocates a tensor whose shape comes from a file or from computed values (ONNX initializers
/// and constants, runtime kernels whose output shape is data, safetensors headers) asks ``byteCount(shape:elementSize:)``
/// first: element counts and byte sizes never wrap, and nothing larger than ``maxTensorBytes`` is allocated.
package enum AllocationBudget {
    /// The largest tensor, in bytes, PruneKit allocates at once: the machine's physical memory, or the value of
    /// the environment variable `PRUNEKIT_MAX_TENSOR_BYTES` when that is a positive integer.
    package static let maxTensorBytes: Int = {
        if let text = ProcessInfo.processInfo.environment["PRUNEKIT_MAX_TENSOR_BYTES"], let value = Int(text),
            value > 0
        {
            return value
        }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }()

    /// Why a shape cannot be allocated.
    package enum Refusal: Error, Equatable, CustomStringConvertible {
        /// A dimension is negative.
        case negativeDimension(Int)
        /// The element count or the byte count does not fit in 64 bits.
        case overflow
        /// The byte count exceeds ``AllocationBudget/maxTensorBytes``.
        case overBudget(bytes: Int, budget: Int)

        /// A phrase to follow "shape [..] ".
        package var description: String {
            switch self {
            case .negativeDimension(let value): "has a negative dimension (\(value))"
            case .overflow: "has more elements or bytes than a 64-bit size can count"
            case .overBudget(let bytes, let budget):
                "needs \(bytes) bytes, more than the \(budget)-byte limit for one tensor (PRUNEKIT_MAX_TENSOR_BYTES)"
            }
        }
    }

    /// The element count of `shape`, without overflow; nil-free: throws for a negative dimension or overflow.
    package static func elementCount(_ shape: [Int]) throws(Refusal) -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { throw .negativeDimension(dimension) }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { throw .overflow }
            count = product
        }
        return count
    }

    /// The bytes `shape` takes at `elementSize` bytes per element, checked against overflow and the budget.
    package static func byteCount(shape: [Int], elementSize: Int) throws(Refusal) -> Int {
        let count = try elementCount(shape)
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
        if overflow { throw .overflow }
        guard bytes <= maxTensorBytes else { throw .overBudget(bytes: bytes, budget: maxTensorBytes) }
        return bytes
    }

    /// Checks that a tensor of `shape` read from a file can be worked on: pruning makes float32 scores (and, for
    /// 16-bit and integer tensors, a float32 copy), 4 bytes per element, so a tensor whose float32 form exceeds
    /// ``maxTensorBytes`` is refused when the file is opened, not when a conversion or a scan of terabytes of a
    /// sparse file runs out of memory or time.
    package static func checkWorkingCopy(shape: [Int]) throws(Refusal) {
        _ = try byteCount(shape: shape, elementSize: 4)
    }
}
