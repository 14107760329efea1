import Foundation

/// Recycles tensor storage between and within interpreter runs, so a warm interpreter stops asking the system
/// for fresh pages (each new page of a large buffer costs a ~2 µs minor fault the first time it is written).
///
/// While ``Interpreter/run(_:observer:)`` runs, every `TensorStorage` of at least ``minimumBytes`` bytes is taken
/// from the interpreter's pool, and it goes back to the pool only when the last tensor sharing it is released —
/// by the interpreter after the value's last consumer, or by the caller for graph outputs and tensors an
/// observer kept. So a buffer is never handed out while any `RuntimeTensor` still refers to it, and returned
/// outputs and observed tensors stay valid for as long as they are held, exactly as without the pool.
///
/// Buffers are grouped by size class (the byte count rounded up to an eighth of its power of two, so at most
/// 12.5 % slack). Free buffers are kept up to twice the most bytes ever in use at once — not just once, because
/// buffers of different classes are live at different times (conv1's and conv2's scratch), so a steady-state run
/// needs more distinct buffers than its peak, and a tighter cap would free and refault one of them every run. A
/// pool therefore holds at most about three times the peak of live storage; a buffer beyond that is freed.
/// Returning buffers is thread-safe (the last reference may be dropped on any thread).
final class BufferPool: @unchecked Sendable {
    /// Smaller buffers come from malloc's small-object bins, which are fast and reuse pages already.
    static let minimumBytes = 16 * 1024

    /// The pool `TensorStorage` draws from on this thread, bound by ``bind(_:_:)`` around an interpreter run.
    static var current: BufferPool? {
        pthread_getspecific(currentKey).map { Unmanaged<BufferPool>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Runs `body` with `pool` (or no pool) as this thread's ``current`` pool; `pool` must outlive the call.
    static func bind<T>(_ pool: BufferPool?, _ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(currentKey)
        pthread_setspecific(currentKey, pool.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
        defer { pthread_setspecific(currentKey, previous) }
        return try body()
    }

    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var freeBytes = 0
    private var inUseBytes = 0
    private var peakInUseBytes = 0
    private var reused = 0
    private var allocated = 0

    /// The capacity of the class `byteCount` falls in: a multiple of an eighth of its power of two.
    static func sizeClass(_ byteCount: Int) -> Int {
        let bytes = max(byteCount, minimumBytes)
        let power = Int.bitWidth - (bytes - 1).leadingZeroBitCount  // 2^power >= bytes
        let step = max(64, 1 << max(0, power - 3))
        return (bytes + step - 1) / step * step
    }

    /// A 64-byte-aligned buffer of at least `byteCount` bytes and its capacity (to hand back to ``give(_:capacity:)``).
    func take(_ byteCount: Int) -> (UnsafeMutableRawPointer, Int) {
        let capacity = BufferPool.sizeClass(byteCount)
        lock.lock()
        inUseBytes += capacity
        peakInUseBytes = max(peakInUseBytes, inUseBytes)
        if let pointer = free[capacity]?.popLast() {
            freeBytes -= capacity
            reused += 1
            lock.unlock()
            return (pointer, capacity)
        }
        allocated += 1
        lock.unlock()
        return (UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64), capacity)
    }

    /// Takes back a buffer from ``take(_:)``; frees it instead when the pool already holds enough.
    func give(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
        lock.lock()
        inUseBytes -= capacity
        if freeBytes + capacity <= 2 * peakInUseBytes {
            free[capacity, default: []].append(pointer)
            freeBytes += capacity
            lock.unlock()
        } else {
            lock.unlock()
            pointer.deallocate()
        }
    }

    /// Buffers served from the free lists and freshly allocated so far (a test hook).
    var counts: (reused: Int, allocated: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (reused, allocated)
    }

    /// Bytes held in free lists (a test hook).
    var pooledBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return freeBytes
    }

    deinit {
        for list in free.values { for pointer in list { pointer.deallocate() } }
    }
}

/// The thread-specific slot behind ``BufferPool/current`` (a plain thread-local: kernels run synchronously on the
/// calling thread, and worker threads of `parallelChunks` simply allocate without a pool).
private let currentKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()
