import ONNXProto
import PruneCore
import PruneFormats

/// The dependency groups of a model: which channels and neurons can be removed, and what each one drags along.
///
/// Every Conv, Gemm and MatMul whose weight is an initializer starts a group at its output channels, unless an
/// earlier group already reached them (a residual `Add` joins both producers into one group). The group then grows
/// through the operators the analysis understands (see `Docs/Structure.md`). A group is kept but marked
/// excluded when its channels reach a graph output or input, an operator without a rule, or a name the caller
/// protects; excluded groups are never pruned and their reason names the node and op.
///
/// Each `If` branch (at any depth) is analysed as a graph of its own (``SubgraphAnalysis``): the values it reads
/// from the enclosing scope are its inputs and its outputs are fixed widths, so a group found there stays inside the
/// branch. Layers inside `Loop` and `Scan` bodies are listed as excluded groups with the reason.
public struct StructureAnalysis: Sendable {
    /// Every group found, prunable or not, in the order of their first producer.
    public let groups: [DependencyGroup]
    /// The graph's producers, consumers and shapes the groups were found with (the rewrite reuses them).
    let index: GraphIndex
    /// The If branches analysed on their own, each with its index and the groups found in it.
    let scopes: [SubgraphScope]

    /// Analyses `model`'s graph, once per graph: a later call on a model carrying the same graph and parameters of
    /// the same names, dtypes and shapes reuses the analysis (the stage's targets and its rewriter share it).
    ///
    /// - Parameters:
    ///   - ignoring: regular expressions; a group touching a node, parameter or value whose name matches one is
    ///     excluded.
    ///   - includingHiddenWidth: whether a transformer's hidden width (``DependencyGroup/isHiddenWidth``) is
    ///     offered; by default it is excluded with ``hiddenWidthReason``.
    ///   - headDimensions: whether each multi-head attention block offers two head-dimension groups (its Q/K and
    ///     V/O features, `d` units each, see `Docs/Transformers.md`) instead of its head group.
    /// - Throws: `PruneError.Kind.unsupported` when the model carries no ONNX graph; `.invalidInput` for a bad
    ///   pattern.
    public init(
        model: Model, ignoring patterns: [String] = [], includingHiddenWidth: Bool = false,
        headDimensions: Bool = false
    ) throws {
        guard let graph = model.graph as? ONNXModelGraph else {
            let source = model.sourceURL?.path ?? "the model"
            throw PruneError(
                .unsupported, "\(source) has no graph; structured pruning needs an ONNX model to find coupled channels")
        }
        let regexes = try patterns.map { pattern in
            do { return try Regex(pattern) } catch {
                throw PruneError(.invalidInput, "invalid ignore pattern '\(pattern)': \(error)")
            }
        }
        let key = headDimensions ? Self.factKey + ".headDimensions" : Self.factKey
        let base = graph.facts.value(key, for: model) {
            StructureAnalysis(graph: graph, model: model, headDimensions: headDimensions)
        }
        index = base.index
        scopes = base.scopes
        groups = base.groups.map { group in
            var group = group
            if group.exclusion == nil, group.isHiddenWidth, !includingHiddenWidth {
                group.exclusion = Self.hiddenWidthReason
            }
            guard group.exclusion == nil, !patterns.isEmpty else { return group }
            let names = group.nodes + group.members.map(\.slice.parameter) + group.activations.map(\.value)
            for (pattern, regex) in zip(patterns, regexes) {
                if let hit = names.first(where: { $0.contains(regex) }) {
                    group.exclusion = "ignored: '\(hit)' matches '\(pattern)'"
                    break
                }
            }
            return group
        }
    }

    /// Why a transformer's hidden width is not offered unless asked for.
    public static let hiddenWidthReason =
        "the hidden width (residual stream): it reaches the pooled output, every LayerNorm, the embeddings and every "
        + "projection's input side; prune it with --include-hidden-width"

    /// The key the analysis is kept under in the graph's ``ModelGraphFacts``.
    static let factKey = "PruneStructure.StructureAnalysis"

    /// The analysis itself, without ignore patterns.
    private init(graph: ONNXModelGraph, model: Model, headDimensions: Bool) {
        let index = GraphIndex(graph: graph, model: model)
        self.index = index
        let subgraphs = SubgraphAnalysis.analyse(main: index, model: model, opset: graph.opset)
        scopes = subgraphs.scopes
        groups = StructureAnalysis.groups(in: index, headDimensions: headDimensions) + subgraphs.groups
    }

    /// The groups rooted in the graph `index` describes (the main graph or one subgraph); with `headDimensions`,
    /// the projections that split into attention heads start head-dimension groups instead of head groups.
    static func groups(in index: GraphIndex, headDimensions: Bool = false) -> [DependencyGroup] {
        var claimed = Set<String>()
        var groups: [DependencyGroup] = []
        for (n, node) in index.graph.node.enumerated() {
            guard let (output, axis, channels) = StructureAnalysis.root(n, node, index), !claimed.contains(output)
            else { continue }
            // Projections that feed attention heads are pruned a whole head at a time.
            let heads = AttentionHeads.heads(of: output, channels: channels, index: index)
            if headDimensions, let heads {
                let builder = headDimensionGroup(n, output: output, axis: axis, channels: channels, heads: heads, index: index)
                groups.append(builder.dependencyGroup(named: index.label(n)))
                claimed.formUnion(builder.layouts.keys)
                claimed.insert(output)
                continue
            }
            let width = heads?.size ?? 1
            let parts = heads.map { Array(zip($0.partStarts, $0.partHeads)) } ?? [(0, 1)]
            let count = channels / parts.map(\.1).reduce(0, +) / width
            let label = index.label(n)
            // Channels of `output` an earlier segment's group already reached: a segment that meets another
            // through an elementwise join (the real and imaginary halves of an STFT summed as a magnitude) is one
            // group with two parts, found once.
            var covered: [Range<Int>] = []
            let segments = StructureAnalysis.grow(
                output, axis: axis, count: count, width: width, parts: parts, index: index)
            for (segment, builder) in segments {
                let own = (builder.layouts[output] ?? []).filter { $0.axis == axis }
                    .map { $0.offset..<($0.offset + builder.count * $0.width) }
                let seen = !own.isEmpty && own.allSatisfy { range in
                    covered.contains { $0.contains(range.lowerBound) && $0.upperBound >= range.upperBound }
                }
                if seen { continue }
                covered.append(contentsOf: own)
                let name = segments.count == 1 ? label : "\(label)[\(segment.lowerBound):\(segment.upperBound)]"
                let group = builder.dependencyGroup(named: name)
                claimed.formUnion(builder.layouts.keys)
                groups.append(group)
            }
            claimed.insert(output)
        }
        return groups
    }

    /// Grows the groups of `count` units of `width` channels along `axis` of `output`, one per segment of the units.
    ///
    /// Starts with one segment. When an operator needs the group divided (a Split or Slice boundary, a Concat
    /// input boundary, the groups of a grouped Conv fall inside it), the segments are cut there and every segment
    /// is grown again, until none asks for a cut. Segment `a..<b` is a group of `b − a` units whose unit 0 is
    /// channel `a` of `output`. With several `parts` (the Q, K and V columns of a fused projection), unit `u` is
    /// channels `start + u·h·width ..< start + (u+1)·h·width` of every part `(start, h)` (`h` heads per unit: 1, or
    /// `g` in the query part of a fused grouped-query projection).
    ///
    /// When an operator reads the units only in families (grouped-query attention: `r` query heads per K/V head),
    /// the whole group is grown again once with `r` units joined into one; a group already cut or widened is
    /// excluded instead.
    private static func grow(
        _ output: String, axis: Int, count: Int, width: Int, parts: [(Int, Int)] = [(0, 1)], index: GraphIndex
    ) -> [(Range<Int>, GroupBuilder)] {
        var cuts = Set<Int>()
        var (count, width, widened) = (count, width, false)
        refine: while true {
            let bounds = ([0, count] + cuts).sorted()
            var result: [(Range<Int>, GroupBuilder)] = []
            for (lower, upper) in zip(bounds, bounds.dropFirst()) {
                var builder = GroupBuilder(index: index, count: upper - lower)
                for (start, heads) in parts {
                    builder.add(output, axis: axis, offset: start + lower * heads * width, width: heads * width)
                }
                builder.run()
                if let widening = builder.widening {
                    if !widened, cuts.isEmpty {
                        (count, width, widened) = (count / widening.factor, width * widening.factor, true)
                        continue refine
                    }
                    builder.refuseWidening()
                }
                if !builder.cuts.isEmpty {
                    cuts.formUnion(builder.cuts.map { $0 + lower })
                    continue refine
                }
                result.append((lower..<upper, builder))
            }
            return result
        }
    }

    /// The group called `name`.
    public func group(named name: String) -> DependencyGroup? { groups.first { $0.name == name } }

    /// The output value, its channel axis and channel count when node `n` produces channels from a weight.
    private static func root(_ n: Int, _ node: Onnx_NodeProto, _ index: GraphIndex) -> (String, Int, Int)? {
        guard node.isDefaultDomain, node.input.count >= 2, let output = node.output.first,
            let weight = index.parameterShape(node.input[1]),
            index.model[node.input[1]]?.tensor.dtype.isFloatingPoint == true
        else { return nil }
        switch node.opType {
        case "Conv" where weight.count >= 3:
            return (output, 1, weight[0])
        case "ConvTranspose" where weight.count >= 3 && node.int("group", 1) == 1:
            return (output, 1, weight[1])
        case "Gemm" where weight.count == 2:
            return (output, 1, node.int("transB", 0) != 0 ? weight[0] : weight[1])
        case "MatMul" where weight.count == 2:
            let rank = index.rank(output) ?? index.rank(node.input[0]) ?? 2
            return (output, rank - 1, weight[1])
        default:
            return nil
        }
    }
}
