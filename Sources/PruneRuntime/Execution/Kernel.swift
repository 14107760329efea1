import PruneCore

/// A prepared operator: attributes parsed and checked when the interpreter is built, then run once per node
/// execution on the node's input values.
protocol Kernel: Sendable {
    /// Computes the node's outputs, one per declared output (omitted optional outputs may be anything).
    func run(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor]
}

/// Makes the kernel for a node; throws `unsupported` for attribute values the kernel does not implement.
typealias KernelFactory = @Sendable (GraphNode, _ opset: Int) throws -> any Kernel

/// What a kernel sees besides its inputs.
struct KernelContext {
    let node: GraphNode
    /// Threads the kernel may use for its own loops.
    let threads: Int

    /// The required input `index`, or an error naming it.
    func input(_ inputs: [RuntimeTensor?], _ index: Int) throws -> RuntimeTensor {
        guard index < inputs.count, let value = inputs[index] else {
            throw node.error(.invalidInput, "required input \(index) is missing")
        }
        return value
    }

    /// Checks that `tensor` has one of `types`.
    func require(_ tensor: RuntimeTensor, _ types: Set<DType>, _ what: String) throws {
        guard types.contains(tensor.dtype) else {
            let list = types.map(\.rawValue).sorted().joined(separator: "/")
            throw node.error(.unsupported, "\(what) has dtype \(tensor.dtype.rawValue); only \(list) is supported")
        }
    }

    /// An error naming the node.
    func error(_ kind: PruneError.Kind, _ message: String) -> PruneError { node.error(kind, message) }

    /// Reads a 1-D (or scalar) integer input as `[Int]`.
    func intList(_ tensor: RuntimeTensor, _ what: String) throws -> [Int] {
        try require(tensor, [.i64, .i32], what)
        return tensor.int64Values().map { Int($0) }
    }

    /// Normalises a possibly negative axis against `rank`: valid axes are `-rank..<rank`, so a scalar has none
    /// (every op that takes an axis needs rank ≥ 1; one check here instead of one per op).
    func axis(_ axis: Int, rank: Int, _ what: String = "axis") throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0, resolved < rank else {
            throw node.error(.invalidInput, "\(what) \(axis) is out of range for rank \(rank)")
        }
        return resolved
    }
}

/// A kernel defined by a closure; most ops need nothing more.
struct ClosureKernel: Kernel {
    let body: @Sendable ([RuntimeTensor?], KernelContext) throws -> [RuntimeTensor]
    func run(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        try body(inputs, context)
    }
}

/// Every operator the interpreter implements, by ONNX op type (default domain).
enum KernelRegistry {
    static let factories: [String: KernelFactory] = {
        var all: [String: KernelFactory] = [:]
        for family in [
            ElementwiseOps.factories, ModOps.factories, ActivationOps.factories, MatMulOps.factories, ConvOps.factories,
            PoolingOps.factories, NormalizationOps.factories, SoftmaxOps.factories, ShapeOps.factories,
            IndexingOps.factories, GeneratorOps.factories, LogicOps.factories, ReductionOps.factories,
            PadOps.factories, ResizeOps.factories, ConvTransposeOps.factories, VariadicOps.factories,
            ComparisonOps.factories, MoreActivationOps.factories, ControlFlowOps.factories, RecurrentOps.factories,
            TileOps.factories, ArgReduceOps.factories, CumSumOps.factories, InstanceNormalizationOps.factories,
            TriluOps.factories, ElementIndexingOps.factories, TopKOps.factories, GRUOps.factories,
            EinsumOps.factories, LRNOps.factories, QuantizationOps.factories,
        ] {
            all.merge(family) { first, _ in first }
        }
        return all
    }()

    /// The op types the interpreter claims, sorted.
    static var operatorTypes: [String] { factories.keys.sorted() }
}
