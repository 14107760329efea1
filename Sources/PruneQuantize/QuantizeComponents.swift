import PruneCore

/// Registers PruneQuantize's components: the `quantize` rewriter (weights) and the `qdq` rewriter (weights and
/// activations).
public enum QuantizeComponents {
    /// Adds `quantize` and `qdq` to `registry`.
    ///
    /// - Throws: `PruneError.Kind.duplicateComponent` if a name is taken.
    public static func register(into registry: ComponentRegistry) throws {
        try registry.register(
            rewriter: ComponentInfo(
                kind: .rewriter, name: "quantize",
                summary: "apply the selection, then store layer weights as int8 per output channel or int4 in groups "
                    + "of input channels behind DequantizeLinear (ONNX); method=gptq compensates rounding error on "
                    + "calibration data (with a selection: SparseGPT's joint sparse + quantised sweep); "
                    + "embeddings=int8 (or int4) also stores tables read by Gather per row, dequantising only gathered rows",
                signature: try ParameterSignature(
                    parsing: "bits:i64[4..8]=8,group:i64[0..]=0,method:str{nearest|gptq}=nearest,"
                        + "damp:f64[0..]=0.01,block:i64[1..]=128,embeddings:str{none|int8|int4}=none"),
                source: .builtin)
        ) { values in
            QuantizeRewriter(
                scheme: try WeightQuantization(bits: values.int("bits"), groupSize: values.int("group")),
                method: QuantizeRewriter.Method(rawValue: values.string("method")) ?? .nearest,
                damp: values.double("damp"), blockSize: values.int("block"),
                embeddingBits: ["int8": 8, "int4": 4][values.string("embeddings")])
        }
        try registry.register(
            rewriter: ComponentInfo(
                kind: .rewriter, name: "qdq",
                summary: "calibration: static int8 — weights int8 behind DequantizeLinear, QuantizeLinear/"
                    + "DequantizeLinear pairs (uint8) on the layers' activations with calibration ranges (ONNX "
                    + "Runtime runs QLinear kernels)",
                signature: try ParameterSignature(
                    parsing: "range:str{minmax|percentile}=minmax,percentile:f64[50..100]=99.999,"
                        + "weights:str{channel|tensor}=channel"),
                source: .builtin)
        ) { values in
            StaticQuantizeRewriter(
                range: values.string("range") == "percentile" ? .percentile(values.double("percentile")) : .minMax,
                perChannel: values.string("weights") == "channel")
        }
    }
}
