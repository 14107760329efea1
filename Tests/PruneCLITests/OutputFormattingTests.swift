import Foundation
import PruneKit
import PruneTestSupport
import Testing

@testable import PruneCLI

/// How the CLI writes numbers, tables, progress and error hints; expected texts written out by hand.
struct OutputFormattingTests {
    @Test("counts are grouped the same way everywhere, and nouns agree with their number")
    func countsAndPlurals() {
        #expect(Format.count(19_080) == "19,080")
        #expect(Format.count(-1_234_567) == "-1,234,567")
        #expect(Format.plural(1, "pruning candidate") == "1 pruning candidate")
        #expect(Format.plural(2, "pruning candidate") == "2 pruning candidates")
        #expect(Format.plural(12, "batch") == "12 batches")
        #expect(Format.plural(1, "batch") == "1 batch")
        #expect(Format.rate(60_253.44) == "60,253.4")
        #expect(Format.rate(15.06) == "15.1")
    }

    @Test("a row wider than 100 columns wraps its last column under that column")
    func tableWraps() {
        var table = TextTable(columns: ["group", "units", "tensors"])
        let long = (1...30).map { "t\($0)[0:u]" }.joined(separator: " ")
        table.add(["conv1", "16", long])
        let lines = table.render().split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.count <= 100 }, "\(lines)")
        // "group" + 2 + "units" + 2 = 14 columns before the tensors.
        #expect(lines[2].hasPrefix("conv1     16  t1[0:u] t2[0:u]"))
        #expect(lines[3].hasPrefix(String(repeating: " ", count: 14) + "t"))
        let words = lines[2...].joined(separator: " ").split(separator: " ").filter { $0.hasPrefix("t") }
        #expect(words.count == 30, "no tensor is lost in wrapping")
    }

    @Test("a long report line wraps at 100 columns under a hanging indent, keeping its own indent")
    func paragraphWraps() {
        let words = (1...40).map { "word\($0)" }
        let text = Format.paragraph("  candidates: " + words.joined(separator: " "), indent: 4)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count > 1)
        #expect(lines[0].hasPrefix("  candidates: word1 word2"))
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("    word") })
        #expect(lines.allSatisfy { $0.count <= 100 })
        #expect(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).filter { $0.hasPrefix("word") }.count == 40)
        #expect(Format.paragraph("short", indent: 2) == "short")
    }

    @Test("a short table is not wrapped")
    func shortTableUnchanged() {
        var table = TextTable(columns: ["op", "count"])
        table.add(["Conv", "2"])
        #expect(table.render() == "op    count\n----  -----\nConv      2")
    }

    @Test("the progress line shows the time left at the rate so far")
    func progressLine() {
        #expect(TerminalProgress.line(phase: "calibrating", completed: 0, total: 10, elapsed: 1) == "calibrating 0/10 (0%)")
        #expect(
            TerminalProgress.line(phase: "calibrating", completed: 3, total: 10, elapsed: 6)
                == "calibrating 3/10 (30%), about 14 s left")
        #expect(
            TerminalProgress.line(phase: "reconstructing", completed: 1, total: 4, elapsed: 50)
                == "reconstructing 1/4 (25%), about 2 min 30 s left")
        #expect(TerminalProgress.line(phase: "writing out.onnx", completed: 0, total: 1, elapsed: 3) == "writing out.onnx…")
        #expect(TerminalProgress.duration(7_300) == "2 h 1 min")
    }

    @Test("library errors carry hints; the CLI turns each into its own flag")
    func hintsBecomeFlags() {
        let data = PruneError(.missingData, "scorer 'density' needs calibration data", hint: .calibrationData)
        #expect(
            ErrorLine.runtime(data)
                == "scorer 'density' needs calibration data: pass --calibration FILE|DIR, or --stats FILE saved by --save-stats")
        let units = PruneError(.unsupported, "'row' ranks units", hint: .unitGranularity)
        #expect(ErrorLine.runtime(units) == "'row' ranks units (use --granularity unit)")
        let exists = PruneError(.outputExists, "a.onnx already exists", hint: .allowOverwrite)
        #expect(ErrorLine.runtime(exists) == "a.onnx already exists (use --force to overwrite it)")
        let insecure = PluginError(.insecure, path: "/p.so", "refused: the file is writable by other users")
        #expect(ErrorLine.runtime(insecure).hasSuffix("; pass --allow-insecure-plugins to load it anyway"))
        #expect(ErrorLine.runtime(PruneError(.invalidInput, "bad")) == "bad")
    }
}
