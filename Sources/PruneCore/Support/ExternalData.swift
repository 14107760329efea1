import Foundation

/// Where one external tensor's bytes are, as its `external_data` entries (`location`, `offset`, `length`) say.
///
/// One parser and one confinement rule for every reader of ONNX external data: the document reader in
/// PruneFormats and the interpreter's loader in PruneRuntime both use it, so `prune inspect`, `run`, `eval`,
/// `--reference`, `--calibration` and `reconstruct` accept and refuse the same files.
package struct ExternalDataReference: Sendable, Hashable {
    /// The `location` entry: a path relative to the model's directory.
    package var location: String
    /// The `offset` entry (0 when absent).
    package var offset: Int
    /// The `length` entry, when present.
    package var length: Int?

    /// Reads the key/value `entries` of tensor `name` in the model file at `modelPath`; the last entry of a key wins.
    ///
    /// - Throws: `PruneError.Kind.corruptFile` naming the model file and tensor when `location` is missing or
    ///   `offset`/`length` are not non-negative integers.
    package init(entries: [(key: String, value: String)], tensor name: String, modelPath: String) throws {
        func corrupt(_ why: String) -> PruneError {
            PruneError(.corruptFile, "\(modelPath): tensor '\(name)': \(why)")
        }
        func integer(_ key: String) throws -> Int? {
            guard let text = entries.last(where: { $0.key == key })?.value else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw corrupt("external data \(key) '\(text)' is not a non-negative integer")
            }
            return value
        }
        guard let location = entries.last(where: { $0.key == "location" })?.value, !location.isEmpty else {
            throw corrupt("data_location is EXTERNAL but external_data has no location")
        }
        self.location = location
        self.offset = try integer("offset") ?? 0
        self.length = try integer("length")
    }
}

/// Maps the side files of a model's external tensors, each once, after checking that every location stays
/// inside the model's directory, names a regular file, and every byte range lies inside that file.
package struct ExternalDataResolver {
    private let modelPath: String
    private let directory: URL
    private var mapped: [String: MappedFile] = [:]

    /// A resolver for the model file `modelURL`; locations are relative to its directory.
    package init(modelURL: URL) {
        modelPath = modelURL.path
        directory = modelURL.deletingLastPathComponent()
    }

    /// The side files mapped so far.
    package var files: [MappedFile] { mapped.keys.sorted().compactMap { mapped[$0] } }

    /// The bytes of tensor `name` that `reference` points at.
    ///
    /// - Parameter expectedBytes: the byte count the tensor's shape and type need, when known; without it, a
    ///   missing `length` means "to the end of the file", as in the ONNX reference implementation.
    /// - Throws: `PruneError` naming the model file, the tensor and the data file for a location that is
    ///   absolute or leaves the model's directory, a missing, unreadable or non-regular file, a range past the
    ///   end of the file, or a `length` that differs from `expectedBytes`.
    package mutating func bytes(
        of reference: ExternalDataReference, tensor name: String, expectedBytes: Int?
    ) throws -> (file: MappedFile, range: Range<Int>) {
        let location = reference.location
        func corrupt(_ why: String) -> PruneError {
            PruneError(.corruptFile, "\(modelPath): tensor '\(name)': external data file '\(location)' \(why)")
        }
        try ExternalDataResolver.checkLocation(location, corrupt: corrupt)
        let file = try map(location, tensor: name)
        let offset = reference.offset
        guard offset <= file.size else {
            throw corrupt("has \(file.size) bytes, offset \(offset) lies past its end")
        }
        if let length = reference.length, let expectedBytes, length != expectedBytes {
            throw corrupt("entry has length \(length), but the tensor's shape and type need \(expectedBytes) bytes")
        }
        let length = reference.length ?? expectedBytes ?? (file.size - offset)
        guard length <= file.size - offset else {
            throw corrupt("has \(file.size) bytes, offset \(offset) + length \(length) runs past its end")
        }
        return (file, offset..<(offset + length))
    }

    /// The confinement rule: refuses locations that are absolute, climb out of the model's directory with
    /// `..`, or hold a NUL character.
    ///
    /// The check is on the text of the path; symbolic links are followed wherever they point, because model hubs
    /// (the Hugging Face cache) link every file of a snapshot to a shared blob store elsewhere.
    package static func checkLocation(_ location: String, corrupt: (String) -> PruneError) throws {
        if location.hasPrefix("/") || location.hasPrefix("\\") || location.hasPrefix("~")
            || hasDrivePrefix(location)
        {
            throw corrupt("is an absolute path; external data must lie in the model's directory")
        }
        let components = location.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        if components.contains("..") {
            throw corrupt("leaves the model's directory ('..')")
        }
        if location.contains("\0") {
            throw corrupt("contains a NUL character")
        }
    }

    /// Whether `location` starts like a Windows drive path (`C:`).
    private static func hasDrivePrefix(_ location: String) -> Bool {
        let scalars = Array(location.unicodeScalars.prefix(2))
        return scalars.count == 2 && scalars[1] == ":" && scalars[0].isASCII && scalars[0].properties.isAlphabetic
    }

    private mutating func map(_ location: String, tensor name: String) throws -> MappedFile {
        let url = directory.appendingPathComponent(location).standardizedFileURL
        if let file = mapped[url.path] { return file }
        do {
            let file = try MappedFile(url: url)
            mapped[url.path] = file
            return file
        } catch let error as PruneError {
            throw PruneError(
                .fileUnreadable,
                "\(modelPath): tensor '\(name)': external data file '\(location)' cannot be read: \(error.message)")
        }
    }
}
