import PruneCore

/// A set of channels or neurons that can only be removed together: unit `u` of the group is one output channel of
/// its producers plus every slice, in every tensor, that carries that channel.
///
/// Found by ``StructureAnalysis``. Unit `u` covers indices `offset + u·width ..< offset + (u+1)·width` along the
/// given axis of each member tensor and each coupled activation, and, in a group whose units repeat across the
/// groups of a grouped convolution, the same range shifted by `k·stride` for every `k < repeats`.
public struct DependencyGroup: Sendable, Hashable {
    /// One coupled slice of a parameter.
    public struct Member: Sendable, Hashable {
        /// The slice (parameter, axis, offset, width).
        public var slice: UnitSlice
        /// Whether the slice counts towards the unit's importance: layer weights (as output or input) and
        /// normalisation scales, as Torch-Pruning's magnitude importance counts them. Biases, running statistics
        /// and per-channel constants follow the unit but are not scored.
        public var scored: Bool
        /// The node that reads the parameter (for reports).
        public var node: String
        /// How many times the slice repeats along its axis: 1, or, in a group that runs through a grouped
        /// convolution, the number of convolution groups (unit `u` is then the same in-group position of each).
        public var repeats: Int = 1
        /// How far apart the repeats lie along the axis; 0 counts the same slice `repeats` times (Torch-Pruning's
        /// score of a grouped convolution's weight column, counted once per convolution group).
        public var stride: Int = 0

        /// The slice of each repeat: `repeats` plain slices, the first being ``slice``.
        public var slices: [UnitSlice] {
            (0..<repeats).map { k in
                var copy = slice
                copy.offset += k * stride
                return copy
            }
        }
    }

    /// An activation (graph value) whose channel axis the group runs along.
    public struct Activation: Sendable, Hashable {
        /// The value's name.
        public var value: String
        /// The channel axis of the value.
        public var axis: Int
        /// Where unit 0 starts along the axis.
        public var offset: Int
        /// Indices per unit along the axis (H×W after a Flatten).
        public var width: Int
        /// How many times the unit's range repeats along the axis (the number of convolution groups when the
        /// group runs through a grouped convolution, else 1).
        public var repeats: Int = 1
        /// How far apart the repeats lie along the axis.
        public var stride: Int = 0

        /// The indices along ``axis`` that the units `units` cover, in every repeat.
        public func indices<Units: Sequence<Int>>(of units: Units) -> [Int] {
            units.flatMap { u in
                (0..<repeats).flatMap { k in
                    let first = offset + k * stride + u * width
                    return first..<(first + width)
                }
            }
        }
    }

    /// The group's name: the first node that produces its channels.
    public let name: String
    /// How many units the group has.
    public let unitCount: Int
    /// Every parameter slice that belongs to each unit.
    public internal(set) var members: [Member]
    /// Every activation the group's channels flow through.
    public internal(set) var activations: [Activation]
    /// The nodes the group touches, in graph order.
    public internal(set) var nodes: [String]
    /// Why the group cannot be pruned (it reaches a graph output, an operator the analysis does not handle, an
    /// ignored name); nil when it can.
    public internal(set) var exclusion: String?
    /// Whether the group is a transformer's hidden width (the residual stream): it reaches the input side of
    /// projections that split into attention heads, so it runs through the embeddings, every LayerNorm and every
    /// projection. ``StructureAnalysis`` excludes such a group unless asked to include it.
    public internal(set) var isHiddenWidth = false

    /// Whether the group can be pruned.
    public var isPrunable: Bool { exclusion == nil }

    /// The slices a scorer reduces over: the ``Member/scored`` members, one slice per repeat (a slice repeated with
    /// stride 0 is scored that many times).
    public var scoredSlices: [UnitSlice] { members.filter(\.scored).flatMap(\.slices) }

    /// The group as a pipeline target: `unitCount` units made of the scored slices.
    public var target: PruneTarget {
        .group(named: name, units: unitCount, slices: scoredSlices)
    }
}
