import Foundation
import PruneKit
import Testing

/// Recipe parsing, its errors with line numbers, and the recipe ↔ Pipeline round trip.
struct RecipeTests {
    static let fusion = """
        # hierarchical fusion: weights, then activations, then density
        stages:
          - name: weights
            scorer: magnitude
            selector: global:sparsity=0.3
          - name: activations
            scorer: activation
            selector: {name: row, sparsity: 0.5}
            exclude: [fc2]
          - name: density
            scorer: density
            selector: layer:sparsity=0.25
            granularity: unit
            include: conv
        """

    @Test func parsesStagesInBothComponentForms() throws {
        let recipe = try Recipe(yaml: RecipeTests.fusion)
        #expect(recipe.stages.map(\.name) == ["weights", "activations", "density"])
        #expect(recipe.stages[1].selector == ComponentSpec(name: "row", arguments: [("sparsity", "0.5")]))
        #expect(recipe.stages[1].targets.exclude == ["fc2"])
        #expect(recipe.stages[2].targets == TargetFilter(include: ["conv"], granularity: .unit))
        #expect(recipe.stages[0].rewriter == ComponentSpec(name: "mask"))
        #expect(recipe.stages.map(\.line) == [3, 6, 10])
        let pipeline = try recipe.pipeline(registry: .standard())
        #expect(pipeline.stages.map(\.description.selector) == ["global:sparsity=0.3", "row:sparsity=0.5", "layer:sparsity=0.25"])
        #expect(pipeline.dataNeeds.statistics.required == [.inputFeatures, .outputUnits])
    }

    @Test("head_dims: true prunes attention by head dimension, as --head-dims does")
    func headDimensions() throws {
        let text = "stages:\n  - scorer: magnitude\n    selector: layer\n    granularity: unit\n"
        #expect(try Recipe(yaml: text).stages[0].targets.headDimensions == false)
        let recipe = try Recipe(yaml: text + "    head_dims: true\n")
        #expect(recipe.stages[0].targets == TargetFilter(granularity: .unit, headDimensions: true))
        #expect(try Recipe(yaml: recipe.yaml).stages[0].targets.headDimensions)
    }

    @Test("include_hidden_width: true offers a transformer's hidden width, as --include-hidden-width does")
    func includeHiddenWidth() throws {
        let text = "stages:\n  - scorer: magnitude:p=2\n    selector: layer:sparsity=0.5\n    rewriter: remove\n"
        #expect(try Recipe(yaml: text).stages[0].targets.includeHiddenWidth == false)
        let recipe = try Recipe(yaml: text + "    include_hidden_width: true\n")
        #expect(recipe.stages[0].targets == TargetFilter(granularity: .unit, includeHiddenWidth: true))
        #expect(try Recipe(yaml: recipe.yaml).stages[0].targets.includeHiddenWidth)
    }

    @Test(arguments: [
        ("stages:\n  - scorer: magnitude\n    selector: layer\n    include_hidden_width: yes\n", 4, "expected true or false"),
        ("stages:\n  - scorer: magnitude\n    selector: layer:sparsity=0.5\n    sparsity: 0.5\n", 4, "unknown key 'sparsity' in stage 1"),
        ("stages:\n  - scorer: magnitude\n    selector: [layer]\n", 3, "'selector' must be NAME[:key=value,...]"),
        ("stages:\n  - scorer: magnitude\n    selector: layer\n    include: {a: b}\n", 4, "'include' must be a list"),
        ("stages:\n  - scorer: magnitude\n", 2, "stage 'stage1' needs 'selector'"),
        ("stage:\n  - scorer: magnitude\n", 1, "unknown key 'stage' in the recipe"),
        ("stages:\n  - scorer: magnitude\n    selector: layer\n    granularity: channel\n", 4, "expected element or unit"),
        ("stages:\n  - scorer: magnitude\n  selector: x\n", 3, "not valid YAML"),
        ("plugins:\n  - path: a.so\n    sha256: abc\nstages:\n  - {scorer: magnitude, selector: layer}\n", 3, "64 hexadecimal"),
    ])
    func malformedRecipesFailWithTheLine(text: String, line: Int, message: String) throws {
        let error = #expect(throws: PruneError.self) { try Recipe(yaml: text, file: "r.yaml") }
        #expect(error?.message.hasPrefix("r.yaml:\(line): ") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test func unknownComponentsAndBadParametersNameTheStageLine() throws {
        let text = "stages:\n  - scorer: magnitude\n    selector: layer:sparsity=0.5\n  - scorer: wanda\n    selector: row:sparsity=0.5\n"
        let unknown = #expect(throws: PruneError.self) {
            try Recipe(yaml: text, file: "r.yaml").pipeline(registry: .standard(), file: "r.yaml")
        }
        #expect(unknown?.kind == .unknownComponent)
        #expect(unknown?.message.hasPrefix("r.yaml:4: stage 'stage2': unknown scorer 'wanda'") == true)
        let badType = "stages:\n  - scorer: magnitude\n    selector: {name: layer, sparsity: half}\n"
        let typed = #expect(throws: PruneError.self) {
            try Recipe(yaml: badType, file: "r.yaml").pipeline(registry: .standard(), file: "r.yaml")
        }
        #expect(typed?.kind == .invalidParameter)
        #expect(typed?.message.hasPrefix("r.yaml:2: stage 'stage1': ") == true)
    }

    @Test func aPipelinePrintsAsARecipeThatLoadsBackToTheSamePipeline() throws {
        let registry = ComponentRegistry.standard()
        let original = try Recipe(yaml: RecipeTests.fusion).pipeline(registry: registry)
        let printed = try Recipe(original)
        var reread = try Recipe(yaml: printed.yaml)
        #expect(reread == printed)
        let rebuilt = try reread.pipeline(registry: registry)
        #expect(rebuilt.stages.map(\.description) == original.stages.map(\.description))
        #expect(rebuilt.stages.map(\.targets) == original.stages.map(\.targets))
        #expect(rebuilt.stages.map(\.name) == original.stages.map(\.name))
        reread.plugins = [Recipe.Plugin(path: "lib x.so", sha256: String(repeating: "ab", count: 32))]
        #expect(try Recipe(yaml: reread.yaml) == reread)
    }
}
