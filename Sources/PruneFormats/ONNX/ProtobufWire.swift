/// Protobuf wire-format primitives: just enough to walk a serialized `ModelProto` without decoding it, and to write
/// the few tags and lengths the streaming ONNX writer emits by hand.
///
/// Every read is bounds-checked; a malformed input makes the reader return nil rather than trap, and the caller
/// falls back to SwiftProtobuf, which reports the error properly.
package struct ProtobufWireReader {
    /// Wire types of the protobuf encoding.
    package enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5
    }

    /// One field's key: its number and wire type.
    package struct Key {
        package var number: UInt64
        package var wireType: WireType
    }

    private let bytes: UnsafeRawBufferPointer
    /// The offset of the next byte to read, relative to the start of `bytes`.
    package private(set) var position: Int
    private let end: Int

    /// A reader over `range` of `bytes`.
    package init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    /// Whether every byte of the range has been read.
    package var isAtEnd: Bool { position >= end }

    /// Reads a base-128 varint (at most ten bytes).
    package mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < end, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    /// Reads a field key; nil at a malformed key or an unknown wire type.
    package mutating func key() -> Key? {
        guard let raw = varint(), let wireType = WireType(rawValue: UInt8(raw & 7)), raw >> 3 != 0 else { return nil }
        return Key(number: raw >> 3, wireType: wireType)
    }

    /// Reads the length prefix of a length-delimited field and returns the range of its payload, leaving the
    /// reader just past the payload.
    package mutating func lengthDelimitedPayload() -> Range<Int>? {
        guard let length = varint(), length <= UInt64(end - position) else { return nil }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// Skips the value of a field whose key was just read.
    package mutating func skipValue(of key: Key, depth: Int = 0) -> Bool {
        switch key.wireType {
        case .varint: return varint() != nil
        case .fixed64: return advance(8)
        case .fixed32: return advance(4)
        case .lengthDelimited: return lengthDelimitedPayload() != nil
        case .endGroup: return false
        case .startGroup:
            guard depth < 64 else { return false }
            while let inner = self.key() {
                if inner.wireType == .endGroup { return inner.number == key.number }
                guard skipValue(of: inner, depth: depth + 1) else { return false }
            }
            return false
        }
    }

    private mutating func advance(_ count: Int) -> Bool {
        guard end - position >= count else { return false }
        position += count
        return true
    }
}

/// Writing the hand-emitted parts of a message: keys and length prefixes.
package enum ProtobufWireWriter {
    /// Appends `value` as a base-128 varint.
    package static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// The key and length prefix of a length-delimited field `number` whose payload has `length` bytes.
    package static func lengthDelimitedHeader(field number: Int, length: Int) -> [UInt8] {
        var out: [UInt8] = []
        appendVarint(UInt64(number) << 3 | UInt64(ProtobufWireReader.WireType.lengthDelimited.rawValue), to: &out)
        appendVarint(UInt64(length), to: &out)
        return out
    }

    /// The bytes a length-delimited field `number` with a `length`-byte payload takes in total.
    package static func lengthDelimitedSize(field number: Int, length: Int) -> Int {
        lengthDelimitedHeader(field: number, length: length).count + length
    }
}
