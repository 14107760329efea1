import Foundation
import PruneKit

/// Writes sensitivity curves with the fallback routine (``FallbackSensitivity``) until `prune sensitivity` is merged.
///
/// Usage: `budget-curves MODEL.onnx DATA OUT.json [key=value ...]` with keys `granularity` (unit|element, default
/// unit), `scorer` (default `magnitude:p=2`), `rewriter` (default remove for unit, mask for element), `metric`
/// (agreement|cosine|accuracy, default agreement), `labels` (tensor name, for accuracy), `grid` (comma-separated
/// sparsities, default 0.1,0.2,0.3,0.4,0.5,0.6,0.7), `calibration` (batches for data-aware scorers), `threads`.
/// DATA is the scoring side of the data: never the guard's held-out batches.
@main
struct BudgetCurves {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count >= 3 else {
            FileHandle.standardError.write(Data("usage: budget-curves MODEL.onnx DATA OUT.json [key=value ...]\n".utf8))
            exit(2)
        }
        var options: [String: String] = [:]
        for item in arguments.dropFirst(3) {
            let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { fatalError("'\(item)' is not key=value") }
            options[pair[0]] = pair[1]
        }
        let granularity = PruneTarget.Granularity(rawValue: options["granularity"] ?? "unit") ?? .unit
        let stage = Recipe.StageEntry(
            name: "prune", scorer: try ComponentSpec(parsing: options["scorer"] ?? "magnitude:p=2"),
            selector: ComponentSpec(name: "targets"),
            rewriter: ComponentSpec(name: options["rewriter"] ?? (granularity == .unit ? "remove" : "mask")),
            targets: TargetFilter(granularity: granularity))
        let grid = (options["grid"] ?? "0.1,0.2,0.3,0.4,0.5,0.6,0.7").split(separator: ",").compactMap { Double($0) }
        let threads = options["threads"].flatMap(Int.init) ?? ParallelFor.defaultThreads
        let calibration: PruneJob.Calibration =
            options["calibration"].map { .batches(URL(fileURLWithPath: $0)) } ?? .none
        let started = Date()
        let curves = try FallbackSensitivity.curves(
            engine: PruneEngine(), input: URL(fileURLWithPath: arguments[0]), stage: stage, calibration: calibration,
            data: URL(fileURLWithPath: arguments[1]), labels: options["labels"],
            metric: SensitivityCurves.Metric(rawValue: options["metric"] ?? "agreement") ?? .agreement, grid: grid,
            threads: threads
        ) { target, sparsity, fidelity in
            FileHandle.standardError.write(Data(String(format: "%@ %.2f %.4f\n", target, sparsity, fidelity).utf8))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(curves).write(to: URL(fileURLWithPath: arguments[2]), options: .atomic)
        FileHandle.standardError.write(
            Data(String(format: "%d curves in %.1f s\n", curves.curves.count, Date().timeIntervalSince(started)).utf8))
    }
}
