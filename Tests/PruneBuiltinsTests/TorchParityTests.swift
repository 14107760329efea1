import Foundation
import PruneKit
import Testing

/// Our masks must equal PyTorch's on the same weights (fixtures made by Scripts/fixtures/make_torch_masks.py).
@Suite("PyTorch parity")
struct TorchParityTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let name: String
        let file: String
        let method: String
        let amount: Double
        let n: Double?
        let tensors: [String]
        var testDescription: String { name }
    }

    struct Cases: Decodable { let cases: [Case] }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appending(path: "torch")

    static let cases: [Case] = {
        let data = try! Data(contentsOf: directory.appending(path: "cases.json"))
        return try! JSONDecoder().decode(Cases.self, from: data).cases
    }()

    @Test(arguments: cases)
    func masksEqualTorch(_ testCase: Case) throws {
        let weights = try SafetensorsDocument(url: Self.directory.appending(path: "weights.safetensors")).model
        let expected = try SafetensorsDocument(url: Self.directory.appending(path: testCase.file)).model
        let (scorer, selector, granularity): (String, String, PruneTarget.Granularity) =
            switch testCase.method {
            case "l1_unstructured": ("magnitude", "layer:sparsity=\(testCase.amount)", .element)
            case "global_unstructured": ("magnitude", "global:sparsity=\(testCase.amount)", .element)
            case "ln_structured":
                ("magnitude:p=\(ParameterValue.f64(testCase.n!))", "layer:sparsity=\(testCase.amount)", .unit)
            default: throw PruneError(.unsupported, "unknown method \(testCase.method)")
            }
        let include = testCase.tensors.map { "^" + NSRegularExpression.escapedPattern(for: $0) + "$" }
        let stage = try Stage(
            targets: TargetFilter(include: include, granularity: granularity),
            scorer: ComponentSpec(parsing: scorer), selector: ComponentSpec(parsing: selector),
            rewriter: ComponentSpec(parsing: "mask"), registry: .standard())
        let pruned = try Pipeline([stage]).run(on: weights, context: PruneContext(model: weights)).model
        for name in testCase.tensors {
            let ours = pruned[name]!.tensor.floatValues().map { $0 == 0 ? Float(0) : 1 }
            let torch = expected[name]!.tensor.floatValues()
            #expect(ours == torch, "\(testCase.name): \(name)")
        }
        #expect(weights["fc1.bias"]!.tensor.isUnmodified)
    }
}
