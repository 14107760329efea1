/// Which tensors a stage prunes, and at what granularity.
///
/// By default every floating-point layer weight is a candidate: a parameter with a ``WeightLayout`` (every
/// float tensor of rank ≥ 2 in a safetensors file; the Conv, Gemm and MatMul weights of an ONNX graph).
/// `include` patterns (regular expressions, matched anywhere in the name) replace that default: any tensor
/// whose name matches one is a candidate.
/// `exclude` patterns then remove tensors. Unit granularity needs a tensor of rank ≥ 2 (units run along its
/// output axis); others are skipped with a reason.
public struct TargetFilter: Sendable, Hashable {
    /// Patterns that select candidates; empty means the default rule.
    public var include: [String]
    /// Patterns that remove candidates.
    public var exclude: [String]
    /// One score per element, or one per output unit.
    public var granularity: PruneTarget.Granularity
    /// Patterns of node, tensor or value names whose structural groups are never removed (read by a
    /// ``TargetProvider``; unit granularity on a model with a graph).
    public var ignore: [String]
    /// Whether a transformer's hidden width (the residual stream through the embeddings, every LayerNorm and every
    /// projection) is offered as a structural group; it is refused unless asked for (`--include-hidden-width`).
    public var includeHiddenWidth: Bool
    /// Whether each multi-head attention block offers two head-dimension groups (the Q/K features and the V/O
    /// features of every head, `d` units each) instead of its head group (`--head-dims`).
    public var headDimensions: Bool

    /// Creates a filter; the patterns are checked when the filter is used.
    public init(
        include: [String] = [], exclude: [String] = [], granularity: PruneTarget.Granularity = .element,
        ignore: [String] = [], includeHiddenWidth: Bool = false, headDimensions: Bool = false
    ) {
        self.include = include
        self.exclude = exclude
        self.granularity = granularity
        self.ignore = ignore
        self.includeHiddenWidth = includeHiddenWidth
        self.headDimensions = headDimensions
    }

    /// The rule in words, for reports: which tensors are candidates and why.
    public var rule: String {
        var text =
            include.isEmpty
            ? "layer weights (ONNX: Conv/Gemm/MatMul weights; safetensors: float tensors of rank ≥ 2 except "
                + "embeddings, norms and the output head)"
            : "tensors matching " + include.map { "/\($0)/" }.joined(separator: " or ")
        if !exclude.isEmpty { text += ", except " + exclude.map { "/\($0)/" }.joined(separator: " or ") }
        if !ignore.isEmpty { text += ", never groups touching " + ignore.map { "/\($0)/" }.joined(separator: " or ") }
        if includeHiddenWidth { text += ", with the hidden width" }
        if headDimensions { text += ", attention by head dimension" }
        return text
    }

    /// Checks that every pattern compiles.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming the bad pattern.
    public func validate() throws {
        _ = try TargetFilter.compile(include)
        _ = try TargetFilter.compile(exclude)
        _ = try TargetFilter.compile(ignore)
    }

    /// The targets this filter picks in `model`, and the tensors it had to pass over with the reason.
    public func resolve(in model: Model) throws -> (targets: [PruneTarget], skipped: [(name: String, reason: String)]) {
        let includes = try TargetFilter.compile(include)
        let excludes = try TargetFilter.compile(exclude)
        var targets: [PruneTarget] = []
        var skipped: [(name: String, reason: String)] = []
        for parameter in model.parameters {
            let name = parameter.name
            let tensor = parameter.tensor
            if includes.isEmpty {
                guard tensor.dtype.isFloatingPoint, parameter.layout != nil else { continue }
            } else {
                guard includes.contains(where: { name.contains($0) }) else { continue }
            }
            if excludes.contains(where: { name.contains($0) }) { continue }
            if tensor.elementCount == 0 {
                skipped.append((name, "empty tensor"))
                continue
            }
            switch granularity {
            case .element:
                targets.append(.elements(of: parameter))
            case .unit:
                guard let layout = parameter.effectiveLayout else {
                    skipped.append((name, "rank \(tensor.shape.count) has no output axis for unit pruning"))
                    continue
                }
                targets.append(.units(of: parameter, axis: layout.outputAxis))
            }
        }
        return (targets, skipped)
    }

    private static func compile(_ patterns: [String]) throws -> [Regex<AnyRegexOutput>] {
        try patterns.map { pattern in
            do {
                return try Regex(pattern)
            } catch {
                throw PruneError(.invalidInput, "invalid pattern '\(pattern)': \(error)")
            }
        }
    }
}
