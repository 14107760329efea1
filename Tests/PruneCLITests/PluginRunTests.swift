import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// `prune run` takes plugin components exactly like built-ins.
@Suite("prune run with plugins (end to end)")
struct PluginRunTests {
    let workspace = try! Workspace()

    private var fpgm: String { PruneBinary.url.deletingLastPathComponent().appending(path: "libPruneFPGM.so").path }

    @Test func aPluginScorerPrunesLikeABuiltin() throws {
        // Units (rows) (0,0), (3,4), (6,8): the sum of L2 distances to the others is 15, 10, 15, so the unit
        // nearest the geometric median, row 1, is the redundant one.
        let weight = Tensor(shape: [3, 2], values: [0, 0, 3, 4, 6, 8])
        let model = try Model(parameters: [Parameter(name: "w", tensor: weight, layout: .pytorch)])
        let input = workspace.url.appending(path: "m.safetensors")
        _ = try SafetensorsWriter.write(model, to: input, overwrite: false)
        let output = workspace.path("out.safetensors")
        let outcome = try PruneBinary.run([
            "run", input.path, "-o", output, "--plugin", fpgm, "--scorer", "fpgm:p=2", "--granularity", "unit",
            "--selector", "layer:sparsity=0.34",
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let pruned = try SafetensorsDocument(url: URL(fileURLWithPath: output)).model
        #expect(pruned["w"]!.tensor.floatValues() == [0, 0, 0, 0, 6, 8])
        #expect(pruned.metadata["prunekit.pipeline"]?.contains("scorer=fpgm:p=2") == true)
    }

    @Test func pluginParametersAreCheckedAgainstTheirSignature() throws {
        let input = try workspace.writeModel()
        let outcome = try PruneBinary.run([
            "run", input, "-o", workspace.path("o.safetensors"), "--plugin", fpgm, "--scorer", "fpgm:p=zero",
            "--selector", "layer:sparsity=0.5",
        ])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.hasPrefix("prune: error: 'fpgm': parameter 'p' must be a number, not 'zero'"))
        #expect(outcome.stderr.contains(fpgm), "the error names the plugin file: \(outcome.stderr)")
    }

    @Test func aMissingPluginIsNamed() throws {
        let input = try workspace.writeModel()
        let missing = workspace.path("libnothing.so")
        let outcome = try PruneBinary.run([
            "run", input, "-o", workspace.path("o.safetensors"), "--plugin", missing, "--selector",
            "layer:sparsity=0.5",
        ])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.hasPrefix("prune: error: plugin \(missing)"), "\(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }

    @Test func pluginsListShowsBuiltinsAndLoadedPlugins() throws {
        let outcome = try PruneBinary.run(["plugins", "list", "--plugin", fpgm])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("magnitude"))
        #expect(outcome.stdout.contains("fpgm"))
    }
}
