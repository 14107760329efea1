import ONNXProto
import PruneCore

/// Which operator-set versions PruneKit opens, and what it says about the others.
///
/// The file layer reads initializers and the weight inputs of Conv, Gemm and MatMul; those have meant the same
/// since opset 1 (Gemm's `transB`, Conv's `[out, in/group, k…]`, MatMul's `[…, in, out]`). So opsets 13–21 — the
/// range PruneKit is built and tested for — open silently, and any other positive version opens with a warning
/// rather than an error: reading and rewriting weights stays correct, and refusing older exports (the ONNX test
/// corpus is opset 6–12) would help nobody. Operator support is the interpreter's business (`prune eval`).
/// A version below 1 is not a valid model and is refused.
package enum ONNXOpsetPolicy {
    /// Default-domain opsets PruneKit is validated for.
    package static let supported: ClosedRange<Int64> = 13...21

    /// Warnings about `proto`'s operator sets (empty when the default domain's opset is in ``supported``).
    ///
    /// - Throws: `PruneError.Kind.corruptFile` naming the file for an opset version below 1.
    package static func warnings(for proto: Onnx_ModelProto, path: String) throws -> [String] {
        try OpsetImportRule.check(proto.opsetImport.map { ($0.domain, $0.version) }, path: path)
        let defaults = proto.opsetImport.filter { ONNXWeightLayouts.isDefaultDomain($0.domain) }
        guard let version = defaults.map(\.version).max() else {
            let usesDefault = proto.graph.node.contains { ONNXWeightLayouts.isDefaultDomain($0.domain) }
            return usesDefault
                ? [
                    "\(path): no opset_import for the default ONNX domain (IR version \(proto.irVersion)); "
                        + "PruneKit is validated for opsets \(supported.lowerBound)–\(supported.upperBound)"
                ]
                : []
        }
        guard supported.contains(version) else {
            return [
                "\(path): default-domain opset \(version) is outside the range PruneKit is validated for "
                    + "(\(supported.lowerBound)–\(supported.upperBound)); weights and layouts are read the same way"
            ]
        }
        return []
    }
}
