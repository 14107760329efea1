/// A weight a rewriter stored as integers: the parameters that now hold it and what they hold.
///
/// A quantising rewriter replaces a float weight by parts — the integer values, the scales, and whatever else the
/// output format needs (an ONNX `w_quantized` + `w_scale` read back through DequantizeLinear; compressed-tensors'
/// `p.weight` + `p.weight_scale`, or `p.weight_packed` + `p.weight_scale` + `p.weight_shape`) — and records them
/// here under the weight's old name, so the report and the writers can follow the renaming.
public struct QuantizedWeight: Sendable, Hashable {
    /// The float weight's name before quantisation (`fc1.weight`, `W1`).
    public var name: String
    /// Its shape (unchanged by quantisation).
    public var shape: [Int]
    /// Bits per value: 8 or 4 (32 for a bias stored as int32 by static quantisation).
    public var bits: Int
    /// Input channels per scale; 0 for one scale per output channel.
    public var groupSize: Int
    /// The layout it is stored in: `dequantize-linear` (ONNX), `int-quantized` or `pack-quantized`
    /// (compressed-tensors).
    public var format: String
    /// Every parameter of the model that holds a part of it (values, scales, zero points, shape), in file order.
    public var parts: [String]
    /// Bytes of parts the model holds outside its parameters (ONNX int4 values travel inside the graph message).
    public var bytesOutsideParameters: Int
    /// Values that are exactly zero (pruned or rounded to 0).
    public var zeros: Int

    /// Creates a record.
    public init(
        name: String, shape: [Int], bits: Int, groupSize: Int, format: String, parts: [String],
        bytesOutsideParameters: Int = 0, zeros: Int
    ) {
        self.name = name
        self.shape = shape
        self.bits = bits
        self.groupSize = groupSize
        self.format = format
        self.parts = parts
        self.bytesOutsideParameters = bytesOutsideParameters
        self.zeros = zeros
    }

    /// The element type in words: `int8`, `int4`, `int32`.
    public var dtype: String { "int\(bits)" }
}
