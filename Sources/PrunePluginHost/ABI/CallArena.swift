import Foundation
import PruneCore

/// Memory that lives exactly as long as one plugin call: views' shapes, names, converted tensor data, outputs.
///
/// Also keeps the tensors whose storage it lends out alive, so a borrowed view never outlives its bytes.
final class CallArena {
    private var allocations: [UnsafeMutableRawPointer] = []
    private var kept: [Tensor] = []

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }

    /// Uninitialized memory for `count` values of `T`, 64-byte aligned.
    func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: max(64, MemoryLayout<T>.alignment))
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(1, count))
    }

    /// A copy of `values`.
    func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let pointer = allocate(T.self, count: values.count)
        pointer.initialize(from: values, count: values.count)
        return pointer
    }

    /// A NUL-terminated copy of `text`.
    func cString(_ text: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(text.utf8CString)
        return copy(utf8)
    }

    /// Keeps `tensor` (and so its bytes) alive for the call.
    func keep(_ tensor: Tensor) { kept.append(tensor) }
}
