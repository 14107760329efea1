import PruneCore

/// One tensor's entry in a safetensors header.
package struct SafetensorsEntry: Sendable, Hashable {
    package var name: String
    package var dtype: DType
    package var shape: [Int]
    /// Byte range inside the data section (which starts right after the header).
    package var dataRange: Range<Int>
}

/// The decoded and validated header of a safetensors file.
///
/// Validation follows the specification: 8-byte little-endian header length, a UTF-8 JSON object, one entry
/// per tensor with `dtype`, `shape` and `data_offsets`, an optional `__metadata__` object of strings, and a
/// data section that the tensors cover exactly — no overlaps, no holes, nothing past the end.
package struct SafetensorsHeader: Sendable {
    /// The largest header accepted, as in the reference implementation.
    package static let maxHeaderBytes = 100_000_000

    package var entries: [SafetensorsEntry]
    package var metadata: [String: String]
    /// Offset of the data section from the start of the file.
    package var dataStart: Int

    /// Parses and validates the header of a file whose bytes are `file` (the whole file).
    ///
    /// - Parameter path: the file's path, for error messages.
    package init(file: UnsafeRawBufferPointer, path: String) throws {
        func corrupt(_ why: String) -> PruneError { PruneError(.corruptFile, "\(path): \(why)") }
        guard file.count >= 8 else {
            throw corrupt("\(file.count) bytes is too short for a safetensors file (it needs an 8-byte header length)")
        }
        let declared = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(SafetensorsHeader.maxHeaderBytes) else {
            throw corrupt("header length \(declared) exceeds the \(SafetensorsHeader.maxHeaderBytes)-byte limit")
        }
        let headerLength = Int(declared)
        guard headerLength <= file.count - 8 else {
            throw corrupt("header length \(headerLength) runs past the end of the file (\(file.count) bytes)")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerLength)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw corrupt("header is not valid UTF-8")
        }
        let json: JSONValue
        do {
            json = try StrictJSON.parse(headerBytes)
        } catch {
            throw corrupt("header JSON is malformed at byte \(8 + error.offset): \(error.reason)")
        }
        guard case .object(let members) = json else { throw corrupt("header is not a JSON object") }

        dataStart = 8 + headerLength
        let dataSize = file.count - dataStart
        metadata = [:]
        entries = []
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try SafetensorsHeader.metadata(value, corrupt: corrupt)
                continue
            }
            entries.append(try SafetensorsHeader.entry(name, value, dataSize: dataSize, path: path, corrupt: corrupt))
        }
        try SafetensorsHeader.checkCoverage(entries, dataSize: dataSize, corrupt: corrupt)
        entries.sort {
            ($0.dataRange.lowerBound, $0.dataRange.upperBound) < ($1.dataRange.lowerBound, $1.dataRange.upperBound)
        }
    }

    private static func metadata(_ value: JSONValue, corrupt: (String) -> PruneError) throws -> [String: String] {
        guard case .object(let pairs) = value else { throw corrupt("__metadata__ is not an object of strings") }
        var result: [String: String] = [:]
        for (key, item) in pairs {
            guard case .string(let text) = item else { throw corrupt("__metadata__ entry '\(key)' is not a string") }
            result[key] = text
        }
        return result
    }

    private static func entry(
        _ name: String, _ value: JSONValue, dataSize: Int, path: String, corrupt: (String) -> PruneError
    ) throws -> SafetensorsEntry {
        guard case .object(let fields) = value else { throw corrupt("tensor '\(name)': entry is not an object") }
        func field(_ key: String) throws -> JSONValue {
            guard let found = fields.first(where: { $0.key == key }) else {
                throw corrupt("tensor '\(name)': missing '\(key)'")
            }
            return found.value
        }
        guard case .string(let dtypeName) = try field("dtype") else {
            throw corrupt("tensor '\(name)': dtype is not a string")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
            throw PruneError(
                .unsupported, "\(path): tensor '\(name)': dtype '\(dtypeName)' is not supported (PruneKit reads \(known))")
        }
        guard case .array(let dims) = try field("shape") else {
            throw corrupt("tensor '\(name)': shape is not an array")
        }
        let shape = try dims.map { dim -> Int in
            guard case .integer(let extent) = dim, extent >= 0 else {
                throw corrupt("tensor '\(name)': shape \(dims) has an entry that is not a non-negative integer")
            }
            return extent
        }
        guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2,
            case .integer(let begin) = offsets[0], case .integer(let end) = offsets[1]
        else { throw corrupt("tensor '\(name)': data_offsets is not a pair of integers") }
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw corrupt(
                "tensor '\(name)': data_offsets [\(begin), \(end)] lie outside the \(dataSize)-byte data section")
        }
        guard let count = Tensor.checkedElementCount(shape),
            case let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize), !overflow,
            bytes == end - begin
        else {
            throw corrupt(
                "tensor '\(name)': shape \(shape) of \(dtypeName) does not match its \(end - begin) bytes of data")
        }
        do {
            try AllocationBudget.checkWorkingCopy(shape: shape)
        } catch {
            throw PruneError(.unsupported, "\(path): tensor '\(name)': shape \(shape) as float32 \(error)")
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    /// The tensors must tile the data section: sorted by offset, each starts where the previous ended.
    private static func checkCoverage(
        _ entries: [SafetensorsEntry], dataSize: Int, corrupt: (String) -> PruneError
    ) throws {
        let sorted = entries.sorted { $0.dataRange.lowerBound < $1.dataRange.lowerBound }
        var end = 0
        var previous: String?
        for entry in sorted {
            if entry.dataRange.lowerBound < end, let previous {
                throw corrupt("tensors '\(previous)' and '\(entry.name)' overlap in the data section")
            }
            if entry.dataRange.lowerBound > end {
                throw corrupt(
                    "data bytes \(end)..<\(entry.dataRange.lowerBound) belong to no tensor (before '\(entry.name)')")
            }
            end = max(end, entry.dataRange.upperBound)
            previous = entry.name
        }
        if end != dataSize {
            throw corrupt("data bytes \(end)..<\(dataSize) at the end of the file belong to no tensor")
        }
    }
}
