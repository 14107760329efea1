import Foundation
import PruneKit

/// Non-fatal notices, one line each on stderr.
enum Warnings {
    static func print(_ warnings: [String]) {
        for warning in warnings {
            FileHandle.standardError.write(Data("prune: warning: \(PrintableText.escaped(warning))\n".utf8))
        }
    }
}
