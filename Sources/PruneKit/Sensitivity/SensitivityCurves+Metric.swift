import PruneEvaluation

extension SensitivityCurves.Metric {
    /// The metric's value from one comparison with the dense model: top-1 agreement, mean output cosine, or
    /// accuracy against the labels (0 when the comparison has none of it).
    ///
    /// The one reading of ``Agreement`` and ``Accuracy`` that sensitivity sweeps, budgets and the guard share.
    public func value(agreement: Agreement, accuracy: Accuracy?) -> Double {
        switch self {
        case .agreement: agreement.top1 ?? 0
        case .cosine: agreement.meanCosine
        case .accuracy: accuracy?.value ?? 0
        }
    }
}
