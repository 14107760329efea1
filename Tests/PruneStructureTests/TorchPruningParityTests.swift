import Foundation
import PruneBuiltins
import PruneCore
import PruneFormats
import PruneStructure
import Testing

/// `magnitude:p=2` + `layer:rounding=floor-keep` on dependency groups keeps the channels Torch-Pruning keeps
/// (`Scripts/fixtures/make_torch_pruning_fixtures.py` wrote the fixture from the same weights).
@Suite("Torch-Pruning parity")
struct TorchPruningParityTests {
    typealias Fixture = [String: [String: [String: [String: [Int]]]]]

    static func fixture() throws -> Fixture {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/torch_pruning", withExtension: "json"))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object["torch_pruning"] = nil
        return try #require(object as? Fixture)
    }

    @Test("Kept channels equal Torch-Pruning's on the bundled MLP and CNN", arguments: ["digits-mlp", "digits-cnn"])
    func keptChannels(_ example: String) throws {
        let expected = try #require(try Self.fixture()[example])
        let url = Harness.packageRoot.appendingPathComponent("Examples/\(example)/model.onnx")
        let model = try ONNXDocument(url: url).model
        let context = PruneContext(model: model)
        let targets = try GroupTargets().targets(in: model, filter: TargetFilter(granularity: .unit)).targets
        let scorer = MagnitudeScorer(p: 2)
        let scored = try targets.map { target in
            ScoredTarget(
                target: target, scores: try scorer.scores(for: target, in: context), shape: [target.scoreCount],
                layout: nil)
        }
        for (ratio, groups) in expected {
            let selection = try LayerSelector(sparsity: try #require(Double(ratio)), rounding: .floorKeep).select(
                scored, in: context)
            #expect(Set(selection.entries.map(\.target.name)) == Set(groups.keys), "\(example) at \(ratio)")
            for entry in selection.entries {
                guard case .prune(let mask) = entry.decision else {
                    Issue.record("\(entry.target.name) was skipped")
                    continue
                }
                let kept = (0..<mask.count).filter { !mask[$0] }
                #expect(kept == groups[entry.target.name]?["kept"], "\(example) \(entry.target.name) at \(ratio)")
                #expect(kept == groups[entry.target.name]?["sequential"], "\(example) \(entry.target.name) at \(ratio)")
            }
        }
    }

    /// The channels a magnitude:p=2 + layer:floor-keep run keeps on the tiny depthwise network, per group.
    static func depthwiseKept(_ depthwise: MagnitudeScorer.Depthwise, ratio: Double) throws -> [String: [Int]] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/depthwise/model", withExtension: "onnx"))
        let model = try ONNXDocument(url: url).model
        let context = PruneContext(model: model)
        let targets = try GroupTargets().targets(in: model, filter: TargetFilter(granularity: .unit)).targets
        let scorer = MagnitudeScorer(p: 2, depthwise: depthwise)
        let scored = try targets.map { target in
            ScoredTarget(
                target: target, scores: try scorer.scores(for: target, in: context), shape: [target.scoreCount],
                layout: nil)
        }
        let selection = try LayerSelector(sparsity: ratio, rounding: .floorKeep).select(scored, in: context)
        var kept: [String: [Int]] = [:]
        for entry in selection.entries {
            guard case .prune(let mask) = entry.decision else { continue }
            kept[entry.target.name] = (0..<mask.count).filter { !mask[$0] }
        }
        return kept
    }

    /// Torch-Pruning's kept channels on the depthwise network (Scripts/fixtures/make_depthwise_parity_fixture.py).
    static func depthwiseFixture() throws -> [String: [String: [Int]]] {
        let url = try #require(
            Bundle.module.url(forResource: "Fixtures/depthwise/torch_pruning", withExtension: "json"))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object["torch_pruning"] = nil
        return try #require(object as? [String: [String: [Int]]])
    }

    @Test("depthwise=exclude keeps Torch-Pruning's channels on a depthwise network; the default counts them")
    func depthwise() throws {
        for (ratio, groups) in try Self.depthwiseFixture() {
            let sparsity = try #require(Double(ratio))
            #expect(try Self.depthwiseKept(.exclude, ratio: sparsity) == groups, "at \(ratio)")
            // Counting the depthwise weights ranks some channels differently, which is why the parameter exists.
            #expect(try Self.depthwiseKept(.include, ratio: sparsity) != groups, "at \(ratio)")
        }
    }
}
