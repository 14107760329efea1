/// A serialized `ModelProto` with the `raw_data` payloads of the main graph's initializers cut out, plus where
/// those payloads lie in the file.
///
/// SwiftProtobuf copies every `bytes` field it decodes, so decoding a 2 GB model whole would copy 2 GB. Decoding
/// the skeleton instead costs only the graph structure; the weights stay in the memory-mapped file and become
/// zero-copy tensor views. The cut changes nothing else: fields are copied byte for byte, only the length
/// prefixes of the enclosing graph and tensor messages are recomputed.
package struct ONNXSkeleton {
    /// `ModelProto.graph`.
    package static let graphField: UInt64 = 7
    /// `GraphProto.initializer`.
    package static let initializerField: UInt64 = 5
    /// `TensorProto.raw_data`.
    package static let rawDataField: UInt64 = 9

    /// The skeleton's bytes, a valid serialized `ModelProto`.
    package var bytes: [UInt8]
    /// For each initializer of the main graph, in decoding order: the file range of its `raw_data` payload when
    /// it had one (the last one, as protobuf's "last value wins" rule says), else nil.
    package var rawData: [Range<Int>?]

    /// Cuts the main graph's `raw_data` fields out of `file`; nil when the bytes are not well-formed protobuf
    /// (the caller then lets SwiftProtobuf report the problem).
    package init?(file: UnsafeRawBufferPointer) {
        bytes = []
        bytes.reserveCapacity(min(file.count, 1 << 20))
        rawData = []
        var reader = ProtobufWireReader(file, range: 0..<file.count)
        while !reader.isAtEnd {
            let fieldStart = reader.position
            guard let key = reader.key() else { return nil }
            if key.number == ONNXSkeleton.graphField, key.wireType == .lengthDelimited {
                guard let payload = reader.lengthDelimitedPayload(),
                    let graph = ONNXSkeleton.strippedGraph(file, payload, rawData: &rawData)
                else { return nil }
                bytes += ProtobufWireWriter.lengthDelimitedHeader(field: Int(key.number), length: graph.count)
                bytes += graph
            } else {
                guard reader.skipValue(of: key) else { return nil }
                bytes += UnsafeRawBufferPointer(rebasing: file[fieldStart..<reader.position])
            }
        }
    }

    private static func strippedGraph(
        _ file: UnsafeRawBufferPointer, _ range: Range<Int>, rawData: inout [Range<Int>?]
    ) -> [UInt8]? {
        var out: [UInt8] = []
        var reader = ProtobufWireReader(file, range: range)
        while !reader.isAtEnd {
            let fieldStart = reader.position
            guard let key = reader.key() else { return nil }
            if key.number == initializerField, key.wireType == .lengthDelimited {
                guard let payload = reader.lengthDelimitedPayload(),
                    let (tensor, raw) = strippedTensor(file, payload)
                else { return nil }
                out += ProtobufWireWriter.lengthDelimitedHeader(field: Int(key.number), length: tensor.count)
                out += tensor
                rawData.append(raw)
            } else {
                guard reader.skipValue(of: key) else { return nil }
                out += UnsafeRawBufferPointer(rebasing: file[fieldStart..<reader.position])
            }
        }
        return out
    }

    private static func strippedTensor(
        _ file: UnsafeRawBufferPointer, _ range: Range<Int>
    ) -> ([UInt8], Range<Int>?)? {
        var out: [UInt8] = []
        var raw: Range<Int>?
        var reader = ProtobufWireReader(file, range: range)
        while !reader.isAtEnd {
            let fieldStart = reader.position
            guard let key = reader.key() else { return nil }
            if key.number == rawDataField, key.wireType == .lengthDelimited {
                guard let payload = reader.lengthDelimitedPayload() else { return nil }
                raw = payload
            } else {
                guard reader.skipValue(of: key) else { return nil }
                out += UnsafeRawBufferPointer(rebasing: file[fieldStart..<reader.position])
            }
        }
        return (out, raw)
    }
}
