import PruneCore

/// The loud notices a run owes its user about reconstruction results.
enum ReconstructionWarnings {
    /// One line per stage and graph output whose reconstruction made the model's output worse than the selection
    /// alone, by the rewriter's own end metric (held-out samples when measured).
    static func worsenedOutputs(in stages: [StageReport]) -> [String] {
        stages.flatMap { stage in
            (stage.reconstruction ?? []).filter(\.worsened).map { row in
                let (before, after, data) =
                    row.heldOutErrorBefore.flatMap { b in row.heldOutErrorAfter.map { (b, $0, "held-out") } }
                    ?? (row.relativeErrorBefore ?? 0, row.relativeErrorAfter ?? 0, "calibration")
                return "stage '\(stage.name)': '\(stage.description.rewriter)' made model output '\(row.layer)' WORSE "
                    + "than the selection alone on \(data) samples (relative error "
                    + String(format: "%.4f → %.4f", before, after) + "); the model was written anyway"
            }
        }
    }
}
