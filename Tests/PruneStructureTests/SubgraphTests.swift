import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneRuntime
@testable import PruneStructure
import PruneTestSupport
import Testing

/// Groups inside `If` branches (silero-vad's pattern) and the layer norm tf2onnx writes out with sums (magika's),
/// on the fixtures `Fixtures/subgraphs/make_subgraph_fixtures.py` wrote with ONNX Runtime's outputs.
@Suite("Subgraphs and written-out layer norms")
struct SubgraphTests {
    static let fixtures = Harness.packageRoot.appendingPathComponent("Tests/PruneStructureTests/Fixtures/subgraphs")
    static let ifLSTM = fixtures.appendingPathComponent("if_lstm.onnx")
    static let layerNormSum = fixtures.appendingPathComponent("layernorm_sum.onnx")

    /// A group's members as `parameter[axis]` (scored ones with `*`), sorted.
    static func members(_ group: DependencyGroup) -> [String] {
        group.members.map { "\($0.slice.parameter)[\($0.slice.axis)]\($0.scored ? "*" : "")" }.sorted()
    }

    /// The interpreter's `output` for the tensors of `io` that the graph takes as inputs.
    static func interpreterOutput(_ url: URL, io: URL, inputs: [String]) throws -> [Float] {
        let data = try SafetensorsDocument(url: io).model
        var feeds: [String: RuntimeTensor] = [:]
        for name in inputs { feeds[name] = try RuntimeTensor(try data.parameter(named: name).tensor) }
        let outputs = try Interpreter(graph: ONNXGraph(contentsOf: url), options: .init(threads: 1)).run(feeds)
        return try #require(outputs["output"]).tensor().floatValues()
    }

    static func recorded(_ io: URL) throws -> [Float] {
        try SafetensorsDocument(url: io).model.parameter(named: "output").tensor.floatValues()
    }

    @Test("Each If branch is analysed on its own: Conv → Relu → Conv, and the LSTM reads the channels through W's columns")
    func branchGroups() throws {
        let analysis = try StructureAnalysis(model: ONNXDocument(url: Self.ifLSTM).model)
        #expect(analysis.scopes.count == 2)
        var expected: [String: [String]] = [:]
        for branch in ["then", "else"] {
            // By hand: conv1's 8 outputs are its weight rows and bias, and conv2's weight columns; conv2's 6 outputs
            // are its rows and bias and, after the Transpose to [L, N, C], the LSTM's input features: W [1, 20, 6]
            // on axis 2. R and B carry the hidden size, which stays.
            expected["\(branch)/conv1"] = ["\(branch)_W1[0]*", "\(branch)_W2[1]*", "\(branch)_b1[0]"]
            expected["\(branch)/conv2"] = ["\(branch)_W2[0]*", "\(branch)_b2[0]", "\(branch)_lstm_W[2]*"]
        }
        #expect(Set(analysis.groups.map(\.name)) == Set(expected.keys))
        for group in analysis.groups {
            #expect(group.isPrunable, "\(group.name): \(group.exclusion ?? "")")
            #expect(Self.members(group) == expected[group.name], "\(group.name)")
        }
    }

    @Test("Removal at 0.5 inside both branches; ONNX Runtime runs either branch; the interpreter agrees with it")
    func branchRemoval() throws {
        let harness = try Harness()
        for branch in ["then", "else"] {
            let io = Self.fixtures.appendingPathComponent("if_lstm.\(branch).io.safetensors")
            let dense = try Self.interpreterOutput(Self.ifLSTM, io: io, inputs: ["x", "cond"])
            #expect(close(dense, try Self.recorded(io), tolerance: 1e-4), "dense, \(branch) branch")
        }
        let pruned = try HalfRemoval.prune(Self.ifLSTM, stem: "if_lstm", into: harness.directory)
        let model = try ONNXDocument(url: pruned).model
        for branch in ["then", "else"] {
            #expect(try model.parameter(named: "\(branch)_W1").tensor.shape == [4, 4, 3])
            #expect(try model.parameter(named: "\(branch)_W2").tensor.shape == [3, 4, 3])
            #expect(try model.parameter(named: "\(branch)_lstm_W").tensor.shape == [1, 20, 3])
            #expect(try model.parameter(named: "\(branch)_lstm_R").tensor.shape == [1, 20, 5])
        }
        for branch in ["then", "else"] {
            let io = Self.fixtures.appendingPathComponent("if_lstm.\(branch).io.safetensors")
            guard
                let ort = try HalfRemoval.onnxRuntime(
                    pruned, io: io, output: "output", stem: "if_lstm.\(branch)", in: harness.directory)
            else { continue }
            let got = try Self.interpreterOutput(pruned, io: io, inputs: ["x", "cond"])
            #expect(close(got, ort, tolerance: 1e-4), "\(branch) branch: interpreter \(got), ONNX Runtime \(ort)")
        }
    }

    @Test("A rewrite that breaks the branch a synthetic run does not take is refused, naming the branch and node")
    func brokenBranchIsRefused() throws {
        let dense = try ONNXDocument(url: Self.ifLSTM).model
        var broken = dense
        // conv2 of the then-branch loses an output channel but the LSTM's W keeps its 6 columns. A synthetic run
        // of the whole model sets cond to false and takes the else branch.
        for name in ["then_W2", "then_b2"] {
            try broken.setTensor(try broken.parameter(named: name).tensor.removing([0], along: 0), for: name)
        }
        let error = #expect(throws: PruneError.self) {
            try RewriteVerification.verify(broken, original: dense, rewriter: "test")
        }
        let message = error?.message ?? ""
        #expect(message.contains("in branch 'If_0/then_branch'"), "\(message)")
        #expect(message.contains("then/lstm"), "\(message)")
        try RewriteVerification.verify(dense, original: dense, rewriter: "test")
    }

    @Test("magika's pattern: INT32 shape constants fold, and a layer norm written as sums over the channels consumes the Conv's group")
    func writtenOutLayerNorm() throws {
        let dense = try ONNXDocument(url: Self.layerNormSum).model
        let analysis = try StructureAnalysis(model: dense)
        let conv = try #require(analysis.group(named: "Conv_0"))
        #expect(conv.isPrunable, "\(conv.exclusion ?? "")")
        // By hand: the Conv's rows, the bias Add [1, 6, 1], the layer norm's scale and bias [1, 6] and the Dense
        // layer's rows; the two ReduceSums read the channels and carry nothing on.
        #expect(Self.members(conv) == ["conv_W[0]*", "conv_bias[1]", "dense_W[0]*", "ln_bias[1]", "ln_scale[1]"])
        let denseGroup = try #require(analysis.group(named: "Dense_1/MatMul"))
        #expect(denseGroup.exclusion == "its channels reach the graph output 'output'")
        #expect(analysis.groups.count == 2)

        let io = Self.fixtures.appendingPathComponent("layernorm_sum.io.safetensors")
        #expect(close(try Self.interpreterOutput(Self.layerNormSum, io: io, inputs: ["x"]), try Self.recorded(io),
            tolerance: 1e-4))

        // Units whose every member is zero contribute nothing to either sum, so removing them leaves the output as
        // it was: zero three units, let magnitude pick exactly them at 0.5, compare.
        let harness = try Harness()
        var zeroed = dense
        let units: Set<Int> = [1, 2, 4]
        for member in conv.members {
            let tensor = try zeroed.parameter(named: member.slice.parameter).tensor
            var values = tensor.floatValues()
            let axis = member.slice.axis
            let inner = tensor.shape[(axis + 1)...].reduce(1, *)
            let extent = tensor.shape[axis]
            for index in values.indices where units.contains(index / inner % extent) { values[index] = 0 }
            try zeroed.setTensor(Tensor(shape: tensor.shape, values: values), for: member.slice.parameter)
        }
        let zeroedURL = harness.directory.appendingPathComponent("layernorm_sum.zeroed.onnx")
        _ = try ONNXDocument(url: Self.layerNormSum).write(zeroed, to: zeroedURL, metadata: [:], overwrite: true)
        let pruned = try HalfRemoval.prune(zeroedURL, stem: "layernorm_sum", into: harness.directory)
        #expect(try ONNXDocument(url: pruned).model.parameter(named: "conv_W").tensor.shape == [3, 4, 3, 1])
        let before = try Self.interpreterOutput(zeroedURL, io: io, inputs: ["x"])
        let after = try Self.interpreterOutput(pruned, io: io, inputs: ["x"])
        #expect(close(before, after, tolerance: 1e-5), "zeroed \(before), removed \(after)")
        guard
            let ort = try HalfRemoval.onnxRuntime(
                pruned, io: io, output: "output", stem: "layernorm_sum", in: harness.directory)
        else { return }
        #expect(close(after, ort, tolerance: 1e-4), "interpreter \(after), ONNX Runtime \(ort)")
    }

    @Test("A layer inside a Loop body is listed as a refused group naming the loop, and removal has nothing to cut")
    func loopBodyIsRefused() throws {
        let url = Self.fixtures.appendingPathComponent("loop_conv.onnx")
        let groups = try StructureAnalysis(model: ONNXDocument(url: url).model).groups
        #expect(groups.map(\.name) == ["body/conv"])
        #expect(groups.first?.unitCount == 4)
        #expect(
            groups.first?.exclusion
                == "node 'body/conv' (Conv): it runs inside the body of node 'Loop_0' (Loop), once per iteration "
                + "with carried state; groups in Loop bodies are not analysed")
        let harness = try Harness()
        let run = try PruneBinary.run([
            "run", url.path, "-o", harness.directory.appendingPathComponent("loop.onnx").path, "--granularity",
            "unit", "--scorer", "magnitude", "--selector", "layer:sparsity=0.5", "--rewriter", "remove",
        ])
        #expect(run.status == 1)
        #expect(run.stderr.contains("(Conv): it runs inside the body of node 'Loop_0' (Loop)"), "\(run.stderr)")
    }
}
