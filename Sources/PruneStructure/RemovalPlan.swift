import PruneCore

/// The indices a selection removes, in the coordinates of the model before the rewrite, per parameter axis and
/// per activation axis.
///
/// Collecting every group first and cutting once keeps offsets right when several groups share a tensor (the two
/// halves of a Concat feeding one Conv).
struct RemovalPlan {
    /// A tensor or value name with one of its axes.
    struct Place: Hashable {
        var name: String
        var axis: Int
    }

    private(set) var parameters: [Place: Set<Int>] = [:]
    private(set) var values: [Place: Set<Int>] = [:]
    /// For each parameter, the indices each reading node (by label) needs removed, per axis: a tensor several
    /// nodes read is cut in place only when every reader needs the same cut.
    private(set) var readerCuts: [String: [String: [Int: Set<Int>]]] = [:]

    /// Adds the units set in `units` of `group`.
    mutating func remove(_ units: Mask, of group: DependencyGroup) {
        let pruned = units.setIndices
        for member in group.members {
            for slice in member.slices {
                let indices = Self.indices(pruned, offset: slice.offset, width: slice.width)
                parameters[Place(name: slice.parameter, axis: slice.axis), default: []].formUnion(indices)
                readerCuts[slice.parameter, default: [:]][member.node, default: [:]][slice.axis, default: []]
                    .formUnion(indices)
            }
        }
        for activation in group.activations {
            values[Place(name: activation.value, axis: activation.axis), default: []].formUnion(
                activation.indices(of: pruned))
        }
    }

    /// Moves the cuts of `parameter` to `copy`, a private copy read by some of its readers; `parameter` itself is
    /// no longer cut.
    mutating func reassign(_ parameter: String, to copy: String, cuts: [Int: Set<Int>]) {
        for key in parameters.keys where key.name == parameter { parameters[key] = nil }
        for (axis, indices) in cuts { parameters[Place(name: copy, axis: axis), default: []].formUnion(indices) }
    }

    /// How many indices go from axis `axis` of value `name`.
    func removedCount(value name: String, axis: Int) -> Int { values[Place(name: name, axis: axis)]?.count ?? 0 }

    /// The indices that go from axis `axis` of value `name`.
    func removed(value name: String, axis: Int) -> Set<Int> { values[Place(name: name, axis: axis)] ?? [] }

    /// The indices that go from axis `axis` of parameter `name`.
    func removed(parameter name: String, axis: Int) -> Set<Int> { parameters[Place(name: name, axis: axis)] ?? [] }

    /// The axes of value `name` that lose indices, with the counts.
    func removedAxes(value name: String) -> [(axis: Int, count: Int)] {
        values.compactMap { $0.key.name == name ? ($0.key.axis, $0.value.count) : nil }
    }

    private static func indices(_ units: [Int], offset: Int, width: Int) -> [Int] {
        units.flatMap { u in (offset + u * width)..<(offset + (u + 1) * width) }
    }
}
