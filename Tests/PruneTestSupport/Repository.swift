import Foundation

/// Places in this repository that tests read: the package root, the bundled examples, the docs and the scripts.
package enum Repository {
    /// The package's root folder.
    package static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// `Examples/`: the bundled models, data and recipes.
    package static let examples = root.appending(path: "Examples")
    /// `Docs/`.
    package static let docs = root.appending(path: "Docs")

    /// A file under `Scripts/`.
    package static func script(_ name: String) -> URL { root.appending(path: "Scripts/\(name)") }
}
