import PruneCore

/// Prunes a different fraction of each named target: the per-target sparsities a budget solver chose.
///
/// Each target's count follows ``LayerSelector``'s rule (round-half-even(sparsity × n) lowest-scored positions,
/// then the width rounding to a multiple of `multiple` for unit targets); targets the table does not name get
/// `defaultSparsity`. Written in recipes as `targets:sparsities=NAME=S;NAME=S;…`: entries are separated by `;` and
/// each entry's last `=` separates the target's name (a tensor's name, or a group's as `prune inspect --groups`
/// prints it) from its sparsity, so names may contain `=` and `:` but neither `;` nor `,`.
public struct TargetSparsitySelector: Selector {
    /// Fraction to prune per target name, each in [0, 1).
    public let sparsities: [String: Double]
    /// Fraction to prune in targets the table does not name.
    public let defaultSparsity: Double
    /// Kept unit counts are rounded to a multiple of this (1: no rounding).
    public let multiple: Int

    /// Creates the selector.
    ///
    /// - Precondition: `multiple ≥ 1`.
    public init(sparsities: [String: Double], defaultSparsity: Double = 0, multiple: Int = 1) {
        precondition(multiple >= 1, "multiple must be at least 1")
        self.sparsities = sparsities
        self.defaultSparsity = defaultSparsity
        self.multiple = multiple
    }

    /// Parses the `sparsities` parameter's text form, `NAME=S;NAME=S;…`.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` for an entry without `=`, a sparsity outside [0, 1), or a name
    ///   given twice.
    public init(parsing table: String, defaultSparsity: Double = 0, multiple: Int = 1) throws {
        var sparsities: [String: Double] = [:]
        for entry in table.split(separator: ";") where !entry.trimmingWhitespace().isEmpty {
            guard let equals = entry.lastIndex(of: "=") else {
                throw PruneError(.invalidParameter, "'targets': entry '\(entry)' is not NAME=SPARSITY")
            }
            let name = entry[..<equals].trimmingWhitespace()
            let text = entry[entry.index(after: equals)...].trimmingWhitespace()
            guard !name.isEmpty, let value = Double(text), value >= 0, value < 1 else {
                throw PruneError(
                    .invalidParameter, "'targets': entry '\(entry)' needs a name and a sparsity in [0, 1)")
            }
            guard sparsities.updateValue(value, forKey: name) == nil else {
                throw PruneError(.invalidParameter, "'targets': target '\(name)' is given twice")
            }
        }
        self.init(sparsities: sparsities, defaultSparsity: defaultSparsity, multiple: multiple)
    }

    /// The `sparsities` parameter's text form of `table`, in name order (parses back to the same table).
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` for a name containing `;` or `,`, which the form cannot carry.
    public static func text(_ table: [String: Double]) throws -> String {
        try table.keys.sorted().map { name in
            guard !name.contains(";"), !name.contains(","), !name.isEmpty else {
                throw PruneError(
                    .invalidParameter, "target '\(name)' cannot be written in a 'targets' selector (it has ';' or ',')")
            }
            return "\(name)=\(table[name]!)"
        }.joined(separator: ";")
    }

    /// One mask per target with its own sparsity.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` when the table names a target the stage does not have (a
    ///   recipe applied to another model, or targets narrowed by patterns), or `round` meets element targets.
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        try WidthRounding.check(scored, multiple: multiple, selector: "targets")
        let known = Set(scored.map(\.target.name))
        if let missing = sparsities.keys.sorted().first(where: { !known.contains($0) }) {
            throw PruneError(
                .invalidParameter,
                "'targets' names '\(missing)', which is not a target of this stage (\(known.count) targets)")
        }
        let (table, fallback, multiple, seed) = (sparsities, defaultSparsity, self.multiple, context.seed)
        let entries = try ParallelFor.map(scored.count, threads: context.threads) { i in
            let item = scored[i]
            let n = item.scores.count
            let k = Budget.count(table[item.target.name] ?? fallback, of: n)
            let mask = SmallestSelection.mask(
                smallest: WidthRounding.pruned(k, of: n, multiple: multiple), of: item.scores.values, seed: seed)
            return Selection.Entry(target: item.target, decision: .prune(mask))
        }
        return Selection(entries: entries)
    }
}
