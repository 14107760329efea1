import PruneCore
import PruneRuntime

/// The token positions a calibration input marks as padding — the zeros of a Hugging Face `attention_mask` — whose
/// rows are left out of every least-squares fit, Gram matrix and error: the model's outputs never read them (the
/// attention masks them, the pooling weights them by 0), so fitting them spends the fit on values nobody uses.
///
/// A layer input `[b, s, features]` has one row per position; the mask `[b, s]` marks each. An input whose leading
/// axes are not the mask's shape (a Conv's `[n, c, h, w]`, a pooled `[b, features]`) keeps every row.
struct PaddingRows: Sendable {
    /// The graph input holding the mask (non-zero: a real token).
    let input: String

    /// The mask input `setting` names for a graph with `inputs`: with `auto` the input named `attention_mask` when
    /// there is one (nil otherwise); with `none` nil; otherwise the named input.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` when a named input is not one of `inputs`.
    static func resolve(_ setting: String, inputs: [String]) throws -> PaddingRows? {
        switch setting {
        case "none": return nil
        case "auto": return inputs.contains(PaddingMask.inputName) ? PaddingRows(input: PaddingMask.inputName) : nil
        default:
            guard inputs.contains(setting) else {
                throw PruneError(
                    .invalidParameter,
                    "'reconstruct': padding input '\(setting)' is not an input of the graph (inputs: "
                        + "\(inputs.joined(separator: ", "))); give one of them, auto or none")
            }
            return PaddingRows(input: setting)
        }
    }

    /// Whether each row of a layer input shaped `shape` (features last) in batch `index` of `batches` is a real
    /// token; nil when the mask's shape is not `shape`'s leading axes (every row counts).
    ///
    /// - Throws: the batches' errors (a file that cannot be read, the mask missing from it).
    func realRows(of shape: [Int], batch index: Int, of batches: any CalibrationBatches) throws -> [Bool]? {
        guard let mask = try batches.batch(index, inputs: [input])[input],
            PaddingMask.marksRows(of: shape, maskShape: mask.shape)
        else { return nil }
        return mask.floatValues().map { $0 != 0 }
    }

    /// The rows of `values` (row-major `count` × `columns`) that `keep` marks, and how many; all of them when
    /// `keep` is nil.
    static func keeping(_ keep: [Bool]?, of values: [Double], columns: Int, count: Int) -> (values: [Double], count: Int) {
        guard let keep, keep.count == count, keep.contains(false) else { return (values, count) }
        let kept = PaddingMask.realRows(keep, of: values, width: columns)
        return (kept, kept.count / max(1, columns))
    }
}
