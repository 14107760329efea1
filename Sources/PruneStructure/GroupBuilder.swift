import ONNXProto
import PruneCore

/// Grows one dependency group from a producer's output channels, following every coupled value forwards to its
/// readers and backwards to its producer until nothing new is reached or an exclusion is found.
struct GroupBuilder {
    /// How a value's channel axis carries the group's units.
    struct Layout: Hashable {
        var axis: Int
        var offset: Int
        var width: Int
        /// How many times the units' range repeats along the axis: 1, or the batch size where attention heads are
        /// merged into the batch axis (`[s, b·h, d]`: head `u` of sample `k` at `k·h + u`).
        var repeats = 1
        /// How far apart the repeats lie (the head count `h`); 0 when `repeats` is 1.
        var stride = 0
    }

    let index: GraphIndex
    let count: Int
    /// The layouts of each value the group reaches: one, or several side by side on one axis when a unit sits in
    /// several places of one tensor (a head's Q, K and V columns in a fused projection's output, the query part
    /// `g` times wider under grouped-query attention).
    private(set) var layouts: [String: [Layout]] = [:]
    private(set) var valueOrder: [String] = []
    private(set) var members: [DependencyGroup.Member] = []
    private var memberSet = Set<DependencyGroup.Member>()
    private(set) var nodes = Set<Int>()
    private(set) var exclusion: String?
    /// Units (counted from the group's unit 0) where an operator needs the group divided; growth stops when set.
    private(set) var cuts = Set<Int>()
    /// When the group reaches a grouped convolution: the number of units after which they repeat (the in-group
    /// width in units), so unit `u` is tied to `u + k·period` and the group is selected by in-group position.
    private(set) var period: Int?
    /// The weight columns of grouped convolutions that read the group (see ``GroupedColumn``).
    private(set) var groupedColumns: [GroupedColumn] = []
    /// Whether the group reaches the input side of a projection that splits into attention heads: the group is then
    /// a transformer's hidden width (the residual stream), see ``DependencyGroup/isHiddenWidth``.
    var feedsHeads = false
    /// When an operator needs wider units (grouped-query attention: a K/V head with its whole family of query
    /// heads): the factor and the exclusion to report if the group cannot be grown again that way. Growth stops
    /// when set.
    private(set) var widening: (factor: Int, reason: String)?
    /// Whether the group runs inside the head size of attention heads (unit `j` is feature `j` of every head, see
    /// `CouplingRules+HeadDimensions.swift`); set for the groups ``StructureAnalysis`` offers with head dimensions.
    var headDimensions = false
    /// Whether growth goes on: no exclusion, no cut and no widening asked for.
    var isOpen: Bool { exclusion == nil && cuts.isEmpty && widening == nil }
    private var queue: [(value: String, layout: Layout)] = []
    private var applied = Set<[String]>()

    /// The weight of a grouped convolution that reads the group: input channel `g·P + j` meets column `j` of the
    /// rows of convolution group `g`. Torch-Pruning scores in-group position `j` by the whole column (every row),
    /// once per convolution group, and removes it from every group; so does this member.
    struct GroupedColumn: Hashable {
        /// The weight.
        var parameter: String
        /// Columns per unit.
        var width: Int
        /// Units per convolution group (the weight's columns / `width`).
        var positions: Int
        /// The number of convolution groups.
        var groups: Int
        /// The Conv's label.
        var node: String
    }

    init(index: GraphIndex, count: Int) {
        self.index = index
        self.count = count
    }

    /// Couples `value`'s `axis` (unit `u` at `offset + u·width`, and at `offset + k·stride + u·width` for every
    /// `k < repeats`) to the group and follows it.
    mutating func add(
        _ value: String, axis: Int, offset: Int = 0, width: Int = 1, repeats: Int = 1, stride: Int = 0
    ) {
        guard isOpen else { return }
        let layout = Layout(axis: axis, offset: offset, width: width, repeats: repeats, stride: repeats > 1 ? stride : 0)
        if repeats > 1 {
            guard period == nil else {
                return exclude("'\(value)' would repeat the group's units both by convolution groups and by samples")
            }
            guard offset + count * width <= stride else {
                return exclude("'\(value)' would carry the group's channels in two places")
            }
        }
        if let existing = layouts[value] {
            if existing.contains(layout) { return }
            let span = offset..<(offset + count * width)
            guard
                existing.allSatisfy({
                    $0.axis == axis && $0.repeats == 1 && layout.repeats == 1
                        && !span.overlaps($0.offset..<($0.offset + count * $0.width))
                })
            else { return exclude("'\(value)' would carry the group's channels in two places") }
        }
        if let shape = index.shapes[value] {
            guard axis >= 0, axis < shape.count else {
                return exclude("'\(value)' has no axis \(axis) for the group's channels")
            }
            let end = offset + (layout.repeats - 1) * layout.stride + count * width
            if let extent = shape[axis], end > extent {
                return exclude("'\(value)' has \(extent) entries on axis \(axis), fewer than the group's units need")
            }
        }
        if index.isParameter(value), index.producer[value] == nil {
            // A per-channel constant reached as a node's data input (PaddlePaddle reshapes a bias [C] to
            // [1, C, 1, 1] before adding it): the constant is a member, cut with the channels.
            let readers = index.consumers[value] ?? []
            guard readers.count == 1, let reader = readers.first else {
                return exclude("per-channel constant '\(value)' is read by several nodes")
            }
            return slice(value, axis: axis, offset: offset, width: width, scored: false, node: reader.node)
        }
        if index.graphOutputs.contains(value) { return exclude("its channels reach the graph output '\(value)'") }
        if index.graphInputs.contains(value) { return exclude("its channels come from the graph input '\(value)'") }
        if layouts[value] == nil { valueOrder.append(value) }
        layouts[value, default: []].append(layout)
        queue.append((value, layout))
    }

    /// Adds the slice of `parameter` along `axis` to every unit, repeated `repeats` times `stride` apart (a head
    /// dimension: the same feature of every head).
    mutating func slice(
        _ parameter: String, axis: Int, offset: Int = 0, width: Int = 1, repeats: Int = 1, stride: Int = 0,
        scored: Bool, node: Int
    ) {
        guard exclusion == nil else { return }
        guard let shape = index.parameterShape(parameter) else {
            return excludeNode(node, "'\(parameter)' is not an initializer PruneKit can slice")
        }
        if let scope = index.scope, (scope.readerCounts[parameter] ?? 0) > 1 {
            return excludeNode(
                node, "'\(parameter)' has several readers; inside a subgraph only weights read once are cut")
        }
        let span = repeats > 1 ? (repeats - 1) * stride : 0
        guard axis < shape.count, offset + span + count * width <= shape[axis] else {
            return excludeNode(node, "'\(parameter)' (shape \(shape)) does not fit the group on axis \(axis)")
        }
        let member = DependencyGroup.Member(
            slice: UnitSlice(parameter: parameter, axis: axis, offset: offset, width: width), scored: scored,
            node: index.label(node), repeats: repeats, stride: repeats > 1 ? stride : 0)
        if memberSet.insert(member).inserted { members.append(member) }
    }

    /// Asks for the group to be divided wherever one of `boundaries` (indices along the layout's axis) falls
    /// strictly inside its channels; returns whether it asked. A boundary inside one unit excludes the group.
    mutating func divide(_ layout: Layout, at boundaries: [Int], node: Int, reason: String) -> Bool {
        let end = layout.offset + count * layout.width
        for boundary in boundaries where boundary > layout.offset && boundary < end {
            guard (boundary - layout.offset) % layout.width == 0 else {
                excludeNode(node, "\(reason) at index \(boundary), inside one of the group's units")
                return true
            }
            cuts.insert((boundary - layout.offset) / layout.width)
        }
        return !cuts.isEmpty
    }

    /// Ties unit `u` to every unit `u + k·units`: a grouped convolution at node `node` reads or writes the group
    /// in convolution groups of `units` units each. Several grouped convolutions tie at the greatest common divisor
    /// of their widths (every one of them then loses the same in-group positions in each of its groups).
    mutating func repeatEvery(_ units: Int, node: Int) {
        if layouts.values.contains(where: { $0.contains { $0.repeats > 1 } }) {
            return excludeNode(node, "a group with heads merged into the batch axis reaches a grouped convolution")
        }
        guard units > 0, count % units == 0 else {
            return excludeNode(node, "its convolution groups of \(units) units do not divide the group's \(count)")
        }
        var a = period ?? units
        var b = units
        while b != 0 { (a, b) = (b, a % b) }
        period = a
    }

    /// Records the weight columns of a grouped convolution that reads the group (and ties the group's units).
    mutating func groupedColumns(_ column: GroupedColumn, node: Int) {
        guard exclusion == nil else { return }
        repeatEvery(column.positions, node: node)
        if !groupedColumns.contains(column) { groupedColumns.append(column) }
    }

    /// Asks for the group to be grown again with units `factor` times wider (`factor` of its units joined into
    /// one), because node `node` reads them only in families of that many; excludes it with `reason` when its
    /// units do not divide.
    mutating func widen(by factor: Int, node: Int, reason: String) {
        let op = index.graph.node[node].opType
        let message = "node '\(index.label(node))' (\(op)): \(reason)"
        guard factor > 1, count % factor == 0 else { return exclude(message) }
        widening = (factor, message)
    }

    /// Turns a widening that cannot be granted into the group's exclusion.
    mutating func refuseWidening() {
        guard let widening else { return }
        self.widening = nil
        exclude(widening.reason)
    }

    /// Marks the group as not prunable.
    mutating func exclude(_ reason: String) {
        if exclusion == nil { exclusion = reason }
    }

    /// Marks the group as not prunable because of node `node`.
    mutating func excludeNode(_ node: Int, _ reason: String) {
        let op = index.graph.node[node].opType
        exclude("node '\(index.label(node))' (\(op)): \(reason)")
    }

    /// The group named `name` as the analysis reports it: the units as grown, or, when the group runs through a
    /// grouped convolution, one unit per in-group position (`period` units, each member repeating).
    func dependencyGroup(named name: String) -> DependencyGroup {
        let units = period ?? count
        let repeats = count / units
        var members = members.map { member in
            var member = member
            if repeats > 1 {
                member.repeats = repeats
                member.stride = units * member.slice.width
            }
            return member
        }
        for column in groupedColumns {
            // Columns `u + k·units` (k < positions / units) are unit u's; each counts once per convolution group.
            for k in 0..<(column.positions / units) {
                members.append(
                    DependencyGroup.Member(
                        slice: UnitSlice(
                            parameter: column.parameter, axis: 1, offset: k * units * column.width,
                            width: column.width),
                        scored: true, node: column.node, repeats: column.groups, stride: 0))
            }
        }
        let activations = valueOrder.flatMap { value in
            (layouts[value] ?? []).map {
                $0.repeats > 1
                    ? DependencyGroup.Activation(
                        value: value, axis: $0.axis, offset: $0.offset, width: $0.width, repeats: $0.repeats,
                        stride: $0.stride)
                    : DependencyGroup.Activation(
                        value: value, axis: $0.axis, offset: $0.offset, width: $0.width, repeats: repeats,
                        stride: repeats > 1 ? units * $0.width : 0)
            }
        }
        return DependencyGroup(
            name: name, unitCount: units, members: members, activations: activations,
            nodes: nodes.sorted().map(index.label), exclusion: exclusion, isHiddenWidth: feedsHeads)
    }

    /// Follows every queued value until the group is closed or excluded.
    mutating func run() {
        while isOpen, let (value, layout) = queue.popLast() {
            var touching: [Int] = []
            if let producer = index.producer[value] { touching.append(producer) }
            for use in index.consumers[value] ?? [] where !touching.contains(use.node) { touching.append(use.node) }
            for node in touching where applied.insert([String(node), value, String(layout.offset)]).inserted {
                nodes.insert(node)
                couple(node: node, through: value, layout: layout)
                if !isOpen { return }
            }
        }
    }
}
