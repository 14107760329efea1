/// Rescaling of a target's scores so that one global budget treats targets of different scale fairly.
public enum ScoreNormalization: String, Sendable, Hashable, CaseIterable {
    /// Leave the scores as they are.
    case none
    /// Divide by the largest score.
    case max
    /// Divide by the sum of scores.
    case sum
    /// LAMP (Lee et al., 2021): with the scores sorted ascending, s₍ᵢ₎ / Σ_{j≥i} s₍ⱼ₎.
    ///
    /// Tied scores share one denominator (the sum over every score ≥ theirs), so the result does not depend on
    /// how ties happen to be ordered. The largest score of a target always becomes 1 (or 0 when it is 0).
    /// Scores are expected non-negative (|w|, w², activations).
    case lamp

    /// Applies the normalisation in place.
    ///
    /// - Complexity: O(n) for `max` and `sum`; O(n) radix sort plus O(n) for `lamp`.
    public func apply(to scores: inout [Float]) {
        switch self {
        case .none: return
        case .max:
            guard let largest = scores.max(), largest != 0 else { return }
            for i in scores.indices { scores[i] /= largest }
        case .sum:
            let total = scores.reduce(0.0) { $0 + Double($1) }
            guard total != 0 else { return }
            for i in scores.indices { scores[i] = Float(Double(scores[i]) / total) }
        case .lamp:
            ScoreNormalization.lamp(&scores)
        }
    }

    private static func lamp(_ scores: inout [Float]) {
        let order = SortedOrder.ascending(scores)
        // Walk from the largest score down, summing in Double; a tie group gets the sum including all of it.
        var suffix = 0.0
        var position = order.count - 1
        while position >= 0 {
            let value = scores[Int(order[position])]
            var first = position
            var groupSum = 0.0
            while first >= 0, scores[Int(order[first])] == value {
                groupSum += Double(value)
                first -= 1
            }
            suffix += groupSum
            let normalized: Float = suffix == 0 ? 0 : Float(Double(value) / suffix)
            for k in (first + 1)...position { scores[Int(order[k])] = normalized }
            position = first
        }
    }
}

/// Index orderings of `Float` arrays by value, stable for ties.
package enum SortedOrder {
    /// The indices of `values` sorted by ascending value; equal values keep index order.
    ///
    /// A two-pass LSD radix sort on the order-preserving bit pattern of each float: O(n), no comparisons.
    package static func ascending(_ values: [Float]) -> [UInt32] {
        precondition(values.count < Int(UInt32.max), "too many values to order")
        let n = values.count
        var keys = [UInt32](repeating: 0, count: n)
        var order = [UInt32](repeating: 0, count: n)
        for i in 0..<n {
            keys[i] = sortableBits(values[i])
            order[i] = UInt32(i)
        }
        var scratch = [UInt32](repeating: 0, count: n)
        for shift in [UInt32(0), 16] {
            var counts = [Int](repeating: 0, count: 65537)
            for index in order { counts[Int((keys[Int(index)] >> shift) & 0xFFFF) + 1] += 1 }
            for b in 1...65536 { counts[b] += counts[b - 1] }
            for index in order {
                let bucket = Int((keys[Int(index)] >> shift) & 0xFFFF)
                scratch[counts[bucket]] = index
                counts[bucket] += 1
            }
            swap(&order, &scratch)
        }
        return order
    }

    /// The float whose ``sortableBits(_:)`` are `bits`.
    @inline(__always)
    package static func float(fromSortableBits bits: UInt32) -> Float {
        Float(bitPattern: bits & 0x8000_0000 != 0 ? bits & 0x7FFF_FFFF : ~bits)
    }

    /// A `UInt32` whose unsigned order is the numeric order of `value` (−0 and +0 map together).
    @inline(__always)
    package static func sortableBits(_ value: Float) -> UInt32 {
        let bits = (value == 0 ? Float(0) : value).bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }
}
