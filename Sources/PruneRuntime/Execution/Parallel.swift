import Dispatch

/// A raw pointer handed to worker threads; each worker writes a disjoint range.
struct SharedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Splits `0..<count` into up to `threads` contiguous chunks of at least `grain` items and runs them in parallel.
///
/// Runs inline when one chunk suffices, so small tensors pay no dispatch cost.
@inline(__always)
func parallelChunks(_ count: Int, threads: Int, grain: Int = 1 << 15, _ body: @Sendable (Range<Int>) -> Void) {
    let chunks = min(threads, count / max(grain, 1))
    if chunks <= 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = count * chunk / chunks
        let end = count * (chunk + 1) / chunks
        body(start..<end)
    }
}
