import Foundation

/// Runs the built `prune` executable (found next to the test binary, or at `$PRUNE_BINARY`).
package enum PruneBinary {
    /// What a run of `prune` produced.
    package struct Outcome {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    /// The binary: `$PRUNE_BINARY`, else `prune` next to the running test binary.
    package static var url: URL {
        if let path = ProcessInfo.processInfo.environment["PRUNE_BINARY"] { return URL(fileURLWithPath: path) }
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return testBinary.deletingLastPathComponent().appending(path: "prune")
    }

    /// Runs `prune` with `arguments` and collects its exit status and output.
    package static func run(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
