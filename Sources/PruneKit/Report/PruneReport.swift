import Foundation
import PruneCore

/// Everything a pruning run reports: what was removed from which tensor, what it cost, and how long it took.
///
/// Encoded as JSON by `prune run --report`; the schema is documented in `Docs/Report.md` and versioned by
/// `schemaVersion` (fields are only ever added within a version).
public struct PruneReport: Sendable, Codable, Hashable {
    /// One file the run read or wrote.
    public struct FileInfo: Sendable, Codable, Hashable {
        /// Its path as given.
        public var path: String
        /// Its format (`safetensors`, `onnx`).
        public var format: String
        /// Its size in bytes.
        public var bytes: Int

        /// Creates a file description.
        public init(path: String, format: String, bytes: Int) {
            self.path = path
            self.format = format
            self.bytes = bytes
        }
    }

    /// One parameter's state before and after the run.
    public struct TensorRow: Sendable, Codable, Hashable {
        /// The parameter's name.
        public var name: String
        /// Its dtype.
        public var dtype: String
        /// Its shape before the run.
        public var shapeBefore: [Int]
        /// Its shape after the run (differs only when units were physically removed).
        public var shapeAfter: [Int]
        /// Elements before.
        public var parametersBefore: Int
        /// Elements after.
        public var parametersAfter: Int
        /// Zero elements before.
        public var zerosBefore: Int
        /// Zero elements after.
        public var zerosAfter: Int
        /// Whether any stage changed it.
        public var changed: Bool
        /// How it was stored in the input (`dense`, `sparse-coo`, …) and how many bytes its data took there.
        public var storageBefore: StoredSize?
        /// How it is stored in the output, when one was written.
        public var storageAfter: StoredSize?
        /// Its element type after the run when a rewriter changed it (`int8`, `int4` for a quantised weight).
        public var dtypeAfter: String?
    }

    /// Sums over all parameters.
    public struct Totals: Sendable, Codable, Hashable {
        /// Elements before.
        public var parametersBefore: Int
        /// Elements after.
        public var parametersAfter: Int
        /// Zero elements before.
        public var zerosBefore: Int
        /// Zero elements after.
        public var zerosAfter: Int
        /// Bytes of tensor data in the input, as stored (dense or sparse).
        public var bytesBefore: Int?
        /// Bytes of tensor data in the output, as stored, when one was written.
        public var bytesAfter: Int?
        /// Non-zero elements after: what a sparse format would store.
        public var nonzerosAfter: Int { parametersAfter - zerosAfter }
        /// zerosBefore / parametersBefore.
        public var sparsityBefore: Double { parametersBefore == 0 ? 0 : Double(zerosBefore) / Double(parametersBefore) }
        /// zerosAfter / parametersAfter.
        public var sparsityAfter: Double { parametersAfter == 0 ? 0 : Double(zerosAfter) / Double(parametersAfter) }

        private enum CodingKeys: String, CodingKey {
            case parametersBefore, parametersAfter, zerosBefore, zerosAfter, sparsityBefore, sparsityAfter
            case bytesBefore, bytesAfter
        }

        /// Encodes the counts and the derived sparsities.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(parametersBefore, forKey: .parametersBefore)
            try container.encode(parametersAfter, forKey: .parametersAfter)
            try container.encode(zerosBefore, forKey: .zerosBefore)
            try container.encode(zerosAfter, forKey: .zerosAfter)
            try container.encode(sparsityBefore, forKey: .sparsityBefore)
            try container.encode(sparsityAfter, forKey: .sparsityAfter)
            try container.encodeIfPresent(bytesBefore, forKey: .bytesBefore)
            try container.encodeIfPresent(bytesAfter, forKey: .bytesAfter)
        }

        /// Decodes the counts (the sparsities are derived).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            parametersBefore = try container.decode(Int.self, forKey: .parametersBefore)
            parametersAfter = try container.decode(Int.self, forKey: .parametersAfter)
            zerosBefore = try container.decode(Int.self, forKey: .zerosBefore)
            zerosAfter = try container.decode(Int.self, forKey: .zerosAfter)
            bytesBefore = try container.decodeIfPresent(Int.self, forKey: .bytesBefore)
            bytesAfter = try container.decodeIfPresent(Int.self, forKey: .bytesAfter)
        }

        init(rows: [TensorRow]) {
            parametersBefore = rows.reduce(0) { $0 + $1.parametersBefore }
            parametersAfter = rows.reduce(0) { $0 + $1.parametersAfter }
            zerosBefore = rows.reduce(0) { $0 + $1.zerosBefore }
            zerosAfter = rows.reduce(0) { $0 + $1.zerosAfter }
        }
    }

    /// Wall-clock seconds per phase of the run.
    public struct Phases: Sendable, Codable, Hashable {
        /// Opening and validating the input.
        public var load: Double
        /// Scoring, summed over stages.
        public var score: Double
        /// Selecting, summed over stages.
        public var select: Double
        /// Rewriting, summed over stages.
        public var rewrite: Double
        /// Counting zeros before and after for this report.
        public var analyse: Double
        /// Writing the output.
        public var save: Double
        /// The whole run.
        public var total: Double

        /// Creates phase timings.
        public init(
            load: Double, score: Double, select: Double, rewrite: Double, analyse: Double, save: Double,
            total: Double
        ) {
            self.load = load
            self.score = score
            self.select = select
            self.rewrite = rewrite
            self.analyse = analyse
            self.save = save
            self.total = total
        }
    }

    /// A count before and after the run.
    public struct Change: Sendable, Codable, Hashable {
        /// Before the run.
        public var before: Int
        /// After the run.
        public var after: Int

        /// Creates a pair.
        public init(before: Int, after: Int) {
            self.before = before
            self.after = after
        }
    }

    /// Interpreter latency of the input and output models at one batch size.
    public struct LatencyRow: Sendable, Codable, Hashable {
        /// The batch size of the random inputs.
        public var batch: Int
        /// Timed runs per model (the fewer of the two).
        public var runs: Int
        /// Untimed warm-up runs before timing.
        public var warmupRuns: Int?
        /// The input model's 10th-percentile run time in seconds (nearest rank).
        public var p10SecondsBefore: Double?
        /// The input model's 90th-percentile run time in seconds.
        public var p90SecondsBefore: Double?
        /// The output model's 10th-percentile run time in seconds.
        public var p10SecondsAfter: Double?
        /// The output model's 90th-percentile run time in seconds.
        public var p90SecondsAfter: Double?
        /// The input model's median run time in seconds.
        public var medianSecondsBefore: Double
        /// The output model's median run time in seconds.
        public var medianSecondsAfter: Double

        /// Creates a row.
        public init(batch: Int, runs: Int, medianSecondsBefore: Double, medianSecondsAfter: Double) {
            self.batch = batch
            self.runs = runs
            self.medianSecondsBefore = medianSecondsBefore
            self.medianSecondsAfter = medianSecondsAfter
        }
    }

    /// The schema version of this structure.
    public var schemaVersion = 1
    /// The tool and its version.
    public var tool: String
    /// The input file.
    public var input: FileInfo
    /// The output file, when one was written.
    public var output: FileInfo?
    /// What each stage did.
    public var stages: [StageReport]
    /// Every parameter of the model, in file order.
    public var tensors: [TensorRow]
    /// Sums over `tensors`.
    public var totals: Totals
    /// Bytes of model files read.
    public var bytesRead: Int
    /// Bytes of model files written.
    public var bytesWritten: Int
    /// Time per phase.
    public var phases: Phases
    /// Multiply-accumulates of one forward pass at batch 1 (Conv, ConvTranspose, Gemm, MatMul), for ONNX models
    /// whose layer shapes are all known.
    public var macs: Change?
    /// True for an ONNX model whose MACs are unknown (a layer's shapes could not be inferred, e.g. from symbolic
    /// dimensions): the count is reported as unknown rather than as a partial sum or 0; nil otherwise.
    public var macsUnknown: Bool?
    /// The input shapes ``macs`` was counted at, when the model has dynamic axes beyond the batch (a sequence
    /// length) and they were read from the run's data (the calibration or fidelity data); nil otherwise.
    public var macsInputShapes: [String: [Int]]?
    /// Interpreter latency before and after, when measured (`prune run --measure-latency`).
    public var latency: [LatencyRow]?
    /// The per-target sparsities a budget chose and what they reached (`prune run --target`), when budgeted.
    public var budget: BudgetReport?
    /// With `--fidelity-data` only: the fidelity of the model after each stage against the dense model.
    public var fidelity: FidelityReport?

    /// Assembles a report by comparing the model before and after a run.
    ///
    /// Counting zeros reads every tensor once more on each side (in parallel, releasing mapped pages as it goes).
    public static func compare(
        before: Model, after: Model, threads: Int
    ) -> (rows: [TensorRow], totals: Totals) {
        let rows = try! ParallelFor.map(before.parameters.count, threads: threads) { i in
            let old = before.parameters[i]
            let zerosBefore = old.tensor.zeroCount()
            old.tensor.releaseResidentPages()
            // A quantised weight lives on under other names (its integer values and scales): follow it.
            if let record = after.quantizedWeights[old.name] {
                var row = TensorRow(
                    name: old.name, dtype: old.tensor.dtype.rawValue, shapeBefore: old.tensor.shape,
                    shapeAfter: record.shape, parametersBefore: old.tensor.elementCount,
                    parametersAfter: record.shape.reduce(1, *), zerosBefore: zerosBefore, zerosAfter: record.zeros,
                    changed: true)
                row.dtypeAfter = record.dtype
                return row
            }
            let new = after[old.name] ?? old
            let changed =
                !new.tensor.isUnmodified || new.tensor.shape != old.tensor.shape || new.tensor.bytes !== old.tensor.bytes
            let zerosAfter = changed ? new.tensor.zeroCount() : zerosBefore
            new.tensor.releaseResidentPages()
            return TensorRow(
                name: old.name, dtype: old.tensor.dtype.rawValue, shapeBefore: old.tensor.shape,
                shapeAfter: new.tensor.shape, parametersBefore: old.tensor.elementCount,
                parametersAfter: new.tensor.elementCount, zerosBefore: zerosBefore, zerosAfter: zerosAfter,
                changed: changed)
        }
        return (rows, Totals(rows: rows))
    }

    /// The report as pretty-printed JSON with sorted keys (the `--report` file and `--json` output).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Creates a report.
    public init(
        tool: String, input: FileInfo, output: FileInfo?, stages: [StageReport], tensors: [TensorRow],
        totals: Totals, bytesRead: Int, bytesWritten: Int, phases: Phases
    ) {
        self.tool = tool
        self.input = input
        self.output = output
        self.stages = stages
        self.tensors = tensors
        self.totals = totals
        self.bytesRead = bytesRead
        self.bytesWritten = bytesWritten
        self.phases = phases
    }
}
