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
    /// `TensorProto.name`.
    package static let nameField: UInt64 = 8
    /// `TensorProto.raw_data`.
    package static let rawDataField: UInt64 = 9

    /// Where the bytes stopped being well-formed protobuf, for the error message.
    package struct Failure: Error {
        /// The initializer being read (`initializer #3 ('fc.weight')`), when the problem lies inside one.
        package var context: String?
    }

    /// The skeleton's bytes, a valid serialized `ModelProto`.
    package var bytes: [UInt8]
    /// For each initializer of the main graph, in decoding order: the file range of its `raw_data` payload when
    /// it had one (the last one, as protobuf's "last value wins" rule says), else nil.
    package var rawData: [Range<Int>?]

    /// Cuts the main graph's `raw_data` fields out of `file`.
    ///
    /// - Throws: ``Failure`` when the bytes are not well-formed protobuf; the caller lets SwiftProtobuf describe
    ///   the problem and adds the failure's context.
    package init(file: UnsafeRawBufferPointer) throws(Failure) {
        bytes = []
        bytes.reserveCapacity(min(file.count, 1 << 20))
        rawData = []
        var reader = ProtobufWireReader(file, range: 0..<file.count)
        while !reader.isAtEnd {
            let fieldStart = reader.position
            guard let key = reader.key() else { throw Failure() }
            if key.number == ONNXSkeleton.graphField, key.wireType == .lengthDelimited {
                let lengthStart = reader.position
                guard let payload = reader.lengthDelimitedPayload() else {
                    // The graph runs past the end of the file: walk what is there to say where it broke off.
                    var ignored: [Range<Int>?] = []
                    let bodyStart = ONNXSkeleton.lengthPrefixEnd(file, at: lengthStart) ?? file.count
                    _ = try ONNXSkeleton.strippedGraph(file, bodyStart..<file.count, rawData: &ignored)
                    throw Failure()
                }
                let graph = try ONNXSkeleton.strippedGraph(file, payload, rawData: &rawData)
                bytes += ProtobufWireWriter.lengthDelimitedHeader(field: Int(key.number), length: graph.count)
                bytes += graph
            } else {
                guard reader.skipValue(of: key) else { throw Failure() }
                bytes += UnsafeRawBufferPointer(rebasing: file[fieldStart..<reader.position])
            }
        }
    }

    private static func strippedGraph(
        _ file: UnsafeRawBufferPointer, _ range: Range<Int>, rawData: inout [Range<Int>?]
    ) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        var reader = ProtobufWireReader(file, range: range)
        while !reader.isAtEnd {
            let fieldStart = reader.position
            guard let key = reader.key() else { throw Failure() }
            if key.number == initializerField, key.wireType == .lengthDelimited {
                let ordinal = "initializer #\(rawData.count + 1)"
                let lengthStart = reader.position
                guard let payload = reader.lengthDelimitedPayload() else {
                    throw Failure(context: "\(ordinal)\(nameSuffix(file, from: lengthStart))")
                }
                let (tensor, raw) = try strippedTensor(file, payload, ordinal: ordinal)
                out += ProtobufWireWriter.lengthDelimitedHeader(field: Int(key.number), length: tensor.count)
                out += tensor
                rawData.append(raw)
            } else {
                guard reader.skipValue(of: key) else { throw Failure() }
                out += UnsafeRawBufferPointer(rebasing: file[fieldStart..<reader.position])
            }
        }
        return out
    }

    private static func strippedTensor(
        _ file: UnsafeRawBufferPointer, _ range: Range<Int>, ordinal: String
    ) throws(Failure) -> ([UInt8], Range<Int>?) {
        var out: [UInt8] = []
        var raw: Range<Int>?
        var name: String?
        var reader = ProtobufWireReader(file, range: range)
        func failure() -> Failure { Failure(context: ordinal + (name.map { " ('\($0)')" } ?? "")) }
        while !reader.isAtEnd {
            let fieldStart = reader.position
            guard let key = reader.key() else { throw failure() }
            if key.number == rawDataField, key.wireType == .lengthDelimited {
                guard let payload = reader.lengthDelimitedPayload() else { throw failure() }
                raw = payload
            } else {
                guard reader.skipValue(of: key) else { throw failure() }
                if key.number == nameField, key.wireType == .lengthDelimited {
                    var inner = ProtobufWireReader(file, range: fieldStart..<reader.position)
                    _ = inner.key()
                    if let text = inner.lengthDelimitedPayload() {
                        name = String(decoding: UnsafeRawBufferPointer(rebasing: file[text]), as: UTF8.self)
                    }
                }
                out += UnsafeRawBufferPointer(rebasing: file[fieldStart..<reader.position])
            }
        }
        return (out, raw)
    }

    /// ` ('name')` when the initializer that starts at `start` (and runs past the end of the data) names itself
    /// before the data ends; empty otherwise.
    private static func nameSuffix(_ file: UnsafeRawBufferPointer, from start: Int) -> String {
        guard let length = lengthPrefixEnd(file, at: start) else { return "" }
        var reader = ProtobufWireReader(file, range: length..<file.count)
        while !reader.isAtEnd {
            guard let key = reader.key() else { return "" }
            if key.number == nameField, key.wireType == .lengthDelimited {
                guard let text = reader.lengthDelimitedPayload() else { return "" }
                return " ('\(String(decoding: UnsafeRawBufferPointer(rebasing: file[text]), as: UTF8.self))')"
            }
            if key.number == rawDataField { return "" }
            guard reader.skipValue(of: key) else { return "" }
        }
        return ""
    }

    /// The offset just past the varint length prefix at `start`.
    private static func lengthPrefixEnd(_ file: UnsafeRawBufferPointer, at start: Int) -> Int? {
        var reader = ProtobufWireReader(file, range: start..<file.count)
        guard reader.varint() != nil else { return nil }
        return reader.position
    }
}
