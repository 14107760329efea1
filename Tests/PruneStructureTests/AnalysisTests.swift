import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneStructure
import Testing

@Suite("Dependency groups")
struct AnalysisTests {
    func groups(_ proto: Onnx_ModelProto, ignoring: [String] = []) throws -> [String: DependencyGroup] {
        let document = try Harness().open(proto, as: "model")
        let analysis = try StructureAnalysis(model: document.model, ignoring: ignoring)
        return Dictionary(uniqueKeysWithValues: analysis.groups.map { ($0.name, $0) })
    }

    func slices(_ group: DependencyGroup?) -> Set<String> {
        Set(
            (group?.members ?? []).map { "\($0.slice.parameter)@\($0.slice.axis)+\($0.slice.offset)x\($0.slice.width)" }
        )
    }

    @Test("Conv → BN → Conv, and Flatten → Gemm maps a channel to its block of H×W features")
    func cnn() throws {
        for reshape in [false, true] {
            let groups = try groups(TestGraphs.cnn(reshape: reshape))
            #expect(groups.keys.sorted() == ["conv1", "conv2", "fc1", "fc2"])
            #expect(groups["conv1"]?.unitCount == 4)
            #expect(
                slices(groups["conv1"]) == [
                    "conv1.weight@0+0x1", "conv1.bias@0+0x1", "bn1.weight@0+0x1", "bn1.bias@0+0x1",
                    "bn1.running_mean@0+0x1", "bn1.running_var@0+0x1", "conv2.weight@1+0x1",
                ])
            #expect(
                Set(groups["conv1"]?.scoredSlices.map(\.parameter) ?? []) == [
                    "conv1.weight", "bn1.weight", "conv2.weight",
                ])
            #expect(slices(groups["conv2"]) == ["conv2.weight@0+0x1", "conv2.bias@0+0x1", "fc1.weight@1+0x9"])
            #expect(slices(groups["fc1"]) == ["fc1.weight@0+0x1", "fc1.bias@0+0x1", "fc2.weight@1+0x1"])
            #expect(groups["fc2"]?.exclusion == "its channels reach the graph output 'logits'")
            #expect(groups.values.filter(\.isPrunable).count == 3)
        }
    }

    @Test("A residual Add couples both producers' channels into one group")
    func residual() throws {
        let groups = try groups(TestGraphs.residual())
        #expect(groups.keys.sorted() == ["conv0", "conv1", "conv3"])
        #expect(
            slices(groups["conv0"]) == [
                "conv0.weight@0+0x1", "conv0.bias@0+0x1", "conv1.weight@1+0x1", "conv2.weight@0+0x1",
                "conv2.bias@0+0x1", "conv3.weight@1+0x1",
            ])
        #expect(slices(groups["conv1"]) == ["conv1.weight@0+0x1", "conv1.bias@0+0x1", "conv2.weight@1+0x1"])
        #expect(groups["conv3"]?.isPrunable == false)
    }

    @Test("Concat maps each branch's channels with its offset; per-channel constants are sliced")
    func concat() throws {
        let groups = try groups(TestGraphs.concat())
        #expect(
            slices(groups["convA"]) == ["convA.weight@0+0x1", "convA.bias@0+0x1", "scale@0+0x1", "convC.weight@1+0x1"])
        #expect(
            slices(groups["convB"]) == ["convB.weight@0+0x1", "convB.bias@0+0x1", "scale@0+3x1", "convC.weight@1+3x1"])
    }

    @Test("A depthwise Conv couples its input and output channels")
    func depthwise() throws {
        let groups = try groups(TestGraphs.depthwise())
        #expect(groups.keys.sorted() == ["conv1", "conv2"])
        #expect(
            slices(groups["conv1"]) == [
                "conv1.weight@0+0x1", "conv1.bias@0+0x1", "dw.weight@0+0x2", "dw.bias@0+0x2", "conv2.weight@1+0x2",
            ])
    }

    @Test("MatMul with a bias Add forms neuron groups")
    func matMul() throws {
        let groups = try groups(TestGraphs.matMulMLP())
        #expect(slices(groups["mm1"]) == ["w1@1+0x1", "b1@0+0x1", "w2@0+0x1"])
        #expect(groups["mm2"]?.isPrunable == false)
    }

    @Test("An operator that mixes the channels, or has no rule, blocks the group and is named with its op")
    func unknownOperator() throws {
        let groups = try groups(TestGraphs.blocked())
        #expect(groups["conv1"]?.exclusion == "node 'mystery' (Softmax): normalises across the group's channels")
        #expect(groups["conv2"]?.isPrunable == true)
        let custom = try self.groups(TestGraphs.blocked(op: "Fancy", domain: "com.example"))
        #expect(custom["conv1"]?.exclusion?.contains("node 'mystery' (Fancy)") == true)
        let unknown = try self.groups(TestGraphs.blocked(op: "LpNormalization"))
        #expect(
            unknown["conv1"]?.exclusion
                == "node 'mystery' (LpNormalization): the structure analysis does not understand this operator")
    }

    @Test("--ignore patterns protect every group that touches a matching name")
    func ignore() throws {
        let groups = try groups(TestGraphs.cnn(), ignoring: ["^bn1"])
        #expect(groups["conv1"]?.exclusion == "ignored: 'bn1' matches '^bn1'")
        #expect(groups["conv2"]?.isPrunable == true)
    }

    @Test("The bundled MLP: two hidden groups; the classifier is protected")
    func bundledMLP() throws {
        let url = Harness.packageRoot.appendingPathComponent("Examples/digits-mlp/model.onnx")
        let analysis = try StructureAnalysis(model: ONNXDocument(url: url).model)
        #expect(analysis.groups.map(\.name) == ["/fc1/Gemm", "/fc2/Gemm", "/fc3/Gemm"])
        #expect(analysis.groups.map(\.isPrunable) == [true, true, false])
        #expect(analysis.groups.map(\.unitCount) == [128, 64, 10])
    }

    @Test("A safetensors-like model without a graph is refused with a message")
    func noGraph() throws {
        let model = try Model(parameters: [Parameter(name: "w", tensor: Tensor(shape: [2, 2], values: [1, 2, 3, 4]))])
        #expect(throws: PruneError.self) { try StructureAnalysis(model: model) }
    }
}
