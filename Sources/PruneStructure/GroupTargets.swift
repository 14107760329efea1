import PruneCore

/// Targets for `--granularity unit` on a model with a graph: one target per prunable dependency group.
///
/// A group's target has the group's unit count and its scored slices (layer weights and normalisation scales), so
/// `magnitude:p=2` scores a unit by the L2 norm of every weight coupled to it. `include` patterns keep only groups
/// with a member parameter that matches; `exclude` patterns and `ignore` patterns exclude groups touching a
/// matching node, parameter or value. Excluded groups are reported as passed over, with the reason.
public struct GroupTargets: TargetProvider {
    /// Names (regular expressions) of nodes, parameters or values whose groups must not be pruned.
    public var ignore: [String]

    /// Creates the provider.
    public init(ignore: [String] = []) { self.ignore = ignore }

    /// The prunable groups of `model` as targets.
    ///
    /// - Throws: `PruneError` when the model has no graph or a pattern does not compile.
    public func targets(in model: Model, filter: TargetFilter) throws -> (
        targets: [PruneTarget], skipped: [(name: String, reason: String)]
    ) {
        try filter.validate()
        let analysis = try StructureAnalysis(
            model: model, ignoring: ignore + filter.ignore + filter.exclude,
            includingHiddenWidth: filter.includeHiddenWidth, headDimensions: filter.headDimensions)
        return try GroupTargets.targets(of: analysis, include: filter.include)
    }

    /// The prunable groups of `analysis` as targets, keeping only groups with a member parameter matching one of
    /// `include` (all when empty), and the excluded groups with their reasons.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` for a pattern that does not compile.
    package static func targets(of analysis: StructureAnalysis, include: [String]) throws -> (
        targets: [PruneTarget], skipped: [(name: String, reason: String)]
    ) {
        let includes = try include.map { pattern in
            do { return try Regex(pattern) } catch {
                throw PruneError(.invalidInput, "invalid pattern '\(pattern)': \(error)")
            }
        }
        var targets: [PruneTarget] = []
        var skipped: [(name: String, reason: String)] = []
        for group in analysis.groups {
            if let reason = group.exclusion {
                skipped.append((group.name, reason))
                continue
            }
            if !includes.isEmpty,
                !group.members.contains(where: { member in includes.contains { member.slice.parameter.contains($0) } })
            {
                continue
            }
            targets.append(group.target)
        }
        return (targets, skipped)
    }
}
