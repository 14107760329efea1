import Foundation

/// Builds safetensors bytes by hand, without PruneKit's writer, so tests can make valid and broken files.
struct SafetensorsTestFile {
    var header: String
    var data: [UInt8]
    var declaredLength: UInt64?
    /// Cut the file to this many bytes (a truncated download).
    var truncatedTo: Int? = nil

    var bytes: [UInt8] {
        var length = declaredLength ?? UInt64(header.utf8.count)
        var out = withUnsafeBytes(of: &length) { Array($0) }
        out += Array(header.utf8)
        out += data
        return truncatedTo.map { Array(out.prefix($0)) } ?? out
    }

    /// Writes the bytes to a fresh file in `directory`.
    func write(in directory: URL, name: String = "model.safetensors") throws -> URL {
        let url = directory.appending(path: name)
        try Data(bytes).write(to: url)
        return url
    }
}

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appending(path: "prunekit-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

extension Array where Element == Float {
    var littleEndianBytes: [UInt8] {
        var out: [UInt8] = []
        for value in self {
            let bits = value.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
        }
        return out
    }
}
