import ArgumentParser
import Foundation
import PruneKit

/// `prune run`'s per-stage fidelity options: `--fidelity-data`, `--fidelity-labels`, `--fidelity-metric`.
struct FidelityFlags: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Measure the model after every stage against the dense model on these held-out batches (ONNX): the report gives what each stage cost.",
            valueName: "path"))
    var fidelityData: String?

    @Option(help: ArgumentHelp("The labels tensor in --fidelity-data, for --fidelity-metric accuracy.", valueName: "name"))
    var fidelityLabels: String?

    @Option(help: "The fidelity metric: agreement (top-1 equal to the dense model's), cosine (mean output cosine) or accuracy.")
    var fidelityMetric: SensitivityCurves.Metric = .agreement

    func validate() throws {
        if fidelityData == nil, fidelityLabels != nil || fidelityMetric != .agreement {
            throw ValidationError("--fidelity-labels and --fidelity-metric need --fidelity-data")
        }
        if fidelityMetric == .accuracy, fidelityLabels == nil {
            throw ValidationError("--fidelity-metric accuracy needs --fidelity-labels: the labels tensor in the batches")
        }
    }

    /// The engine's options, when `--fidelity-data` is given.
    var options: StageFidelityOptions? {
        fidelityData.map {
            StageFidelityOptions(data: URL(fileURLWithPath: $0), labels: fidelityLabels, metric: fidelityMetric)
        }
    }
}
