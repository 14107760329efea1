/// Calibration batches a component can run through the model itself (the `reconstruct` rewriter does).
///
/// Statistics (``CalibrationStatistics``) suffice for scorers; a rewriter that re-fits weights needs the
/// activations themselves, so it reads the batches. Implementations load a batch only when asked.
public protocol CalibrationBatches: Sendable {
    /// The number of batches.
    var batchCount: Int { get }
    /// Batch `index` (0-based) as one tensor per name in `inputs` (graph input names).
    ///
    /// - Throws: `PruneError` naming the batch and the input it lacks, or the file that cannot be read.
    func batch(_ index: Int, inputs: [String]) throws -> [String: Tensor]
}
