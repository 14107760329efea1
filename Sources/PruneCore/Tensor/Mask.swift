/// A set of element (or unit) positions, stored as one bit each; a set bit means "pruned".
///
/// A mask over 400 M weights takes 50 MB, so selections over whole models stay small next to the weights.
public struct Mask: Sendable, Hashable {
    /// The number of positions the mask covers.
    public let count: Int
    package private(set) var words: [UInt64]

    /// Creates a mask of `count` positions, none of them set.
    public init(count: Int) {
        precondition(count >= 0, "a mask cannot have a negative size")
        self.count = count
        self.words = [UInt64](repeating: 0, count: (count + 63) >> 6)
    }

    /// Creates a mask with exactly the given positions set.
    ///
    /// - Precondition: every index lies in `0..<count`.
    public init(count: Int, setting indices: some Sequence<Int>) {
        self.init(count: count)
        for index in indices { self[index] = true }
    }

    /// Whether position `index` is set.
    public subscript(index: Int) -> Bool {
        get {
            precondition(index >= 0 && index < count, "mask index \(index) out of range 0..<\(count)")
            return words[index >> 6] & (1 << UInt64(index & 63)) != 0
        }
        set {
            precondition(index >= 0 && index < count, "mask index \(index) out of range 0..<\(count)")
            if newValue {
                words[index >> 6] |= 1 << UInt64(index & 63)
            } else {
                words[index >> 6] &= ~(1 << UInt64(index & 63))
            }
        }
    }

    /// The number of set positions.
    ///
    /// - Complexity: O(`count` / 64).
    public var setCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The set positions in increasing order.
    public var setIndices: [Int] {
        var result: [Int] = []
        result.reserveCapacity(setCount)
        for (w, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                result.append(w << 6 | bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return result
    }

    /// The positions set in either mask.
    ///
    /// - Precondition: both masks have the same `count`.
    public func union(_ other: Mask) -> Mask {
        precondition(count == other.count, "cannot combine masks of \(count) and \(other.count) positions")
        var result = self
        for i in result.words.indices { result.words[i] |= other.words[i] }
        return result
    }

    /// Sets positions `range` (a fast path for contiguous runs).
    package mutating func setRange(_ range: Range<Int>) {
        for index in range { self[index] = true }
    }

    /// Read-only access to the 64-bit words (bit `i & 63` of word `i >> 6` is position `i`).
    package func withWords<R>(_ body: (UnsafeBufferPointer<UInt64>) throws -> R) rethrows -> R {
        try words.withUnsafeBufferPointer(body)
    }

    /// Mutable access to the 64-bit words; bits past `count` must stay clear.
    package mutating func withMutableWords<R>(_ body: (UnsafeMutableBufferPointer<UInt64>) throws -> R) rethrows -> R {
        try words.withUnsafeMutableBufferPointer { try body($0) }
    }
}
