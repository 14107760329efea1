import Foundation
import PruneCore

/// The typed hyper-parameter values of one configured component, laid out as libffi argument slots.
///
/// Each value sits in its own 8-byte slot: a `double`, an `int64_t`, an `int` (bool) or a `const char *` to a C
/// copy of the string. Built once when the component is configured and read by every call; freed with it.
final class FFIArguments: @unchecked Sendable {
    private let slots: UnsafeMutableRawPointer
    private let count: Int
    private var strings: [UnsafeMutablePointer<CChar>] = []

    /// Lays out `values` in the order of `signature`.
    init(_ values: ParameterValues, signature: ParameterSignature) {
        count = signature.parameters.count
        slots = .allocate(byteCount: max(1, count) * 8, alignment: 8)
        slots.initializeMemory(as: UInt64.self, repeating: 0, count: max(1, count))
        for (i, spec) in signature.parameters.enumerated() {
            let slot = slots + i * 8
            switch values.values[spec.name] {
            case .f64(let v): slot.storeBytes(of: v, as: Double.self)
            case .i64(let v):
                if spec.type == .f64 {
                    slot.storeBytes(of: Double(v), as: Double.self)
                } else {
                    slot.storeBytes(of: v, as: Int64.self)
                }
            case .bool(let v): slot.storeBytes(of: v ? 1 : 0, as: Int32.self)
            case .str(let v):
                let copy = strdup(v)!
                strings.append(copy)
                slot.storeBytes(of: UnsafePointer(copy), as: UnsafePointer<CChar>.self)
            case nil: preconditionFailure("parameter '\(spec.name)' was not bound")
            }
        }
    }

    deinit {
        for string in strings { free(string) }
        slots.deallocate()
    }

    /// The address of parameter `index`'s value, as libffi wants it.
    func slot(_ index: Int) -> UnsafeMutableRawPointer {
        precondition(index < count, "argument \(index) of \(count)")
        return slots + index * 8
    }
}
