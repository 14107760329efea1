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

    /// Adds the units set in `units` of `group`.
    mutating func remove(_ units: Mask, of group: DependencyGroup) {
        let pruned = units.setIndices
        for member in group.members {
            let slice = member.slice
            parameters[Place(name: slice.parameter, axis: slice.axis), default: []].formUnion(
                Self.indices(pruned, offset: slice.offset, width: slice.width))
        }
        for activation in group.activations {
            values[Place(name: activation.value, axis: activation.axis), default: []].formUnion(
                Self.indices(pruned, offset: activation.offset, width: activation.width))
        }
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
