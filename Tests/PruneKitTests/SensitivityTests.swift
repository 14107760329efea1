import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// `SensitivitySweep` on the bundled digits CNN (Conv16 → BN → ReLU → Conv32 → BN → ReLU → MaxPool → Flatten →
/// Gemm64 → ReLU → Gemm10; `Examples/README.md`). Its prunable groups are the outputs of conv1, conv2 and fc1; fc2's
/// outputs are the graph output. Expected values are counted by hand from the architecture.
@Suite("Sensitivity sweep on the digits CNN")
struct SensitivityTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Examples/digits-cnn")
    static let model = example.appending(path: "model.onnx")
    static let calibration = example.appending(path: "calib.safetensors")
    /// 144 + 16 + 4·16 (conv1, bn1) + 4608 + 32 + 4·32 (conv2, bn2) + 32768 + 64 (fc1) + 640 + 10 (fc2).
    static let denseParameters = 38_474

    func job(grid: [Double], granularity: SensitivityCurves.Granularity = .unit) -> SensitivityJob {
        SensitivityJob(model: Self.model, calibration: Self.calibration, grid: grid, granularity: granularity, threads: 1)
    }

    @Test func eachPrunableGroupGetsACurveAndSparsityZeroChangesNothing() throws {
        let curves = try SensitivitySweep().run(job(grid: [0, 0.5]))
        #expect(curves.curves.map(\.target) == ["/conv1/Conv", "/conv2/Conv", "/fc1/Gemm"])
        #expect(curves.curves.map(\.units) == [16, 32, 64])
        #expect(curves.dense.fidelity == 1)
        #expect(curves.dense.parameters == Self.denseParameters)
        for curve in curves.curves {
            let zero = try #require(curve.points.first)
            #expect(zero.sparsity == 0)
            #expect(zero.fidelity == 1, "\(curve.target) at sparsity 0")
            #expect(zero.parameters == Self.denseParameters)
            #expect(zero.macs == curves.dense.macs)
            #expect(zero.pruned == 0)
        }
        #expect(curves.model == "model.onnx")
        #expect(curves.modelDigest.count == 64)
    }

    @Test func halfOfConv1RemovesItsSlicesAndConv2sInputs() throws {
        let curves = try SensitivitySweep().run(job(grid: [0.5]))
        let point = try #require(curves.point(target: "/conv1/Conv", sparsity: 0.5))
        #expect(point.pruned == 8)
        // 8 channels × (9 weights + bias + 4 BatchNorm values) + conv2's 32 × 8 × 9 input weights.
        #expect(point.parameters == Self.denseParameters - (8 * 14 + 32 * 8 * 9))
        // MACs of Conv and Gemm per sample: conv1 16·1·9·64, conv2 32·16·9·64 (8×8 positions, padding 1), fc1
        // 512·64, fc2 64·10. Half of conv1 costs conv1 8·9·64 and conv2 32·8·9·64.
        #expect(curves.dense.macs == 16 * 9 * 64 + 32 * 16 * 9 * 64 + 512 * 64 + 64 * 10)
        #expect(point.macs == curves.dense.macs.map { $0 - (8 * 9 * 64 + 32 * 8 * 9 * 64) })
        #expect(point.fidelity > 0 && point.fidelity <= 1)
    }

    @Test func weightGranularityMasksOneTensorAtATime() throws {
        let curves = try SensitivitySweep().run(job(grid: [0.5], granularity: .weight))
        #expect(curves.curves.map(\.target) == ["conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight"])
        let fc1 = try #require(curves.point(target: "fc1.weight", sparsity: 0.5))
        #expect(fc1.pruned == 16_384)
        #expect(fc1.parameters == Self.denseParameters - 16_384)
        #expect(fc1.macs == nil)
        #expect(curves.scorer == "magnitude")
    }

    @Test func aSecondGridReusesTheCachedPoints() throws {
        var first = try SensitivitySweep().run(job(grid: [0.5]))
        // A sentinel value: if the point were measured again, it would not survive.
        let index = try #require(first.curves.firstIndex { $0.target == "/conv2/Conv" })
        first.curves[index].points[0].fidelity = 0.123
        var checkpoints = 0
        let second = try SensitivitySweep().run(job(grid: [0.25, 0.5]), reusing: first) { _ in checkpoints += 1 }
        #expect(second.point(target: "/conv2/Conv", sparsity: 0.5)?.fidelity == 0.123)
        #expect(second.curves.allSatisfy { $0.points.map(\.sparsity) == [0.25, 0.5] })
        #expect(checkpoints == 3)
    }

    @Test func aCacheOfAnotherModelIsRefused() throws {
        var other = try SensitivitySweep().run(job(grid: [0.5]))
        other.modelDigest = String(repeating: "0", count: 64)
        other.model = "other.onnx"
        #expect {
            try SensitivitySweep().run(job(grid: [0.5]), reusing: other)
        } throws: { error in
            let message = (error as? PruneError)?.message ?? ""
            return message.hasPrefix(SensitivitySweep.incompatibleCachePrefix) && message.contains("another model")
                && message.contains("other.onnx")
        }
        var otherMetric = try SensitivitySweep().run(job(grid: [0.5]))
        otherMetric.metric = .cosine
        #expect(throws: PruneError.self) { try SensitivitySweep().run(job(grid: [0.5]), reusing: otherMetric) }
    }

    @Test func shardsAreDisjointAndMergeIntoTheFullSweep() throws {
        let grid = [0.25, 0.5, 0.75]
        let full = try SensitivitySweep().run(job(grid: grid))
        var parts: [SensitivityCurves] = []
        for index in 0..<2 {
            var sharded = job(grid: grid)
            sharded.shard = try SensitivityShard(index: index, count: 2)
            parts.append(try SensitivitySweep().run(sharded))
        }
        let counts = parts.map { $0.curves.reduce(0) { $0 + $1.points.count } }
        // 3 groups × 3 sparsities = 9 items: shard 0 takes items 0, 2, 4, 6, 8; shard 1 takes 1, 3, 5, 7.
        #expect(counts == [5, 4])
        #expect(parts[0].point(target: "/conv1/Conv", sparsity: 0.25) != nil)
        #expect(parts[1].point(target: "/conv1/Conv", sparsity: 0.25) == nil)
        let merged = try SensitivityCurves.merged(parts, names: ["a.json", "b.json"])
        #expect(merged.curves.map(\.target) == full.curves.map(\.target) || Set(merged.curves.map(\.target)) == Set(full.curves.map(\.target)))
        for curve in full.curves {
            for point in curve.points {
                #expect(merged.point(target: curve.target, sparsity: point.sparsity)?.fidelity == point.fidelity)
                #expect(merged.point(target: curve.target, sparsity: point.sparsity)?.parameters == point.parameters)
            }
        }
        var cosine = parts[1]
        cosine.metric = .cosine
        #expect(throws: PruneError.self) { try SensitivityCurves.merged([parts[0], cosine], names: ["a", "b"]) }
    }

    @Test func theCacheFileRoundTrips() throws {
        let directory = try TemporaryDirectory()
        let curves = try SensitivitySweep().run(job(grid: [0.5]))
        let url = directory.file("c.json")
        try curves.write(to: url, overwrite: false)
        #expect(try SensitivityCurves.load(url) == curves)
        #expect(throws: PruneError.self) { try curves.write(to: url, overwrite: false) }
        try "{}".write(to: directory.file("bad.json"), atomically: true, encoding: .utf8)
        #expect(throws: PruneError.self) { try SensitivityCurves.load(directory.file("bad.json")) }
    }

    @Test func badGridsAndMissingDataAreRefused() throws {
        #expect(throws: PruneError.self) { try SensitivityJob.grid(parsing: "0.1,1.0") }
        #expect(throws: PruneError.self) { try SensitivityJob.grid(parsing: "0.1,x") }
        #expect(try SensitivityJob.grid(parsing: "0.5, 0.1,0.5") == [0.1, 0.5])
        #expect(throws: PruneError.self) { try SensitivityShard(parsing: "2/2") }
        #expect(throws: PruneError.self) {
            try SensitivitySweep().run(SensitivityJob(model: Self.model, grid: [0.5]))
        }
        #expect(throws: PruneError.self) {
            try SensitivitySweep().run(SensitivityJob(model: Self.model, calibration: Self.calibration, metric: .accuracy))
        }
    }

    @Test func chartsAndPageDescribeTheCurves() throws {
        let curves = try SensitivitySweep().run(job(grid: [0.25, 0.5]))
        let chart = curves.lineChart()
        // One line per group plus the dense reference line.
        #expect(chart.series.map(\.name) == ["/conv1/Conv", "/conv2/Conv", "/fc1/Gemm", "dense"])
        let (header, rows) = curves.table(grid: [0.25, 0.5])
        #expect(header == ["target", "units", "0.25", "0.5", "MACs@0.5"])
        #expect(rows.count == 4)
        #expect(rows[0][2] == "1.0000")
        let html = curves.htmlPage(grid: [0.25, 0.5]).render()
        #expect(html.contains("<svg"))
        #expect(html.contains("/conv2/Conv"))
    }
}
