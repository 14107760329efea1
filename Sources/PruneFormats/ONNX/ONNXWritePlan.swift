import Foundation
import ONNXProto
import PruneCore

/// Deciding what each initializer of the output looks like: which changed, which stay inline, where external
/// tensors go.
extension ONNXWriter {
    /// The serialized pieces of the output and their sizes.
    struct Layout {
        /// Each initializer's `TensorProto` without its inline `raw_data`.
        var messages: [[UInt8]]
        /// Each initializer's offset in the side file, for external ones.
        var offsets: [Int?]
        /// The length of the graph field's body.
        var graphLength: Int
        /// The size of the whole model file.
        var total: Int
    }

    /// One entry per initializer of the output: its message with the payload taken out, and the payload.
    ///
    /// The initializers are those the model's graph lists (the document's own list when the model carries no
    /// graph), in that order: a structural rewrite may add initializers (a private copy of a shared tensor) and
    /// drop ones nothing reads any more.
    ///
    /// - Throws: `.invalidInput` for a parameter of `model` that neither the document nor the model's graph has,
    ///   `.unsupported` for a parameter whose element type changed (the graph's type constraints would no longer
    ///   hold).
    func plan(_ model: Model, output url: URL) throws -> [Planned] {
        var documentIndex: [String: Int] = [:]
        for (index, initializer) in document.initializers.enumerated() { documentIndex[initializer.name] = index }
        let listed = (model.graph as? ONNXModelGraph)?.proto.initializer ?? document.proto.graph.initializer
        var added: [String: Onnx_TensorProto] = [:]
        for message in listed where documentIndex[message.name] == nil { added[message.name] = message }
        var tensors: [String: Tensor] = [:]
        for parameter in model.parameters {
            if let index = documentIndex[parameter.name], let position = document.initializers[index].parameterIndex {
                let original = document.model.parameters[position].tensor
                guard parameter.tensor.dtype == original.dtype else {
                    throw PruneError(
                        .unsupported,
                        "\(url.path): parameter '\(parameter.name)' changed from \(original.dtype.rawValue) to "
                            + "\(parameter.tensor.dtype.rawValue); ONNX initializers keep their element type")
                }
            } else if added[parameter.name] == nil {
                throw PruneError(
                    .invalidInput,
                    "\(url.path): parameter '\(parameter.name)' is not an initializer of \(document.url.path); "
                        + "an ONNX model cannot gain parameters without graph changes")
            }
            tensors[parameter.name] = parameter.tensor
        }

        var plan: [Planned] = []
        for message in listed {
            guard let index = documentIndex[message.name] else {
                guard let tensor = tensors[message.name] else {
                    // A rewriter may add a tensor PruneKit holds no parameter type for (int4) with its bytes inline.
                    if message.hasRawData {
                        var planned = Planned(message: message)
                        planned.payload = .data(message.rawData)
                        planned.message.clearRawData()
                        planned.changed = true
                        plan.append(planned)
                        continue
                    }
                    throw PruneError(
                        .invalidInput,
                        "\(url.path): the graph lists initializer '\(message.name)', which has no data")
                }
                var planned = Planned(message: message)
                planned.message.dims = tensor.shape.map { Int64($0) }
                planned.message.dataLocation = .default
                planned.message.externalData = []
                ONNXWriter.clearValues(&planned.message)
                planned.payload = .tensor(tensor)
                planned.tensor = tensor
                planned.changed = true
                plan.append(planned)
                continue
            }
            let initializer = document.initializers[index]
            var planned = Planned(message: document.proto.graph.initializer[index])
            planned.external = initializer.isExternal
            if let position = initializer.parameterIndex {
                let original = document.model.parameters[position].tensor
                let tensor = tensors[initializer.name] ?? original
                planned.tensor = tensor
                if tensor.shape != original.shape || !tensor.isUnmodified || tensor.bytes !== original.bytes {
                    planned.message.dims = tensor.shape.map { Int64($0) }
                    ONNXWriter.clearValues(&planned.message)
                    planned.payload = .tensor(tensor)
                    planned.changed = true
                    plan.append(planned)
                    continue
                }
            }
            switch initializer.storage {
            case .rawMapped(let file, let range):
                planned.payload = planned.tensor.map { .tensor($0) } ?? .mapped(file, range)
            case .external(let file, let range, _):
                planned.payload = planned.tensor.map { .tensor($0) } ?? .mapped(file, range)
            case .sparse:
                planned.payload = planned.tensor.map { .tensor($0) }
            case .rawInMessage:
                planned.payload = .data(planned.message.rawData)
                planned.message.clearRawData()
            case .typed:
                break
            }
            plan.append(planned)
        }
        return plan
    }

    /// Serializes each initializer's message (with its external-data entries filled in) and sizes the file.
    ///
    /// External tensors are laid out in order in the side file named `location`; each starts at a multiple of 64
    /// bytes, tensors of 1 MiB or more at a multiple of 64 KiB (as onnx's writer does, so runtimes can map them).
    static func assemble(_ plan: [Planned], location: String, topSize: Int, graphSize: Int) throws -> Layout {
        var layout = Layout(messages: [], offsets: [], graphLength: graphSize, total: 0)
        var position = 0
        for planned in plan {
            var message = planned.message
            var inlineSize = 0
            if planned.external, let payload = planned.payload {
                let alignment = payload.count >= 1 << 20 ? 1 << 16 : 64
                let offset = (position + alignment - 1) / alignment * alignment
                position = offset + payload.count
                layout.offsets.append(offset)
                message.dataLocation = .external
                message.externalData = externalEntries(
                    message.externalData, location: location, offset: offset, length: payload.count,
                    keepChecksum: !planned.changed)
            } else {
                layout.offsets.append(nil)
                if let payload = planned.payload {
                    inlineSize = ProtobufWireWriter.lengthDelimitedSize(field: 9, length: payload.count)
                }
            }
            let bytes: [UInt8] = try message.serializedBytes()
            layout.graphLength += ProtobufWireWriter.lengthDelimitedSize(field: 5, length: bytes.count + inlineSize)
            layout.messages.append(bytes)
        }
        layout.total = topSize + ProtobufWireWriter.lengthDelimitedSize(field: 7, length: layout.graphLength)
        return layout
    }

    /// Moves every inline tensor of at least ``externalThreshold`` bytes to external data; tensors held in typed
    /// fields move too when PruneKit can read them (as `raw_data` bytes of the same values).
    static func moveLargeTensorsOut(_ plan: inout [Planned]) {
        for index in plan.indices where !plan[index].external {
            if let payload = plan[index].payload {
                if payload.count >= externalThreshold { plan[index].external = true }
            } else if let tensor = plan[index].tensor, tensor.byteCount >= externalThreshold {
                clearValues(&plan[index].message)
                plan[index].payload = .tensor(tensor)
                plan[index].external = true
            }
        }
    }

    /// `props` with `metadata` applied: an existing key gets the new value in its last entry (the one readers
    /// see), a new key is appended; keys come in sorted order, and entries already equal stay as they are.
    static func merged(
        _ props: [Onnx_StringStringEntryProto], _ metadata: [String: String]
    ) -> [Onnx_StringStringEntryProto] {
        var result = props
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            if let last = result.lastIndex(where: { $0.key == key }) {
                if result[last].value != value { result[last].value = value }
            } else {
                var entry = Onnx_StringStringEntryProto()
                entry.key = key
                entry.value = value
                result.append(entry)
            }
        }
        return result
    }

    /// Empties every value field of a tensor message (typed fields and `raw_data`).
    static func clearValues(_ message: inout Onnx_TensorProto) {
        message.floatData = []
        message.int32Data = []
        message.int64Data = []
        message.doubleData = []
        message.uint64Data = []
        message.stringData = []
        message.clearRawData()
    }

    /// `entries` with `location`, `offset` and `length` set (in place when present, appended otherwise) and,
    /// unless the bytes are the same as before, any `checksum` removed.
    private static func externalEntries(
        _ entries: [Onnx_StringStringEntryProto], location: String, offset: Int, length: Int, keepChecksum: Bool
    ) -> [Onnx_StringStringEntryProto] {
        var result = entries.filter { keepChecksum || $0.key != "checksum" }
        for (key, value) in [("location", location), ("offset", String(offset)), ("length", String(length))] {
            if result.contains(where: { $0.key == key }) {
                for index in result.indices where result[index].key == key { result[index].value = value }
            } else {
                var entry = Onnx_StringStringEntryProto()
                entry.key = key
                entry.value = value
                result.append(entry)
            }
        }
        return result
    }
}
