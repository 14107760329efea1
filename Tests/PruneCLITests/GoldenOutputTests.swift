import Foundation
import PruneTestSupport
import Testing

/// `--help` texts and the report's opening lines, held in golden files (`Golden/`), as swift-argument-parser does.
///
/// To update one after an intended change: `PRUNEKIT_UPDATE_GOLDEN=1 swift test --filter GoldenOutputTests`, then
/// read the diff before committing it.
@Suite struct GoldenOutputTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Golden")
    static let example = TestPython.packageRoot.appending(path: "Examples/digits-cnn/model.onnx").path

    static func check(_ text: String, against name: String) throws {
        let url = golden.appending(path: name)
        if ProcessInfo.processInfo.environment["PRUNEKIT_UPDATE_GOLDEN"] != nil {
            try Data(text.utf8).write(to: url)
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "\(name) differs from the golden file")
    }

    @Test func topLevelHelp() throws {
        let outcome = try PruneBinary.run(["--help"])
        #expect(outcome.status == 0)
        try Self.check(outcome.stdout, against: "prune-help.txt")
    }

    @Test(arguments: ["run", "inspect", "eval", "plugins", "sensitivity"])
    func helpText(command: String) throws {
        let outcome = try PruneBinary.run([command, "--help"])
        #expect(outcome.status == 0)
        try Self.check(outcome.stdout, against: "\(command)-help.txt")
    }

    /// The README's demo command: the headline answers "50 %" with the candidates' count, not all tensors'.
    @Test func demoReportHeadline() throws {
        let directory = try TemporaryDirectory()
        let outcome = try PruneBinary.run([
            "run", Self.example, "-o", directory.file("pruned.onnx").path, "--scorer", "magnitude", "--selector",
            "global:sparsity=0.5", "--rewriter", "mask",
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.isEmpty, "a passing run prints nothing on stderr")
        // Everything before the file sizes; file paths and timings from there on vary.
        let lines = outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let end = try #require(lines.firstIndex { $0.hasPrefix("read ") })
        try Self.check(lines[..<end].joined(separator: "\n") + "\n", against: "demo-headline.txt")
        #expect(lines[0] == "pruned 19,080 of 38,160 candidate weights (50.0 %) in 4 targets")
        #expect(lines[..<end].allSatisfy { $0.count <= 100 }, "every headline and table line fits 100 columns")
    }

    /// `inspect --groups` fits 100 columns: long lists of coupled tensors wrap under their column.
    @Test func groupsListing() throws {
        let outcome = try PruneBinary.run(["inspect", "--groups", Self.example])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let long = outcome.stdout.split(separator: "\n").filter { $0.count > 100 }
        #expect(long.isEmpty, "lines over 100 columns: \(long)")
        try Self.check(outcome.stdout, against: "inspect-groups.txt")
    }
}

/// Machine-readable listings: `plugins list --json` exists and JSON output never escapes slashes.
@Suite struct JSONOutputTests {
    @Test func pluginsListPrintsJSON() throws {
        let outcome = try PruneBinary.run(["plugins", "list", "--json"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
        let magnitude = try #require(rows.first { $0["name"] as? String == "magnitude" })
        #expect(magnitude["kind"] as? String == "scorer")
        #expect(magnitude["source"] as? String == "built-in")
        #expect(magnitude["parameters"] as? String == "p:f64[1..]=1,depthwise:str{include|exclude}=include")
    }

    @Test func inspectJSONDoesNotEscapeSlashes() throws {
        let outcome = try PruneBinary.run(["inspect", "--json", GoldenOutputTests.example])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("Examples/digits-cnn/model.onnx"))
        #expect(!outcome.stdout.contains(#"\/"#))
    }
}
