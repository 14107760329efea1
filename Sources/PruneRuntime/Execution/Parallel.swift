import CPruneKernels

/// A raw pointer handed to worker threads; each worker writes a disjoint range.
package struct SharedPointer<T>: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<T>
    package init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Runs `body(part, worker)` for every part in `0..<parts`, on the calling thread and up to `threads − 1` helper
/// threads of the process-wide pool in `CPruneKernels`, which claim parts as they come free. `worker` is below
/// `threads` and runs one part at a time, so it can index per-thread scratch.
///
/// The helpers spin for about 50 µs after a job before sleeping, so the parallel steps of one inference find
/// them running instead of waking a sleeping thread each time, and the caller never waits for a helper that has
/// not started (its parts then run on the caller). While another thread uses the pool, and from inside a part,
/// the parts run inline, one by one.
func parallelParts(_ parts: Int, threads: Int, _ body: @Sendable (_ part: Int, _ worker: Int) -> Void) {
    if parts <= 1 || threads <= 1 {
        for part in 0..<parts { body(part, 0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        var task = body
        withUnsafeMutablePointer(to: &task) { pointer in
            prk_parallel_run(Int64(parts), Int64(threads), runPart, UnsafeMutableRawPointer(pointer))
        }
    }
}

/// The C entry point of a part: `context` points at the Swift closure (no captures, as C thunks must be).
private let runPart: @convention(c) (UnsafeMutableRawPointer?, Int64, Int64) -> Void = { context, part, worker in
    context!.assumingMemoryBound(to: (@Sendable (Int, Int) -> Void).self).pointee(Int(part), Int(worker))
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
    parallelParts(chunks, threads: chunks) { chunk, _ in
        let start = count * chunk / chunks
        let end = count * (chunk + 1) / chunks
        body(start..<end)
    }
}
