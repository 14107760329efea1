import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// Every recipe shown in `Docs/Recipes.md` parses and, except those needing a plugin, builds.
struct RecipeDocsTests {
    @Test func everyDocumentedRecipeParsesAndBuilds() throws {
        let doc = try String(
            contentsOf: Repository.docs.appending(path: "Recipes.md"), encoding: .utf8)
        let blocks = doc.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(blocks.count >= 10)
        for block in blocks {
            let recipe = try Recipe(yaml: block, file: "Docs/Recipes.md")
            guard recipe.plugins.isEmpty else { continue }
            _ = try recipe.pipeline(registry: .standard())
        }
    }

    @Test("every recipe shipped in Examples/recipes parses and builds with the standard components")
    func shippedRecipesBuild() throws {
        let folder = Repository.examples.appending(path: "recipes")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty, "Examples/recipes ships at least one recipe")
        for file in files {
            let recipe = try Recipe(contentsOf: folder.appending(path: file))
            let pipeline = try recipe.pipeline(registry: .standard(), file: file)
            #expect(pipeline.stages.count == recipe.stages.count, "\(file)")
        }
    }

    @Test("a stage that removes units is unit-granular unless it says otherwise, as --rewriter remove is")
    func removeImpliesUnits() throws {
        let recipe = try Recipe(
            yaml: """
                stages:
                  - {scorer: magnitude, selector: "layer:sparsity=0.5", rewriter: remove}
                  - {scorer: magnitude, selector: "layer:sparsity=0.5", rewriter: mask}
                  - {scorer: magnitude, selector: "layer:sparsity=0.5", rewriter: remove, granularity: element}
                """)
        #expect(recipe.stages.map(\.targets.granularity) == [.unit, .element, .element])
    }
}
