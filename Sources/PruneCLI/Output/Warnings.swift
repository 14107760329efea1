import Foundation

/// Non-fatal notices, one line each on stderr.
enum Warnings {
    static func print(_ warnings: [String]) {
        for warning in warnings {
            FileHandle.standardError.write(Data("prune: warning: \(warning)\n".utf8))
        }
    }
}
