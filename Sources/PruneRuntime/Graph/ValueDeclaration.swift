import ONNXProto
import PruneCore

/// What a graph declares about one of its inputs or outputs: element type and shape, as written in the file.
public struct ValueDeclaration: Sendable, Hashable {
    /// One declared dimension.
    public enum Dimension: Sendable, Hashable, CustomStringConvertible {
        /// A fixed extent.
        case fixed(Int)
        /// A named symbolic extent (`dim_param`), such as `batch`.
        case symbolic(String)
        /// Neither a positive value nor a name (also `dim_value` -1 or 0, which exporters write for dynamic axes).
        case unknown

        /// The extent as written: a number, the symbol's name, or `?`.
        public var description: String {
            switch self {
            case .fixed(let value): String(value)
            case .symbolic(let name): name
            case .unknown: "?"
            }
        }

        /// Whether an actual extent `value` fits this dimension.
        public func accepts(_ value: Int) -> Bool {
            if case .fixed(let fixed) = self { return fixed == value }
            return true
        }
    }

    /// The value's name.
    public let name: String
    /// The declared element type as a PruneCore dtype, or nil when undeclared or not one the runtime holds.
    public let dtype: DType?
    /// The declared element type's ONNX name (`FLOAT`, `INT64`, …), or nil when undeclared.
    public let elementTypeName: String?
    /// The declared dimensions, outermost first, or nil when the file declares no shape (any rank).
    public let dimensions: [Dimension]?

    /// Creates a declaration.
    public init(name: String, dtype: DType?, elementTypeName: String?, dimensions: [Dimension]?) {
        self.name = name
        self.dtype = dtype
        self.elementTypeName = elementTypeName
        self.dimensions = dimensions
    }

    /// The shape as text, e.g. `[batch, 1, 8, 8]`, or `any` when undeclared.
    public var shapeDescription: String {
        guard let dimensions else { return "any" }
        return "[" + dimensions.map(\.description).joined(separator: ", ") + "]"
    }

    /// Reads a `ValueInfoProto`.
    init(proto: Onnx_ValueInfoProto) {
        let tensorType = proto.type.tensorType
        let code = tensorType.elemType
        name = proto.name
        dtype = code == 0 ? nil : RuntimeTensor.dtype(onnx: code)
        elementTypeName = code == 0 ? nil : RuntimeTensor.onnxTypeName(code)
        dimensions =
            tensorType.hasShape
            ? tensorType.shape.dim.map { dim in
                switch dim.value {
                // Exporters write `dim_value: -1` (or 0) for a dynamic extent; only a positive value fixes one.
                case .dimValue(let value)? where value > 0: .fixed(Int(value))
                case .dimParam(let name)? where !name.isEmpty: .symbolic(name)
                default: .unknown
                }
            } : nil
    }
}
