import Foundation
import PruneCore

/// Which tensors of a safetensors checkpoint are layer weights: the default pruning candidates.
///
/// A float tensor of rank ≥ 2, except embeddings, normalisation weights, the output head (llm-compressor leaves
/// `lm_head` out the same way) and quantisation scales and zero points (a name ending in `_scale`, `_zero_point`): a name part containing `embed` or `norm`, or equal to `lm_head`, `wte`, `wpe` or
/// starting with `ln_`. When a Hugging Face `config.json` sits beside the file, a tensor whose first dimension is
/// its `vocab_size`, `max_position_embeddings` or `type_vocab_size` is a lookup table or output head too.
package enum SafetensorsCandidates {
    /// The rule in words, for reports.
    package static let rule =
        "float tensors of rank ≥ 2 except embeddings, norms, the output head (config.json's sizes when present) and quantisation scales"

    /// The table sizes read from the `config.json` beside `url`, if there is one that parses.
    package static func tableSizes(beside url: URL) -> Set<Int> {
        let config = url.deletingLastPathComponent().appending(path: "config.json")
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: config.path),
            (attributes[.type] as? FileAttributeType) == .typeRegular,
            let size = attributes[.size] as? Int, size < 1 << 20,
            let data = try? Data(contentsOf: config),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [] }
        let keys = ["vocab_size", "max_position_embeddings", "type_vocab_size"]
        return Set(keys.compactMap { object[$0] as? Int }.filter { $0 > 0 })
    }

    /// Whether the tensor is a layer weight by the rule above.
    package static func isLayerWeight(name: String, dtype: DType, shape: [Int], tableSizes: Set<Int>) -> Bool {
        guard dtype.isFloatingPoint, shape.count >= 2 else { return false }
        let parts = name.lowercased().split(whereSeparator: { $0 == "." || $0 == "/" })
        let excluded = parts.contains { part in
            part.contains("embed") || part.contains("norm") || part == "lm_head" || part == "wte" || part == "wpe"
                || part.hasPrefix("ln_")
        }
        if excluded { return false }
        // The scales and zero points of a quantised weight (compressed-tensors' `p.weight_scale`, …).
        if let last = parts.last, last.hasSuffix("_scale") || last.hasSuffix("_zero_point") { return false }
        if let first = shape.first, tableSizes.contains(first) { return false }
        return true
    }
}
