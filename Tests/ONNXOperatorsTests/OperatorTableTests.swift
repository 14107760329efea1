import Foundation
import Testing

@testable import ONNXOperators

/// The operator table against ONNX's own operator list (a fixture recorded from the `onnx` package) and against the
/// properties each class promises, stated by hand from the ONNX operator documentation.
struct OperatorTableTests {
    /// Every operator name of the default domain in onnx 1.23.2.
    static let onnxOperators: Set<String> = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures/onnx-operators.txt")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
    }()

    static let classes: [(name: String, members: Set<String>)] = [
        ("elementwise", ONNXOperators.elementwise), ("activations", ONNXOperators.activations),
        ("shapePreserving", ONNXOperators.shapePreserving), ("channelAffine", ONNXOperators.channelAffine),
        ("broadcasting", ONNXOperators.broadcasting), ("pooling", ONNXOperators.pooling),
        ("globalPooling", ONNXOperators.globalPooling), ("reductions", ONNXOperators.reductions),
        ("layers", ONNXOperators.layers),
    ]

    @Test("every name in the table is an ONNX operator (no typo silently matches nothing)")
    func namesAreONNXOperators() throws {
        try #require(Self.onnxOperators.count > 150, "the fixture lists ONNX's operators")
        for (name, members) in Self.classes {
            let unknown = members.subtracting(Self.onnxOperators)
            #expect(unknown.isEmpty, "\(name) names operators ONNX does not define: \(unknown.sorted())")
        }
    }

    @Test("activations are element-for-element; per-channel affine operators keep their input's shape")
    func subclassesHoldTheirParentsProperty() {
        #expect(ONNXOperators.activations.isSubset(of: ONNXOperators.elementwise))
        #expect(ONNXOperators.channelAffine.isSubset(of: ONNXOperators.shapePreserving))
    }

    @Test("operators that mix elements, broadcast, pool or reduce are never element-for-element")
    func classesThatExcludeEachOther() {
        let mixing = ONNXOperators.shapePreserving.union(ONNXOperators.broadcasting).union(ONNXOperators.pooling)
            .union(ONNXOperators.globalPooling).union(ONNXOperators.reductions).union(ONNXOperators.layers)
        #expect(ONNXOperators.elementwise.isDisjoint(with: mixing), "\(ONNXOperators.elementwise.intersection(mixing))")
        #expect(ONNXOperators.layers.isDisjoint(with: ONNXOperators.shapePreserving))
        #expect(ONNXOperators.pooling.isDisjoint(with: ONNXOperators.globalPooling))
    }

    @Test("operators from the ONNX documentation land in the class their definition gives them")
    func knownMembers() {
        // Relu(x) = max(0, x) per element; Softmax normalises along an axis; Add broadcasts (numpy rules).
        #expect(ONNXOperators.activations.contains("Relu"))
        #expect(!ONNXOperators.elementwise.contains("Softmax"))
        #expect(ONNXOperators.shapePreserving.contains("Softmax"))
        #expect(ONNXOperators.broadcasting.isSuperset(of: ["Add", "Mul", "Where"]))
        // Reshape, Concat, Transpose and Gather change shapes by rules of their own: in no class.
        for name in ["Reshape", "Concat", "Transpose", "Gather", "Flatten", "Split"] {
            #expect(!Self.classes.contains { $0.members.contains(name) }, "\(name)")
        }
    }
}
