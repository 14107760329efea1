/// What a scorer scores: every element of one tensor, or the units (neurons, channels) of a group of tensors.
///
/// A unit target names the slices that belong to each unit: unit `u` of a ``UnitSlice`` covers indices
/// `offset + u·width ..< offset + (u+1)·width` along `axis` of its parameter. A single-tensor unit target (the
/// output channels of one weight) has one slice; structural groups couple several.
public struct PruneTarget: Sendable, Hashable {
    /// The granularity of a target: one score per element or one per unit.
    public enum Granularity: String, Sendable, Hashable, Codable, CaseIterable {
        /// One score per tensor element (unstructured pruning).
        case element
        /// One score per output unit: a neuron or channel with every slice coupled to it (structured pruning).
        case unit
    }

    /// What the target covers.
    public enum Kind: Sendable, Hashable {
        /// Every element of one parameter.
        case elements(parameter: String)
        /// `count` units, each made of the listed slices.
        case units(count: Int, slices: [UnitSlice])
    }

    /// A name for reports: the parameter's name, or the group's.
    public let name: String
    /// What the target covers.
    public let kind: Kind
    /// How many scores a scorer must return for this target.
    public let scoreCount: Int

    /// A target covering every element of `parameter`.
    public static func elements(of parameter: Parameter) -> PruneTarget {
        PruneTarget(
            name: parameter.name, kind: .elements(parameter: parameter.name),
            scoreCount: parameter.tensor.elementCount)
    }

    /// A target whose units are the indices along `axis` of `parameter` (its output channels, for a weight).
    ///
    /// - Precondition: `axis` is a valid axis of the tensor.
    public static func units(of parameter: Parameter, axis: Int) -> PruneTarget {
        precondition(axis >= 0 && axis < parameter.tensor.shape.count, "axis \(axis) outside \(parameter.name)")
        let count = parameter.tensor.shape[axis]
        return PruneTarget(
            name: parameter.name,
            kind: .units(count: count, slices: [UnitSlice(parameter: parameter.name, axis: axis)]),
            scoreCount: count)
    }

    /// A group target of `count` units made of `slices`.
    public static func group(named name: String, units count: Int, slices: [UnitSlice]) -> PruneTarget {
        PruneTarget(name: name, kind: .units(count: count, slices: slices), scoreCount: count)
    }

    /// The granularity of this target.
    public var granularity: Granularity {
        if case .elements = kind { return .element }
        return .unit
    }

    /// The names of the parameters the target touches.
    public var parameterNames: [String] {
        switch kind {
        case .elements(let parameter): [parameter]
        case .units(_, let slices): slices.map(\.parameter)
        }
    }
}

/// The part of one parameter that belongs to each unit of a target.
public struct UnitSlice: Sendable, Hashable {
    /// The parameter sliced.
    public var parameter: String
    /// The axis the units run along.
    public var axis: Int
    /// The index along `axis` where unit 0 starts.
    public var offset: Int
    /// How many consecutive indices along `axis` each unit owns (e.g. H×W features after a Flatten).
    public var width: Int

    /// Creates a slice description.
    public init(parameter: String, axis: Int, offset: Int = 0, width: Int = 1) {
        self.parameter = parameter
        self.axis = axis
        self.offset = offset
        self.width = width
    }

    /// Calls `body(unit, elementIndex)` for every element of a tensor of `shape` that belongs to a unit.
    ///
    /// - Complexity: O(number of elements covered).
    public func forEachElement(inShape shape: [Int], units: Int, _ body: (Int, Int) -> Void) {
        let outer = shape[..<axis].reduce(1, *)
        let extent = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        for o in 0..<outer {
            for u in 0..<units {
                let first = offset + u * width
                for k in first..<min(extent, first + width) {
                    let base = (o * extent + k) * inner
                    for i in 0..<inner { body(u, base + i) }
                }
            }
        }
    }
}
