import Foundation
import PruneCore
import Testing

import PruneRuntime

/// The ONNX backend node tests from Debian's `libonnx-testdata`, run for every op the runtime claims.
@Suite("ONNX conformance")
struct ConformanceTests {
    static let dataRoot = URL(fileURLWithPath: ProcessInfo.processInfo.environment["ONNX_TESTDATA"] ?? "/usr/share/libonnx-testdata/data")

    /// Claimed ops that ONNX 1.12's test data has no node test for; each has a hand-computed unit test instead.
    static let coveredByUnitTestsOnly: [String: String] = [
        "Gelu": "Gelu is opset 20; the ONNX 1.12 test data predates it (see ActivationTests.gelu)",
        "Mish": "Mish is opset 18; the ONNX 1.12 test data predates it (see RuntimeFixtureTests, mish_opset18)",
        "Einsum": "ONNX 1.12's Einsum node tests are all float64, which the runtime's Einsum does not take "
            + "(float32 forms: RuntimeFixtureTests, einsum_*)",
    ]

    /// Node tests whose recorded outputs ONNX Runtime itself does not reproduce; the runtime follows ONNX Runtime.
    /// They are reported as skipped with this reason, and RuntimeFixtureTests checks the same settings against
    /// ONNX Runtime's outputs.
    static let onnxRuntimeDiffers: [String: String] = [
        "test_resize_downsample_scales_linear_align_corners":
            "ONNX 1.12's reference used the unfloored output length for align_corners; ONNX Runtime 1.32 gives [1, 4] "
            + "(see RuntimeFixtureTests, resize_linear_align_corners_down)",
        "test_resize_downsample_scales_cubic_align_corners":
            "ONNX 1.12's reference used the unfloored output length for align_corners; ONNX Runtime 1.32 differs "
            + "(see RuntimeFixtureTests, resize_cubic_align_corners_down)",
    ]

    enum Outcome {
        case passed
        case skipped(String)
        case failed(String)
    }

    /// Runs one backend test folder: every `test_data_set_*` against `model.onnx`, within `rtol`/`atol`.
    static func runCase(_ folder: URL, rtol: Float = 1e-3, atol: Float = 1e-5) -> Outcome {
        let graph: ONNXGraph
        do {
            graph = try ONNXGraph(contentsOf: folder.appendingPathComponent("model.onnx"))
        } catch let error as PruneError where error.kind == .unsupported {
            return .skipped(error.message)
        } catch {
            return .failed("loading model: \(error)")
        }
        let interpreter: Interpreter
        do {
            interpreter = try Interpreter(graph: graph, options: .init(threads: 2))
        } catch let error as PruneError where error.kind == .unsupported {
            return .skipped(error.message)
        } catch {
            return .failed("preparing: \(error)")
        }
        let sets = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty else { return .skipped("no test_data_set folders") }
        for set in sets {
            let directory = folder.appendingPathComponent(set)
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted {
                $0.count == $1.count ? $0 < $1 : $0.count < $1.count
            }
            var inputs: [String: RuntimeTensor] = [:]
            var expected: [(String, RuntimeTensor)] = []
            do {
                for (position, file) in files.filter({ $0.hasPrefix("input_") }).enumerated() {
                    let (name, tensor) = try RuntimeTensor.load(tensorProtoAt: directory.appendingPathComponent(file))
                    let key = graph.inputNames.contains(name) ? name : graph.inputNames[position]
                    inputs[key] = tensor
                }
                for (position, file) in files.filter({ $0.hasPrefix("output_") }).enumerated() {
                    let (name, tensor) = try RuntimeTensor.load(tensorProtoAt: directory.appendingPathComponent(file))
                    let key = graph.outputNames.contains(name) ? name : graph.outputNames[position]
                    expected.append((key, tensor))
                }
            } catch let error as PruneError where error.kind == .unsupported {
                return .skipped("test data: \(error.message)")
            } catch {
                return .failed("reading test data: \(error)")
            }
            let outputs: [String: RuntimeTensor]
            do {
                outputs = try interpreter.run(inputs)
            } catch let error as PruneError where error.kind == .unsupported {
                return .skipped(error.message)
            } catch {
                return .failed("\(set): \(error)")
            }
            for (name, want) in expected {
                guard let got = outputs[name] else { return .failed("\(set): output '\(name)' missing") }
                if let problem = compare(got, want, rtol: rtol, atol: atol) { return .failed("\(set) output '\(name)': \(problem)") }
            }
        }
        return .passed
    }

    /// nil when `got` matches `want` within `rtol` and `atol` (NaN matches NaN), else what differs.
    static func compare(_ got: RuntimeTensor, _ want: RuntimeTensor, rtol: Float = 1e-3, atol: Float = 1e-5) -> String? {
        guard got.dtype == want.dtype else { return "dtype \(got.dtype.rawValue), expected \(want.dtype.rawValue)" }
        guard got.shape == want.shape else { return "shape \(got.shape), expected \(want.shape)" }
        let g = got.floatValues()
        let w = want.floatValues()
        for i in 0..<g.count {
            if g[i].isNaN && w[i].isNaN { continue }
            if g[i] == w[i] { continue }
            if !(abs(g[i] - w[i]) <= atol + rtol * abs(w[i])) { return "element \(i) is \(g[i]), expected \(w[i])" }
        }
        return nil
    }

    /// The op types a test model uses, or nil when it does not decode.
    static func operators(of folder: URL) -> [String]? {
        try? ONNXGraph.operatorTypes(contentsOf: folder.appendingPathComponent("model.onnx"))
    }

    static func folders(_ suite: String) -> [URL] {
        let root = dataRoot.appendingPathComponent(suite)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().map { root.appendingPathComponent($0) }
    }

    @Test("every claimed op passes its ONNX backend node tests")
    func nodeTests() throws {
        let claimed = Set(Interpreter.supportedOperators)
        let folders = Self.folders("node")
        try #require(!folders.isEmpty, "no test data under \(Self.dataRoot.path); install Debian's libonnx-testdata")
        var passed: [String: [String]] = [:]
        var skipped: [String: [(String, String)]] = [:]
        var failures: [String] = []
        var graphsPassed = 0
        var graphsSkipped: [(String, String)] = []
        for folder in folders {
            guard let ops = Self.operators(of: folder), !ops.isEmpty, ops.allSatisfy(claimed.contains) else { continue }
            let name = folder.lastPathComponent
            let key = ops.count == 1 ? ops[0] : nil
            switch Self.onnxRuntimeDiffers[name].map(Outcome.skipped) ?? Self.runCase(folder) {
            case .passed:
                if let key { passed[key, default: []].append(name) } else { graphsPassed += 1 }
            case .skipped(let reason):
                if let key { skipped[key, default: []].append((name, reason)) } else { graphsSkipped.append((name, reason)) }
            case .failed(let reason):
                failures.append("\(name): \(reason)")
            }
        }
        var report = ["ONNX node tests by op (passed / skipped):"]
        for op in claimed.sorted() {
            let p = passed[op]?.count ?? 0
            let s = skipped[op] ?? []
            report.append("  \(op.padding(toLength: 20, withPad: " ", startingAt: 0)) \(p) passed, \(s.count) skipped")
            for (test, reason) in s { report.append("      skipped \(test): \(reason)") }
            if p == 0 {
                if let reason = Self.coveredByUnitTestsOnly[op] {
                    report.append("      no node test: \(reason)")
                } else {
                    failures.append("claimed op \(op) has no passing node test")
                }
            }
        }
        report.append("  multi-node (expanded) models using only claimed ops: \(graphsPassed) passed, \(graphsSkipped.count) skipped")
        for (test, reason) in graphsSkipped { report.append("      skipped \(test): \(reason)") }
        print(report.joined(separator: "\n"))
        for failure in failures { Issue.record(Comment(rawValue: failure)) }
    }

    @Test("exported PyTorch and simple models whose ops are claimed match their reference outputs")
    func modelTests() throws {
        let claimed = Set(Interpreter.supportedOperators)
        var lines = ["Model tests (pytorch-converted, pytorch-operator, simple):"]
        var passedCount = 0
        for folder in Self.folders("pytorch-converted") + Self.folders("pytorch-operator") + Self.folders("simple") {
            guard let ops = Self.operators(of: folder), ops.allSatisfy(claimed.contains) else { continue }
            let name = folder.deletingLastPathComponent().lastPathComponent + "/" + folder.lastPathComponent
            switch Self.runCase(folder) {
            case .passed:
                passedCount += 1
                lines.append("  passed  \(name) [\(ops.joined(separator: ", "))]")
            case .skipped(let reason): lines.append("  skipped \(name): \(reason)")
            case .failed(let reason): Issue.record(Comment(rawValue: "\(name): \(reason)"))
            }
        }
        print(lines.joined(separator: "\n"))
        #expect(passedCount > 0)
    }
}
