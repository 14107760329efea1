import Foundation
import ONNXProto
import PruneCore

/// An ONNX model file, memory-mapped: its initializers are PruneKit's parameters, everything else is kept as read.
///
/// Each initializer of the main graph whose element type PruneKit handles (FLOAT, FLOAT16, BFLOAT16, DOUBLE,
/// INT64, INT32, INT16, INT8, UINT8, BOOL) becomes a ``Parameter``; inline `raw_data` and external data are
/// zero-copy views of the mapped files. Initializers of other types, values held in `Constant` nodes and
/// initializers of subgraphs stay in the file untouched but are not exposed. The weights of Conv, Gemm and MatMul
/// get a ``WeightLayout`` from the node that reads them, which makes them the default pruning candidates.
public struct ONNXDocument: ModelDocument {
    /// The model file.
    public let url: URL
    /// `onnx`.
    public var formatName: String { "onnx" }
    /// The exposed initializers in file order, with `metadata_props` as metadata.
    public let model: Model
    /// The size of the model file plus its external data files, in bytes.
    public let fileSize: Int
    /// Things the user should know that did not stop the file from opening: an opset outside 13–21, weights whose
    /// uses disagree on a layout, initializers left unexposed.
    public let warnings: [String]

    /// The decoded model, without the `raw_data` of main-graph initializers (see ``initializers``).
    package let proto: Onnx_ModelProto
    /// One entry per `proto.graph.initializer`, in order.
    package let initializers: [ONNXInitializer]
    /// Who reads each initializer, and the derived layouts.
    package let uses: ONNXWeightLayouts
    /// The mapped model file.
    package let file: MappedFile
    /// The mapped external data files.
    package let externalFiles: [MappedFile]

    /// Opens `url`, decodes its `ModelProto` and maps its external data; no tensor data is read yet.
    ///
    /// - Throws: `PruneError` naming the file (and tensor, and data file) for an unreadable, truncated or corrupt
    ///   model, an opset version below 1, initializer data that does not fit its shape, or external data that is
    ///   missing, outside the model's directory or out of range.
    public init(url: URL) throws {
        self.url = url
        let path = url.path
        let file = try MappedFile(url: url)
        self.file = file
        let (decoded, rawRanges) = try ONNXDocument.decode(file, path: path)
        var proto = decoded
        guard proto.hasGraph else { throw PruneError(.corruptFile, "\(path): the model has no graph") }
        var warnings = try ONNXOpsetPolicy.warnings(for: proto, path: path)
        let sparseInitializers = try ONNXSparseInitializer.hoist(&proto.graph, modelPath: path)
        _ = ONNXCanonicalization.apply(to: &proto.graph, irVersion: proto.irVersion)
        if let note = ONNXDocument.subgraphNote(proto.graph) { warnings.append("\(path): \(note)") }

        var resolver = ExternalDataResolver(modelURL: url)
        var initializers: [ONNXInitializer] = []
        var parameters: [Parameter] = []
        var seen = Set<String>()
        var ranks: [String: Int] = [:]
        var floating = Set<String>()
        for (index, tensorProto) in proto.graph.initializer.enumerated() {
            let raw = rawRanges.flatMap { index < $0.count ? $0[index] : nil }
            var (initializer, tensor): (ONNXInitializer, Tensor?)
            if let sparse = sparseInitializers[tensorProto.name] {
                (initializer, tensor) = try ONNXSparseInitializer.read(
                    sparse, file: file, resolver: &resolver, modelPath: path)
            } else {
                (initializer, tensor) = try ONNXInitializer.read(
                    tensorProto, raw: raw, file: file, resolver: &resolver, modelPath: path)
            }
            if !initializer.name.isEmpty {
                guard seen.insert(initializer.name).inserted else {
                    throw PruneError(.corruptFile, "\(path): two initializers are named '\(initializer.name)'")
                }
            }
            if !initializer.name.isEmpty { ranks[initializer.name] = initializer.dims.count }
            if let tensor {
                initializer.parameterIndex = parameters.count
                parameters.append(Parameter(name: initializer.name, tensor: tensor))
                if tensor.dtype.isFloatingPoint { floating.insert(initializer.name) }
            }
            if let reason = initializer.hiddenReason {
                warnings.append("\(path): initializer '\(initializer.name)' is kept as is but not exposed: \(reason)")
            }
            initializers.append(initializer)
        }
        let uses = ONNXWeightLayouts(graph: proto.graph, ranks: ranks, floating: floating)
        for index in parameters.indices {
            parameters[index].layout = uses.layouts[parameters[index].name]
        }
        for name in uses.conflicts.keys.sorted() {
            warnings.append("\(path): '\(name)' gets no weight layout: \(uses.conflicts[name] ?? "")")
        }
        for weight in uses.constantWeights {
            warnings.append(
                "\(path): weight \(weight) comes from a Constant node; PruneKit prunes initializers only")
        }

        self.proto = proto
        self.initializers = initializers
        self.uses = uses
        self.externalFiles = resolver.files
        self.fileSize = file.size + externalFiles.reduce(0) { $0 + $1.size }
        self.warnings = warnings
        var metadata: [String: String] = [:]
        for entry in proto.metadataProps { metadata[entry.key] = entry.value }
        do {
            var model = try Model(parameters: parameters, metadata: metadata, sourceURL: url)
            let opset = proto.opsetImport.first { ONNXWeightLayouts.isDefaultDomain($0.domain) }.map { Int($0.version) }
            model.graph = ONNXModelGraph(proto: proto.graph, opset: opset ?? 0)
            self.model = model
        } catch let error as PruneError {
            throw PruneError(.corruptFile, "\(path): \(error.message)")
        }
    }

    /// Writes `model` as ONNX: the decoded model with only the changed initializers replaced.
    ///
    /// A changed initializer (masked, rewritten or reshaped) is written as `raw_data` in its original element type,
    /// its typed value fields cleared; every other field — metadata, doc strings, `value_info`, functions, unknown
    /// fields — comes out as it was decoded. `metadata` is merged into `metadata_props`, replacing entries with the
    /// same key. When the input keeps tensors in external data, or when the output would pass protobuf's 2 GB
    /// limit, external tensors go to `<output file name>.data` beside `url` (written atomically too); the input's
    /// side files are never touched.
    ///
    /// - Throws: `PruneError.Kind.outputExists` when `url` or its side file exists and `overwrite` is false, or
    ///   when either is an input file; `.invalidInput` for a parameter the document does not have;
    ///   `.unsupported` for a changed element type; `.writeFailed` for I/O errors.
    public func write(_ model: Model, to url: URL, metadata: [String: String], overwrite: Bool) throws -> Int {
        try write(model, to: url, options: WriteOptions(metadata: metadata, overwrite: overwrite)).bytesWritten
    }

    /// Writes `model` as ``write(_:to:metadata:overwrite:)`` does, with the initializers `options.storage` selects
    /// stored as `sparse_initializer` (a coordinate list, `Docs/Compression.md`); written as safetensors when `url`
    /// names a `.safetensors` file.
    public func write(_ model: Model, to url: URL, options: WriteOptions) throws -> WriteSummary {
        if try ModelFiles.outputFormat(for: url, input: self.url) == "safetensors" {
            return try SafetensorsWriter.write(model, to: url, options: options, sources: [self.url])
        }
        return try ONNXWriter(document: self).write(
            model, to: url, metadata: options.metadata, overwrite: options.overwrite, storage: options.storage)
    }

    /// How each exposed initializer is stored in the file: dense, or `sparse-coo` for a `sparse_initializer`.
    public var storedTensors: [StoredTensor] {
        var stored = model.parameters.map(StoredTensor.dense)
        for initializer in initializers {
            guard let position = initializer.parameterIndex,
                case .sparse(let nonzeros, let bytes, _) = initializer.storage
            else { continue }
            stored[position] = StoredTensor(
                name: initializer.name, format: "sparse-coo", bytes: bytes, nonzeros: nonzeros)
        }
        return stored
    }

    /// Format-specific sections for `prune inspect`: inputs, outputs, operators, compute, initializers, notes.
    public func inspectionSections() -> [InspectionSection] {
        ONNXInspection(document: self).sections()
    }

    /// A note when subgraphs (If, Loop, Scan bodies) hold tensors, which are kept but never pruned.
    private static func subgraphNote(_ graph: Onnx_GraphProto) -> String? {
        var owners: [String] = []
        var count = 0
        func visit(_ graph: Onnx_GraphProto) {
            for (index, node) in graph.node.enumerated() {
                for body in node.subgraphs {
                    // Weights only: floating-point tensors of rank ≥ 1 (shape arguments are never candidates).
                    let floating = ONNXCanonicalization.floatingTypes
                    let held =
                        body.initializer.filter { floating.contains($0.dataType) && !$0.dims.isEmpty }.count
                        + body.node.filter { node in
                            node.opType == "Constant" && node.attribute.first.map {
                                $0.hasT && floating.contains($0.t.dataType) && !$0.t.dims.isEmpty
                            } == true
                        }.count
                    if held > 0 {
                        count += held
                        owners.append(node.name.isEmpty ? "\(node.opType) #\(index)" : node.name)
                    }
                    visit(body)
                }
            }
        }
        visit(graph)
        guard count > 0 else { return nil }
        let named = owners.prefix(3).map { "'\($0)'" }.joined(separator: ", ") + (owners.count > 3 ? ", …" : "")
        return "\(count) weights inside the subgraphs of \(named) are kept as they are but are not pruning candidates"
    }

    /// Decodes the model without copying the main graph's `raw_data`: returns the message and, for each
    /// initializer, the file range of the payload that was cut out (nil when SwiftProtobuf had to decode the
    /// whole file and the payloads are inside the message).
    private static func decode(_ file: MappedFile, path: String) throws -> (Onnx_ModelProto, [Range<Int>?]?) {
        let bytes = file.bytes(0..<file.size)
        var context: String?
        do {
            let skeleton = try ONNXSkeleton(file: bytes)
            if let proto = try? Onnx_ModelProto(serializedBytes: skeleton.bytes),
                proto.graph.initializer.count == skeleton.rawData.count
            {
                return (proto, skeleton.rawData)
            }
        } catch {
            context = error.context
        }
        // The skeleton could not be made or decoded: decode the whole file, which either reports the problem or
        // (for input the wire walk rejects but SwiftProtobuf accepts) yields a model with raw_data inside.
        do {
            let data =
                bytes.baseAddress.map {
                    Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: bytes.count, deallocator: .none)
                } ?? Data()
            return (try Onnx_ModelProto(serializedBytes: data), nil)
        } catch {
            let place = context.map { " (in \($0))" } ?? ""
            throw PruneError(.corruptFile, "\(path): not a valid ONNX model: \(describe(error))\(place)")
        }
    }

    /// SwiftProtobuf's decoding errors (`BinaryDecodingError`) in words.
    private static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        switch text {
        case "truncated": return "the protobuf data is truncated"
        case "malformedProtobuf": return "the protobuf data is malformed"
        case "messageDepthLimit": return "messages are nested too deeply"
        case "invalidUTF8": return "a string is not valid UTF-8"
        default: return text
        }
    }
}
