import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import Testing

/// Real exported models from ONNX's own test corpus (Debian package `libonnx-testdata`).
@Suite("ONNX test corpus (libonnx-testdata)")
struct ONNXTestDataTests {
    static let root = URL(fileURLWithPath: "/usr/share/libonnx-testdata/data")

    /// `model.onnx` of every test case in `folders`.
    static func models(in folders: [String]) -> [URL] {
        folders.flatMap { folder -> [URL] in
            let directory = root.appendingPathComponent(folder)
            let cases = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return cases.sorted().map { directory.appendingPathComponent($0).appendingPathComponent("model.onnx") }
                .filter { FileManager.default.fileExists(atPath: $0.path) }
        }
    }

    static var available: Bool { FileManager.default.fileExists(atPath: root.path) }

    @Test(
        "Exported models open and round-trip to their canonical form: the same message but for promoted Constants and bypassed Identities",
        .enabled(if: available, "libonnx-testdata is not installed (apt-get install libonnx-testdata)"))
    func exportedModelsRoundTrip() throws {
        let models = ONNXTestDataTests.models(in: ["pytorch-converted", "pytorch-operator", "simple"])
        #expect(models.count > 100)
        let directory = try TemporaryDirectory()
        var withLayouts = 0
        for (index, url) in models.enumerated() {
            let document = try ONNXDocument(url: url)
            let output = directory.file("\(index).onnx")
            _ = try document.write(document.model, to: output, metadata: [:], overwrite: false)
            var expected = try TestModels.decode(url)
            _ = ONNXCanonicalization.apply(to: &expected.graph, irVersion: expected.irVersion)
            #expect(try TestModels.decode(output) == expected, "\(url.path)")
            if document.model.parameters.contains(where: { $0.layout != nil }) { withLayouts += 1 }
            _ = document.inspectionSections()
        }
        #expect(withLayouts > 20)
    }

    @Test(
        "PyTorch's Linear and Conv exports get PyTorch's layout",
        .enabled(if: available, "libonnx-testdata is not installed (apt-get install libonnx-testdata)"))
    func pytorchLayouts() throws {
        let linear = try ONNXDocument(
            url: ONNXTestDataTests.root.appendingPathComponent("pytorch-converted/test_Linear/model.onnx"))
        let weights = linear.model.parameters.filter { $0.layout != nil }
        #expect(weights.count == 1)
        #expect(weights.first?.layout == .pytorch)
        #expect(weights.first?.tensor.shape.count == 2)

        let conv = try ONNXDocument(
            url: ONNXTestDataTests.root.appendingPathComponent("pytorch-converted/test_Conv2d_groups/model.onnx"))
        #expect(conv.model.parameters.contains { $0.layout == .pytorch && $0.tensor.shape.count == 4 })
        let compute = conv.inspectionSections().first { $0.title == "Compute" }
        #expect(compute?.rows.last?[3].allSatisfy { $0.isNumber || $0 == "," } == true)
    }

    @Test(
        "Every single-operator test model opens and can be inspected",
        .enabled(if: available, "libonnx-testdata is not installed (apt-get install libonnx-testdata)"))
    func nodeModelsOpen() throws {
        let models = ONNXTestDataTests.models(in: ["node"])
        #expect(models.count > 500)
        for url in models {
            do {
                let document = try ONNXDocument(url: url)
                _ = document.inspectionSections()
            } catch let error as PruneError {
                Issue.record("\(error.message)")
            }
        }
    }
}
