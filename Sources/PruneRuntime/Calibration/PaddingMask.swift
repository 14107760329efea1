/// The graph input that marks padded token positions with 0, by the Hugging Face convention (transformers, optimum
/// and sentence-transformers exports all name it so): calibration statistics and re-fits leave those positions out.
package enum PaddingMask {
    /// The input's name.
    package static let inputName = "attention_mask"
}
