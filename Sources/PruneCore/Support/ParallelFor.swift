import Dispatch
import Foundation

/// Runs independent iterations on several threads; used by scans over tensors.
package enum ParallelFor {
    /// The number of threads scans use by default: the active processor count.
    package static var defaultThreads: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Calls `body(i)` for every `i` in `0..<count`, spreading the calls over up to `threads` threads.
    ///
    /// Calls with `threads == 1` or `count <= 1` run on the current thread.
    package static func run(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }

    /// Like ``run(_:threads:_:)``, collecting one result per iteration in order; the first error is rethrown.
    package static func map<T: Sendable>(
        _ count: Int, threads: Int, _ body: @Sendable (Int) throws -> T
    ) throws -> [T] {
        let results = ResultSlots<T>(count: count)
        run(count, threads: threads) { i in results.store(i, Result { try body(i) }) }
        return try results.collect()
    }
}

/// One slot per iteration, written once each from different threads.
private final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private var slots: [Result<T, any Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<T, any Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func collect() throws -> [T] {
        try slots.map { try $0!.get() }
    }
}
