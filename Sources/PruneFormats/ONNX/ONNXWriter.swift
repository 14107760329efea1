import Foundation
import ONNXProto
import PruneCore

/// Writes a rewritten model back into its ONNX document, streaming tensor bytes instead of building the file in
/// memory.
///
/// The output is the decoded message with three hand-assembled layers: the `ModelProto` without its graph, then
/// the graph field, whose body is the `GraphProto` without initializers followed by each initializer, whose body is
/// its `TensorProto` without `raw_data` followed by the `raw_data` field streamed from the mapped input or the
/// rewritten tensor. Protobuf fields may come in any order, so the file decodes to exactly the message a
/// SwiftProtobuf serializer would have produced — without holding a 2 GB `Data`.
package struct ONNXWriter {
    /// Serialized protobuf messages must stay below 2 GiB (what protobuf's parsers accept).
    package static let protobufLimit = 0x7FFF_FFFF
    /// Tensors this small stay inline when a model must move its weights to external data (onnx's own threshold).
    package static let externalThreshold = 1024

    /// Where a tensor's bytes come from when the writer streams them.
    enum Source {
        case tensor(Tensor)
        case mapped(MappedFile, Range<Int>)
        case data(Data)

        var count: Int {
            switch self {
            case .tensor(let tensor): tensor.byteCount
            case .mapped(_, let range): range.count
            case .data(let data): data.count
            }
        }

        func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
            switch self {
            case .tensor(let tensor):
                try tensor.forEachByteChunk(body)
                tensor.releaseResidentPages()
            case .mapped(let file, let range):
                try body(file.bytes(range))
                file.releaseResidentPages(range)
            case .data(let data):
                try data.withUnsafeBytes(body)
            }
        }
    }

    /// One initializer on its way out: the message without its payload, and the payload.
    struct Planned {
        var message: Onnx_TensorProto
        var payload: Source?
        var external = false
        var changed = false
        /// A tensor whose typed fields may be replaced by `raw_data` if the model must go external.
        var tensor: Tensor?
    }

    /// The document being written back.
    package let document: ONNXDocument

    /// Creates a writer for `document`.
    package init(document: ONNXDocument) { self.document = document }

    /// Writes `model` to `url`; see ``ONNXDocument/write(_:to:options:)``.
    ///
    /// - Parameters:
    ///   - storage: which initializers become `sparse_initializer`s (``TensorStorage``).
    ///   - inlineLimit: the largest file written without external data (protobuf's limit; smaller in tests).
    package func write(
        _ model: Model, to url: URL, metadata: [String: String], overwrite: Bool, storage: TensorStorage = .dense,
        inlineLimit: Int = ONNXWriter.protobufLimit
    ) throws -> WriteSummary {
        do {
            return try streamingWrite(
                model, to: url, metadata: metadata, overwrite: overwrite, storage: storage, inlineLimit: inlineLimit)
        } catch let error as PruneError {
            throw error
        } catch {
            // SwiftProtobuf's encoding errors (a message over 2 GB that is not an initializer, for one).
            throw PruneError(.writeFailed, "\(url.path): cannot serialize the model: \(error)")
        }
    }

    private func streamingWrite(
        _ model: Model, to url: URL, metadata: [String: String], overwrite: Bool, storage: TensorStorage,
        inlineLimit: Int
    ) throws -> WriteSummary {
        var plan = try self.plan(model, output: url)
        let declaredInputs = Set(((model.graph as? ONNXModelGraph)?.proto ?? document.proto.graph).input.map(\.name))
        let (sparseMessages, sparseStored) = try ONNXWriter.moveToSparse(
            &plan, storage: storage, declaredInputs: declaredInputs)
        let sideName = url.lastPathComponent + ".data"
        let sideURL = url.deletingLastPathComponent().appendingPathComponent(sideName)

        var top = document.proto
        top.clearGraph()
        top.metadataProps = ONNXWriter.merged(top.metadataProps, model.metadata.merging(metadata) { $1 })
        let topBytes: [UInt8] = try top.serializedBytes()
        // A structural rewrite hands back an edited graph (attributes, shapes, constants); initializers always come
        // from the document's list, with dims and payloads from the parameters.
        var graph = (model.graph as? ONNXModelGraph)?.proto ?? document.proto.graph
        graph.initializer = []
        graph.sparseInitializer = []
        var graphBytes: [UInt8] = try graph.serializedBytes()
        for message in sparseMessages {
            graphBytes += ProtobufWireWriter.lengthDelimitedHeader(field: ONNXWriter.sparseInitializerField, length: message.count)
            graphBytes += message
        }

        var layout = try ONNXWriter.assemble(
            plan, location: sideName, topSize: topBytes.count, graphSize: graphBytes.count)
        if layout.total >= inlineLimit {
            ONNXWriter.moveLargeTensorsOut(&plan)
            layout = try ONNXWriter.assemble(
                plan, location: sideName, topSize: topBytes.count, graphSize: graphBytes.count)
            guard layout.total < inlineLimit else {
                throw PruneError(
                    .unsupported,
                    "\(url.path): the model is \(layout.total) bytes even with its weights in external data, over "
                        + "protobuf's 2 GB limit")
            }
        }
        let writesSideFile = plan.contains { $0.external }

        let sources = [document.url] + document.externalFiles.map(\.url)
        if !overwrite {
            for target in [url] + (writesSideFile ? [sideURL] : [])
            where FileManager.default.fileExists(atPath: target.path) {
                throw PruneError(.outputExists, "\(target.path) already exists", hint: .allowOverwrite)
            }
        }
        var written = 0
        var sideCreated = false
        if writesSideFile {
            let existed = FileManager.default.fileExists(atPath: sideURL.path)
            written += try AtomicFileWriter.write(to: sideURL, overwrite: overwrite, sources: sources) { sink in
                var position = 0
                for (planned, offset) in zip(plan, layout.offsets) {
                    guard let offset, let payload = planned.payload else { continue }
                    if offset > position { try sink.write([UInt8](repeating: 0, count: offset - position)) }
                    try payload.forEachChunk { try sink.write($0) }
                    position = offset + payload.count
                }
            }
            sideCreated = !existed
        }
        do {
            written += try AtomicFileWriter.write(to: url, overwrite: overwrite, sources: sources) { sink in
                try sink.write(topBytes)
                try sink.write(ProtobufWireWriter.lengthDelimitedHeader(field: 7, length: layout.graphLength))
                try sink.write(graphBytes)
                for (planned, bytes) in zip(plan, layout.messages) {
                    let inline = planned.external ? nil : planned.payload
                    let inlineSize =
                        inline.map { ProtobufWireWriter.lengthDelimitedSize(field: 9, length: $0.count) } ?? 0
                    try sink.write(ProtobufWireWriter.lengthDelimitedHeader(field: 5, length: bytes.count + inlineSize))
                    try sink.write(bytes)
                    if let inline {
                        try sink.write(ProtobufWireWriter.lengthDelimitedHeader(field: 9, length: inline.count))
                        try inline.forEachChunk { try sink.write($0) }
                    }
                }
            }
        } catch {
            if sideCreated { try? FileManager.default.removeItem(at: sideURL) }
            throw error
        }
        let tensors = model.parameters.map { sparseStored[$0.name] ?? StoredTensor.dense($0) }
        return WriteSummary(bytesWritten: written, files: [url] + (writesSideFile ? [sideURL] : []), tensors: tensors)
    }
}
