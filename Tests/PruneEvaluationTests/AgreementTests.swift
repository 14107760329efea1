import Foundation
import PruneCore
import PruneEvaluation
import PruneFormats
import PruneRuntime
import PruneTestSupport
import Testing

/// How outputs are read (``OutputComparison``) and compared (``Agreement``), against values worked out by hand.
struct AgreementTests {
    @Test func theShapeDecidesWhetherTopOneIsReported() throws {
        func of(_ shape: [Int], perPosition: Bool = false) throws -> OutputComparison {
            try OutputComparison.of(shape: shape, output: "y", classesPerPosition: perPosition)
        }
        #expect(try of([4, 10]) == .classesPerSample)
        #expect(try of([4, 10, 1, 1]) == .classesPerSample)
        #expect(try of([4, 1]) == .valuesPerSample)
        #expect(try of([4]) == .valuesPerSample)
        #expect(try of([4, 3, 8, 8]) == .valuesPerSample)
        #expect(try of([1, 84, 8400]) == .valuesPerPosition)
        #expect(try of([2, 7, 5], perPosition: true) == .classesPerPosition)
        #expect(OutputComparison.classesPerPosition.rowSize(shape: [2, 7, 5]) == 5)
        #expect(OutputComparison.valuesPerSample.rowSize(shape: [4, 3, 8, 8]) == 192)
        #expect {
            _ = try of([4, 10], perPosition: true)
        } throws: { error in
            let message = (error as? PruneError)?.message ?? ""
            return message.contains("output 'y'") && message.contains("[batch, positions, classes]")
        }
    }

    /// Row 0: argmax 1 vs 2, cosine (1 + 6 + 6) / 14; row 1: both all-zero (cosine 1, argmax 0 = 0). Differences
    /// 1 at reference 2 and 1 at reference 3: relative 1/2 and 1/3.
    @Test func classesPerSampleCountTopOneCosineAndDifferences() {
        var agreement = Agreement(comparison: .classesPerSample)
        agreement.add(model: [1, 3, 2, 0, 0, 0], reference: [1, 2, 3, 0, 0, 0], rowSize: 3, samples: 2)
        #expect(agreement.top1 == 0.5 && agreement.top1Matches == 1)
        #expect(agreement.rows == 2 && agreement.samples == 2)
        #expect(abs(agreement.meanCosine - (13.0 / 14 + 1) / 2) < 1e-12)
        #expect(agreement.maxAbsDifference == 1)
        #expect(abs(agreement.maxRelativeDifference - 0.5) < 1e-12)
    }

    /// One sample of three positions whose last position flips: per position 2 of 3 agree (a single argmax over
    /// the flattened output would say they all agree); read as values there is no top-1 at all.
    @Test func sequenceOutputsAreComparedPerPosition() throws {
        let model: [Float] = [0.9, 0.1, 0.2, 0.8, 0.6, 0.4]
        let reference: [Float] = [0.9, 0.1, 0.2, 0.8, 0.4, 0.6]
        var classes = Agreement(comparison: .classesPerPosition)
        classes.add(model: model, reference: reference, rowSize: 2, samples: 1)
        #expect(classes.top1Matches == 2 && classes.rows == 3 && classes.samples == 1)
        #expect(abs(try #require(classes.top1) - 2.0 / 3) < 1e-12)
        // cos of (0.6, 0.4) and (0.4, 0.6) = 0.48 / 0.52 = 12/13.
        #expect(abs(classes.meanCosine - (1 + 1 + 12.0 / 13) / 3) < 1e-6)
        var values = Agreement(comparison: .valuesPerPosition)
        values.add(model: model, reference: reference, rowSize: 2, samples: 1)
        #expect(values.top1 == nil)
        #expect(abs(values.meanCosine - classes.meanCosine) < 1e-12)
        #expect(abs(values.maxAbsDifference - 0.2) < 1e-6)
    }

    @Test func jsonSaysNullForTopOneWhereRowsAreNotClassDistributions() throws {
        var agreement = Agreement(comparison: .valuesPerSample)
        agreement.add(model: [1, 2], reference: [1, 4], rowSize: 2, samples: 1)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(agreement)) as? [String: Any]
        #expect(object?["top1"] is NSNull && object?["top1Matches"] is NSNull)
        #expect(object?["comparison"] as? String == "valuesPerSample")
        #expect(object?["maxRelativeDifference"] as? Double == 0.5)
        let decoded = try JSONDecoder().decode(Agreement.self, from: JSONEncoder().encode(agreement))
        #expect(decoded == agreement)
    }
}

/// ``Evaluator`` on a `[batch, positions, classes]` output: y = x against a reference y = x + (0, 0.3).
struct SequenceEvaluationTests {
    /// x [1, 3, 2]; the reference adds 0.3 to class 1, which flips position 2 (0.6, 0.4 → 0.6, 0.7).
    static func evaluate(classesPerPosition: Bool, labels: Bool = false) throws -> EvaluationResult {
        var model = GraphBuilder()
        model.input("x")
        model.output("y")
        model.node("Identity", ["x"], ["y"])
        var reference = GraphBuilder()
        reference.input("x")
        reference.output("y")
        reference.initializer("shift", shape: [2], floats: [0, 0.3])
        reference.node("Add", ["x", "shift"], ["y"])
        let directory = FileManager.default.temporaryDirectory.appending(path: "prunekit-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "data.safetensors")
        var parameters = [Parameter(name: "x", tensor: Tensor(shape: [1, 3, 2], values: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4]))]
        if labels { parameters.append(Parameter(
                name: "labels", tensor: try Tensor(dtype: .i64, shape: [1], bytes: [UInt8](repeating: 0, count: 8)))) }
        _ = try SafetensorsWriter.write(try Model(parameters: parameters), to: file, overwrite: false)
        let data = try EvaluationData(url: file, batchSize: 1, labels: labels ? "labels" : nil, inputNames: ["x"])
        let evaluator = Evaluator(
            model: try Interpreter(graph: model.graph()), name: "model.onnx",
            reference: try Interpreter(graph: reference.graph()), referenceName: "dense.onnx",
            classesPerPosition: classesPerPosition)
        return try evaluator.evaluate(data)
    }

    @Test func declaredClassesPerPositionCountTopOnePerPosition() throws {
        let agreement = try #require(try Self.evaluate(classesPerPosition: true).agreement)
        #expect(agreement.comparison == .classesPerPosition)
        #expect(agreement.top1Matches == 2 && agreement.rows == 3 && agreement.samples == 1)
        #expect(abs(agreement.maxAbsDifference - 0.3) < 1e-6)
        // Largest |diff| / max(1, |reference|): 0.3 at reference 0.4 (0.3 / 1.1 at 1.1 is smaller).
        #expect(abs(agreement.maxRelativeDifference - 0.3) < 1e-6)
        let cosines = [
            (0.9 * 0.9 + 0.1 * 0.4) / ((0.82).squareRoot() * (0.97).squareRoot()),
            (0.2 * 0.2 + 0.8 * 1.1) / ((0.68).squareRoot() * (1.25).squareRoot()),
            (0.6 * 0.6 + 0.4 * 0.7) / ((0.52).squareRoot() * (0.85).squareRoot()),
        ]
        #expect(abs(agreement.meanCosine - cosines.reduce(0, +) / 3) < 1e-6)
    }

    @Test func undeclaredSequenceOutputsHaveNoTopOne() throws {
        let agreement = try #require(try Self.evaluate(classesPerPosition: false).agreement)
        #expect(agreement.comparison == .valuesPerPosition && agreement.top1 == nil && agreement.rows == 3)
    }

    @Test func labelsOnAnOutputThatIsNotOneDistributionPerSampleAreRefused() throws {
        #expect {
            _ = try Self.evaluate(classesPerPosition: false, labels: true)
        } throws: { error in
            let message = (error as? PruneError)?.message ?? ""
            return message.contains("labels 'labels'") && message.contains("output 'y' of model.onnx")
                && message.contains("[1, 3, 2]")
        }
    }
}
