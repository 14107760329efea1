import PruneCore

/// Registers PruneReconstruct's components: the `reconstruct` rewriter.
public enum ReconstructComponents {
    /// Adds `reconstruct` to `registry`.
    ///
    /// - Throws: `PruneError.Kind.duplicateComponent` if the name is taken.
    public static func register(into registry: ComponentRegistry) throws {
        try registry.register(
            rewriter: ComponentInfo(
                kind: .rewriter, name: "reconstruct",
                summary: "calibration: apply the selection, then update the surviving weights (units: least-squares "
                    + "re-fit and BatchNorm statistics; elements: SparseGPT OBS sweep)",
                signature: try ParameterSignature(
                    parsing: "lambda:f64[0..]=0.001,bn:bool=true,damp:f64[0..]=0.01,block:i64[1..]=128,"
                        + "mask:str{adaptive|fixed}=adaptive,inputs:str{pruned|dense}=pruned,holdout:f64[0..0.5]=0.25,"
                        + "chunk:i64[1..]=32,fit:str{sweep|exact}=sweep,choose:str{column|block}=column,residual:bool=true,units:str{selected|obs}=selected,"
                        + "padding:str=auto"),
                source: .builtin)
        ) { values in
            ReconstructRewriter(
                lambda: values.double("lambda"), reestimateBatchNorm: values.bool("bn"), damp: values.double("damp"),
                blockSize: values.int("block"), adaptive: values.string("mask") == "adaptive",
                denseInputs: values.string("inputs") == "dense", heldOutFraction: values.double("holdout"),
                chunk: values.int("chunk"), elementFit: values.string("fit") == "exact" ? .exact : .sweep,
                runChoice: values.string("choose") == "block" ? .block : .column,
                residualSums: values.bool("residual"),
                unitChoice: values.string("units") == "obs" ? .obs : .selected, padding: values.string("padding"))
        }
    }
}
