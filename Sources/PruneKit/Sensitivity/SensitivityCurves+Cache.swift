import Foundation
import PruneCore
import PruneFormats

extension SensitivityCurves {
    /// Two sparsities closer than this are the same grid point (grids are written with a few decimals).
    static let sparsityTolerance = 1e-9

    /// The curve of `target`, if there is one.
    public func curve(for target: String) -> Curve? { curves.first { $0.target == target } }

    /// The point measured for `target` at `sparsity`, if there is one.
    public func point(target: String, sparsity: Double) -> Point? {
        curve(for: target)?.points.first { abs($0.sparsity - sparsity) < Self.sparsityTolerance }
    }

    /// Whether `other` describes the same measurement: the same model file (by digest), metric, granularity and
    /// scorer. Points of compatible curves can be mixed.
    public func isCompatible(with other: SensitivityCurves) -> Bool { incompatibility(with: other) == nil }

    /// Why `other`'s points cannot be mixed with these, in words; nil when they can.
    func incompatibility(with other: SensitivityCurves) -> String? {
        if modelDigest != other.modelDigest {
            return "it was measured on another model (\(other.model), SHA-256 \(other.modelDigest.prefix(12))…), "
                + "not \(model) (SHA-256 \(modelDigest.prefix(12))…)"
        }
        if metric != other.metric { return "it holds \(other.metric.rawValue), not \(metric.rawValue)" }
        if granularity != other.granularity {
            return "it holds \(other.granularity.rawValue) targets, not \(granularity.rawValue)"
        }
        if scorer != other.scorer { return "its units were ranked by '\(other.scorer)', not '\(scorer)'" }
        if rewriter != other.rewriter {
            return "its points were pruned with '\(other.rewriter ?? "the default rewriter")', not "
                + "'\(rewriter ?? "the default rewriter")'"
        }
        return nil
    }

    /// Adds `point` to `target`'s curve (made with `units` when new), replacing a point at the same sparsity and
    /// keeping points ascending.
    public mutating func insert(_ point: Point, target: String, units: Int) {
        let index: Int
        if let existing = curves.firstIndex(where: { $0.target == target }) {
            index = existing
        } else {
            curves.append(Curve(target: target, units: units, points: []))
            index = curves.count - 1
        }
        var points = curves[index].points.filter { abs($0.sparsity - point.sparsity) >= Self.sparsityTolerance }
        points.append(point)
        curves[index].points = points.sorted { $0.sparsity < $1.sparsity }
    }

    /// These curves restricted to the points of `grid` (targets keep their order; missing points are absent).
    public func restricted(to grid: [Double]) -> SensitivityCurves {
        var copy = self
        copy.curves = curves.map { curve in
            var curve = curve
            curve.points = curve.points.filter { point in
                grid.contains { abs($0 - point.sparsity) < Self.sparsityTolerance }
            }
            return curve
        }
        return copy
    }

    /// Joins shard files of one sweep: every point of every file, in the first file's target order.
    ///
    /// - Parameter names: how messages name each file (its path), in the same order as `parts`.
    /// - Throws: `PruneError.Kind.invalidInput` naming the files when they were measured on different models,
    ///   metrics, granularities or scorers, or when two of them disagree on the fidelity of the same point (they
    ///   were measured on different data).
    public static func merged(_ parts: [SensitivityCurves], names: [String]) throws -> SensitivityCurves {
        guard var result = parts.first else {
            throw PruneError(.invalidInput, "nothing to merge: no sensitivity files given")
        }
        let first = names.first ?? "the first file"
        for (part, name) in zip(parts, names).dropFirst() {
            if let reason = result.incompatibility(with: part) {
                throw PruneError(.invalidInput, "cannot merge \(name) into \(first): \(reason)")
            }
            for curve in part.curves {
                for point in curve.points {
                    if let existing = result.point(target: curve.target, sparsity: point.sparsity) {
                        guard abs(existing.fidelity - point.fidelity) <= 1e-9 else {
                            throw PruneError(
                                .invalidInput,
                                "cannot merge \(name) into \(first): they disagree on '\(curve.target)' at sparsity "
                                    + "\(point.sparsity) (\(existing.fidelity) vs \(point.fidelity)); were they "
                                    + "measured on the same data?")
                        }
                        continue
                    }
                    result.insert(point, target: curve.target, units: curve.units)
                }
            }
        }
        return result
    }

    /// Reads curves written by ``write(to:overwrite:)``.
    ///
    /// - Throws: `PruneError.Kind.fileUnreadable` or `.invalidInput` naming the file.
    public static func load(_ url: URL) throws -> SensitivityCurves {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PruneError(.fileUnreadable, "\(url.path): cannot read the sensitivity file")
        }
        do {
            return try JSONDecoder().decode(SensitivityCurves.self, from: data)
        } catch {
            throw PruneError(.invalidInput, "\(url.path) is not a sensitivity file: \(Self.describe(error))")
        }
    }

    /// The curves as pretty-printed JSON with sorted keys.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Writes the curves as JSON to `url`, atomically.
    ///
    /// - Parameter sources: files that must never be overwritten (the model).
    /// - Throws: `PruneError.Kind.outputExists` when the file exists and `overwrite` is false; `.writeFailed`.
    public func write(to url: URL, overwrite: Bool, sources: [URL] = []) throws {
        let text = try json()
        _ = try AtomicFileWriter.write(to: url, overwrite: overwrite, sources: sources) { sink in
            try sink.write(Array(text.utf8) + [0x0A])
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            "no '\(key.stringValue)'" + Self.path(context.codingPath)
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong value" + Self.path(context.codingPath) + ": " + context.debugDescription
        case DecodingError.dataCorrupted(let context):
            context.debugDescription + Self.path(context.codingPath)
        default:
            "\(error)"
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? "" : " at " + codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
