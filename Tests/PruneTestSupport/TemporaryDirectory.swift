import Foundation

/// A fresh directory under the system's temporary folder, removed with everything in it when released.
package final class TemporaryDirectory: @unchecked Sendable {
    /// The directory.
    package let url: URL

    /// Creates the directory, named after `label` and a UUID.
    package init(_ label: String = "prunekit-test") throws {
        url = FileManager.default.temporaryDirectory.appending(path: "\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The URL of `name` inside the directory.
    package func file(_ name: String) -> URL { url.appending(path: name) }

    /// The path of `name` inside the directory.
    package func path(_ name: String) -> String { file(name).path }
}
