import Foundation
import PruneKit
import Testing

/// Crafted recipes from issue 12: refused with a line-numbered error before the YAML parser can be abused.
struct RecipeLimitTests {
    @Test("a recipe nested 5,000 levels deep is refused before parsing (block and flow)")
    func deepNestingRefused() {
        let flow = "stages: " + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "\n"
        let flowError = #expect(throws: PruneError.self) { try Recipe(yaml: flow, file: "deep.yaml") }
        #expect(flowError?.message == "deep.yaml:1: the recipe nests deeper than 64 levels")
        let block = "stages:\n" + (1...5_000).map { String(repeating: " ", count: $0) + "- a:" }.joined(separator: "\n")
        #expect(throws: PruneError.self) { try Recipe(yaml: block, file: "deep.yaml") }
        let dashes = "stages:\n  " + String(repeating: "- ", count: 5_000) + "x\n"
        #expect(throws: PruneError.self) { try Recipe(yaml: dashes, file: "deep.yaml") }
    }

    @Test("nesting within the bound still parses")
    func ordinaryNestingParses() throws {
        let recipe = try Recipe(yaml: "stages:\n  - {scorer: magnitude, selector: {name: layer, sparsity: 0.5}}\n")
        #expect(recipe.stages.count == 1)
    }

    @Test("more than 1,000 stages, or a text over 1 MiB, is refused")
    func stageCountBounded() {
        let stage = "  - {scorer: magnitude, selector: \"layer:sparsity=0.5\"}\n"
        let many = "stages:\n" + String(repeating: stage, count: 1_001)
        let error = #expect(throws: PruneError.self) { try Recipe(yaml: many, file: "many.yaml") }
        #expect(error?.message.hasPrefix("many.yaml:") == true)
        #expect(error?.message.hasSuffix("'stages' has 1001 entries, more than the limit of 1000") == true)
        let huge = "stages:\n" + String(repeating: stage, count: 30_000)
        let sizeError = #expect(throws: PruneError.self) { try Recipe(yaml: huge, file: "huge.yaml") }
        #expect(sizeError?.message.contains("more than the 1048576-byte limit") == true)
    }
}
