/// The batch dimension a graph was exported with.
extension ONNXGraph {
    /// The first input's fixed batch dimension (dimension 0 declared as a positive `dim_value`), or nil when it is
    /// symbolic, unknown or undeclared.
    ///
    /// `torch.onnx.export` writes batch 1 unless told otherwise, and such graphs often bake that size into later
    /// shapes (a `Reshape` to `[1, -1]` before the classifier), so feeding them more samples at once is wrong even
    /// where no kernel notices: data for them has to be run in pieces of this size.
    public var fixedBatchSize: Int? {
        if case .fixed(let size)? = inputDeclarations.first?.dimensions?.first, size > 0 { return size }
        return nil
    }
}
