import Foundation
import PruneCore
import PruneFormats
import PruneRuntime

/// Evaluation samples read from safetensors: one file split into batches along dimension 0, or a directory
/// whose `.safetensors` files are one batch each (for inputs whose shape varies between batches).
///
/// Tensor names match the graph's input names; one more tensor may hold integer labels, one per sample. Other
/// tensors are ignored. Files are memory-mapped; a single file's inputs are converted to runtime tensors once,
/// a directory's files one batch at a time.
public struct EvaluationData {
    /// How the samples are grouped into batches.
    public enum Layout: Sendable, Hashable {
        /// One file, split into consecutive batches of `batchSize` samples (the last may be smaller).
        case split(batchSize: Int)
        /// A directory: every `.safetensors` file, in name order, is one batch.
        case filePerBatch
    }

    /// The file or directory the data came from.
    public let url: URL
    /// How samples are grouped.
    public let layout: Layout
    /// The name of the labels tensor, when labels are used.
    public let labelsName: String?
    /// The data files, in batch order.
    public let files: [URL]
    /// The total number of samples.
    public let sampleCount: Int
    /// The number of batches.
    public var batchCount: Int { batchRanges.count }

    private let documents: [SafetensorsDocument]
    /// For `.split`: the whole file's tensors as runtime tensors, converted once (by name).
    private let converted: [String: RuntimeTensor]
    /// For each batch: the file index and the sample range within it.
    private let batchRanges: [(file: Int, samples: Range<Int>)]

    /// The samples per batch for `graph`'s data when one file is split: `requested` when given, else the graph's
    /// fixed batch dimension (`torch.onnx.export` writes batch 1 unless told otherwise), else `fallback`.
    public static func batchSize(requested: Int?, for graph: ONNXGraph, fallback: Int = 64) -> Int {
        requested ?? graph.fixedBatchSize ?? fallback
    }

    /// Opens the data at `url`: a `.safetensors` file split into batches of `batchSize`, or a directory of such
    /// files used one per batch (`batchSize` is then ignored).
    ///
    /// - Parameters:
    ///   - labels: the name of a tensor holding one integer label per sample, or nil.
    ///   - inputNames: the graph inputs to read from each file (other tensors are ignored).
    /// - Throws: `PruneError` naming the file and tensor for an unreadable or corrupt file, an empty directory,
    ///   a missing labels tensor, labels that are not integers or not one per sample, and inputs whose
    ///   sample counts differ.
    public init(url: URL, batchSize: Int = 64, labels: String? = nil, inputNames: [String]) throws {
        guard batchSize >= 1 else {
            throw PruneError(.invalidParameter, "batch size must be at least 1, not \(batchSize)")
        }
        self.url = url
        labelsName = labels
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw PruneError(.fileUnreadable, "\(url.path): no such file or directory")
        }
        if isDirectory.boolValue {
            layout = .filePerBatch
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            files = names.filter { $0.lowercased().hasSuffix(".safetensors") }.sorted().map { url.appending(path: $0) }
            guard !files.isEmpty else {
                throw PruneError(.invalidInput, "\(url.path): the directory holds no .safetensors files")
            }
        } else {
            guard url.pathExtension.lowercased() == "safetensors" else {
                throw PruneError(
                    .unsupported, "\(url.path): evaluation data must be a .safetensors file or a directory of them")
            }
            layout = .split(batchSize: batchSize)
            files = [url]
        }
        documents = try files.map { try SafetensorsDocument(url: $0) }
        var ranges: [(file: Int, samples: Range<Int>)] = []
        var total = 0
        for (index, document) in documents.enumerated() {
            let count = try EvaluationData.sampleCount(of: document, inputNames: inputNames, labels: labels)
            total += count
            switch layout {
            case .split(let size):
                for start in stride(from: 0, to: count, by: size) {
                    ranges.append((index, start..<min(start + size, count)))
                }
            case .filePerBatch:
                ranges.append((index, 0..<count))
            }
        }
        sampleCount = total
        batchRanges = ranges
        if case .split = layout, let document = documents.first {
            var tensors: [String: RuntimeTensor] = [:]
            for name in inputNames + (labels.map { [$0] } ?? []) {
                if let parameter = document.model[name] { tensors[name] = try RuntimeTensor(parameter.tensor) }
            }
            converted = tensors
        } else {
            converted = [:]
        }
    }

    /// The number of samples in one file: the common extent of dimension 0 of its inputs and labels.
    private static func sampleCount(of document: SafetensorsDocument, inputNames: [String], labels: String?) throws
        -> Int
    {
        let file = document.url.relativePath
        let model = document.model
        var count: Int?
        var first = ""
        if let labels {
            guard let parameter = model[labels] else {
                throw PruneError(
                    .invalidInput,
                    "\(file) has no labels tensor '\(labels)' (it holds: \(list(model.parameterNames)))")
            }
            let tensor = parameter.tensor
            guard [.i64, .i32].contains(tensor.dtype) else {
                throw PruneError(
                    .invalidInput,
                    "\(file): labels tensor '\(labels)' is \(tensor.dtype.rawValue); labels must be I64 or I32")
            }
            guard tensor.shape.count == 1 else {
                throw PruneError(
                    .shapeMismatch,
                    "\(file): labels tensor '\(labels)' has shape \(tensor.shape); labels must be one integer per sample, [samples]"
                )
            }
            count = tensor.shape[0]
            first = labels
        }
        for name in inputNames {
            guard let tensor = model[name]?.tensor, let extent = tensor.shape.first else { continue }
            if let count, count != extent {
                // Labels fix the samples; without them the first input does, and an input whose dimension 0
                // differs (a recurrent state, a sample rate) is fed whole to every batch.
                guard labels == nil || first != labels else {
                    throw PruneError(
                        .shapeMismatch,
                        "\(file): tensor '\(name)' has \(extent) samples (dimension 0) but '\(first)' has \(count)")
                }
                continue
            }
            if count == nil { first = name }
            count = extent
        }
        return count ?? 1
    }

    /// Checks, before anything runs, that every file feeds every input of `graph` with the declared dtype and
    /// shape, for every batch it will make.
    ///
    /// - Parameter modelName: how errors name the model (a path or file name).
    /// - Throws: `PruneError` naming the data file, the tensor, the graph input and what differs.
    public func validate(for graph: ONNXGraph, modelName: String) throws {
        for (index, document) in documents.enumerated() {
            let file = document.url.relativePath
            let batchSizes = Set(batchRanges.filter { $0.file == index }.map(\.samples.count))
            for declaration in graph.inputDeclarations {
                let input = "graph input '\(declaration.name)' of \(modelName)"
                guard let tensor = document.model[declaration.name]?.tensor else {
                    let held = EvaluationData.list(document.model.parameterNames)
                    throw PruneError(
                        .invalidInput, "\(file) has no tensor '\(declaration.name)' for \(input) (it holds: \(held))")
                }
                if let expected = declaration.elementTypeName, declaration.dtype != tensor.dtype {
                    throw PruneError(
                        .invalidInput,
                        "\(file): tensor '\(declaration.name)' is \(tensor.dtype.rawValue) but \(input) expects \(expected)"
                    )
                }
                guard RuntimeTensor.supportedTypes.contains(tensor.dtype) else {
                    throw PruneError(
                        .unsupported,
                        "\(file): tensor '\(declaration.name)' is \(tensor.dtype.rawValue), which the runtime does not compute with"
                    )
                }
                guard let dimensions = declaration.dimensions else { continue }
                let fileSamples = batchRanges.filter { $0.file == index }.reduce(0) { $0 + $1.samples.count }
                let batched = EvaluationData.isBatched(tensor.shape, samples: fileSamples)
                let shape = Format.shape(tensor.shape)
                let expects = "\(input) expects \(declaration.shapeDescription)"
                guard dimensions.count == tensor.shape.count else {
                    throw PruneError(
                        .shapeMismatch,
                        "\(file): tensor '\(declaration.name)' has shape \(shape) (rank \(tensor.shape.count)) but \(expects) (rank \(dimensions.count))"
                    )
                }
                for axis in (batched ? 1 : 0)..<dimensions.count where !dimensions[axis].accepts(tensor.shape[axis]) {
                    throw PruneError(
                        .shapeMismatch,
                        "\(file): tensor '\(declaration.name)' has shape \(shape) but \(expects) (dimension \(axis) differs)"
                    )
                }
                if batched, let size = batchSizes.sorted().first(where: { !dimensions[0].accepts($0) }) {
                    throw PruneError(
                        .shapeMismatch,
                        "\(file): batches of tensor '\(declaration.name)' have \(size) samples but \(expects) (a fixed batch dimension; choose a batch size that fits)"
                    )
                }
            }
        }
    }

    /// The inputs (by name) and labels of batch `index`.
    ///
    /// - Throws: `PruneError` when a directory file's tensor cannot be converted.
    package func batch(_ index: Int, inputNames: [String]) throws -> EvaluationBatch {
        let (file, range) = batchRanges[index]
        var inputs: [String: RuntimeTensor] = [:]
        var labels: [Int64]?
        switch layout {
        case .split:
            for name in inputNames {
                guard let tensor = converted[name] else { continue }
                inputs[name] = EvaluationData.isBatched(tensor.shape, samples: sampleCount) ? tensor.samples(range) : tensor
            }
            if let labelsName, let tensor = converted[labelsName] { labels = tensor.samples(range).int64Values() }
        case .filePerBatch:
            let model = documents[file].model
            for name in inputNames {
                if let parameter = model[name] { inputs[name] = try RuntimeTensor(parameter.tensor) }
            }
            if let labelsName, let parameter = model[labelsName] {
                labels = try RuntimeTensor(parameter.tensor).int64Values()
            }
        }
        return EvaluationBatch(
            index: index, file: files[file], sampleCount: range.count, inputs: inputs, labels: labels)
    }
}

/// One batch of evaluation samples.
package struct EvaluationBatch: Sendable {
    /// The batch's position, from 0.
    package let index: Int
    /// The file it was read from.
    package let file: URL
    /// The number of samples.
    package let sampleCount: Int
    /// The graph inputs, by name.
    package let inputs: [String: RuntimeTensor]
    /// One label per sample, when labels are used.
    package let labels: [Int64]?
}

extension EvaluationData {
    /// Whether a tensor of `shape` is split into batches along dimension 0 (it counts the file's `samples`);
    /// scalars and tensors whose dimension 0 is something else (a recurrent state) are fed whole to every batch.
    static func isBatched(_ shape: [Int], samples: Int) -> Bool { shape.first == samples }

    /// Names for a message: the first eight, then how many more.
    static func list(_ names: [String]) -> String {
        names.count <= 8
            ? names.joined(separator: ", ") : names.prefix(8).joined(separator: ", ") + ", … \(names.count - 8) more"
    }
}

/// Text helpers for messages.
enum Format {
    static func shape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}
