import ArgumentParser
import Foundation
import PruneKit

/// The options that supply calibration statistics: `--calibration`, `--stats` and `--save-stats`.
struct CalibrationOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Calibration batches: a safetensors file, or a directory of them (one batch each), with tensors named as the graph inputs.",
            valueName: "path"))
    var calibration: String?

    @Option(help: ArgumentHelp("Use statistics saved by --save-stats instead of calibrating.", valueName: "path"))
    var stats: String?

    @Option(
        name: .customLong("save-stats"),
        help: ArgumentHelp("Save the calibration statistics (every kind) for reuse with --stats.", valueName: "path"))
    var saveStats: String?

    func validate() throws {
        if calibration != nil, stats != nil {
            throw ValidationError("give --calibration or --stats, not both")
        }
        if saveStats != nil, calibration == nil {
            throw ValidationError("--save-stats needs --calibration (the data to compute statistics from)")
        }
    }
}
