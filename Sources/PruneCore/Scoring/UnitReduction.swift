import Foundation

/// How the element scores of one unit (every element of every slice coupled to it) become one unit score.
public enum UnitReduction: Sendable, Hashable, CustomStringConvertible {
    /// Arithmetic mean.
    case mean
    /// Median (the mean of the two middle values for an even count).
    case median
    /// Largest value (the L∞ norm for non-negative scores).
    case max
    /// Plain sum.
    case sum
    /// Σ|s|.
    case l1
    /// √Σs².
    case l2
    /// (Σ|s|^p)^(1/p) for a general p ≥ 1.
    case lp(Double)

    /// The reduction named `text`: mean, median, max, sum, l1, l2.
    public init?(name text: String) {
        switch text {
        case "mean": self = .mean
        case "median": self = .median
        case "max": self = .max
        case "sum": self = .sum
        case "l1": self = .l1
        case "l2": self = .l2
        default: return nil
        }
    }

    /// The Lp norm for `p`, using the named case for 1, 2 and ∞.
    public static func norm(p: Double) -> UnitReduction {
        switch p {
        case 1: .l1
        case 2: .l2
        case .infinity: .max
        default: .lp(p)
        }
    }

    /// The name as written in component parameters.
    public var description: String {
        switch self {
        case .mean: "mean"
        case .median: "median"
        case .max: "max"
        case .sum: "sum"
        case .l1: "l1"
        case .l2: "l2"
        case .lp(let p): "l\(p)"
        }
    }

    /// Reduces the element scores of each unit of `target` to one score per unit.
    ///
    /// - Parameters:
    ///   - elementScores: for each slice of the target, the element scores of that slice's whole parameter.
    ///   - shapes: for each slice, the shape of its parameter.
    /// - Returns: `units` scores; a unit with no elements scores 0.
    /// - Complexity: O(elements covered); `median` also sorts each unit's values.
    public func reduce(units: Int, slices: [UnitSlice], elementScores: [[Float]], shapes: [[Int]]) -> [Float] {
        if case .median = self {
            var perUnit = [[Float]](repeating: [], count: units)
            for (k, slice) in slices.enumerated() {
                elementScores[k].withUnsafeBufferPointer { scores in
                    slice.forEachElement(inShape: shapes[k], units: units) { u, i in perUnit[u].append(scores[i]) }
                }
            }
            return perUnit.map { values in
                guard !values.isEmpty else { return 0 }
                let sorted = values.sorted()
                let mid = sorted.count / 2
                return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
            }
        }
        var accumulators = [Double](repeating: self == .max ? -.infinity : 0, count: units)
        var counts = [Int](repeating: 0, count: units)
        for (k, slice) in slices.enumerated() {
            elementScores[k].withUnsafeBufferPointer { scores in
                slice.forEachElement(inShape: shapes[k], units: units) { u, i in
                    let s = Double(scores[i])
                    switch self {
                    case .mean, .sum: accumulators[u] += s
                    case .l1: accumulators[u] += abs(s)
                    case .l2: accumulators[u] += s * s
                    case .lp(let p): accumulators[u] += Foundation.pow(abs(s), p)
                    case .max: accumulators[u] = Swift.max(accumulators[u], s)
                    case .median: break
                    }
                    counts[u] += 1
                }
            }
        }
        return (0..<units).map { u in
            guard counts[u] > 0 else { return 0 }
            let a = accumulators[u]
            switch self {
            case .mean: return Float(a / Double(counts[u]))
            case .l2: return Float(a.squareRoot())
            case .lp(let p): return Float(Foundation.pow(a, 1 / p))
            default: return Float(a)
            }
        }
    }
}
