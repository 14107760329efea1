import Foundation
import PruneKit
import Testing

/// Every recipe shown in `Docs/Recipes.md` parses and, except those needing a plugin, builds.
struct RecipeDocsTests {
    @Test func everyDocumentedRecipeParsesAndBuilds() throws {
        let doc = try String(
            contentsOf: Examples.root.deletingLastPathComponent().appending(path: "Docs/Recipes.md"), encoding: .utf8)
        let blocks = doc.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(blocks.count >= 10)
        for block in blocks {
            let recipe = try Recipe(yaml: block, file: "Docs/Recipes.md")
            guard recipe.plugins.isEmpty else { continue }
            _ = try recipe.pipeline(registry: .standard())
        }
    }
}
