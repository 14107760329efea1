import PruneKit
import Testing

/// The budget solvers against allocations worked out by hand on small synthetic curves.
@Suite struct BudgetSolverTests {
    /// Three targets whose best pair (A+C) is not what the loss-per-saving greedy picks (A, then B).
    ///
    /// Required saving 10. Rates from dense: A 0.05/5 = 0.010, B 0.30/10 = 0.030, C 0.20/6 = 0.033. Greedy takes A
    /// (saved 5), then B (cheaper rate than C): loss 0.35, saved 15. The exact optimum is A+C: loss 0.25, saved 11
    /// (B alone: 0.30; all three: 0.55).
    static let items = [
        BudgetSolver.Item(target: "A", options: [.init(sparsity: 0.5, loss: 0.05, saving: 5)]),
        BudgetSolver.Item(target: "B", options: [.init(sparsity: 0.5, loss: 0.30, saving: 10)]),
        BudgetSolver.Item(target: "C", options: [.init(sparsity: 0.5, loss: 0.20, saving: 6)]),
    ]

    @Test func greedyTakesTheLeastLossPerSavingFirst() throws {
        let solution = try #require(BudgetSolver.greedy.solve(Self.items, required: 10))
        #expect(solution.choices == [1, 1, 0])
        #expect(abs(solution.loss - 0.35) < 1e-12)
        #expect(solution.saving == 15)
    }

    @Test func exactFindsTheOptimumGreedyMisses() throws {
        let solution = try #require(BudgetSolver.exact.solve(Self.items, required: 10))
        #expect(solution.choices == [1, 0, 1])
        #expect(abs(solution.loss - 0.25) < 1e-12)
        #expect(solution.saving == 11)
    }

    /// A grid of several points per target: the solver may jump past a point (from 0 straight to 0.8).
    ///
    /// Required 12. A: 0.5 → (0.10, 10), 0.8 → (0.50, 16); B: 0.5 → (0.05, 4), 0.8 → (0.12, 8). Greedy rates from
    /// dense: A0.5 0.010, A0.8 0.031, B0.5 0.0125, B0.8 0.015: A0.5 first (10), then B0.5 (rate 0.0125 < A's next
    /// 0.4/6): loss 0.15, saved 14. Exact: A0.5+B0.5 = 0.15 is the least of the feasible pairs (A0.5+B0.8 0.22,
    /// A0.8 0.50, A0.8+B… more).
    @Test func bothSolveAMultiPointGridByHand() throws {
        let items = [
            BudgetSolver.Item(
                target: "A", options: [.init(sparsity: 0.8, loss: 0.5, saving: 16), .init(sparsity: 0.5, loss: 0.1, saving: 10)]),
            BudgetSolver.Item(
                target: "B", options: [.init(sparsity: 0.5, loss: 0.05, saving: 4), .init(sparsity: 0.8, loss: 0.12, saving: 8)]),
        ]
        #expect(items[0].options.map(\.sparsity) == [0, 0.5, 0.8], "sorted, with a dense option added")
        for solver in BudgetSolver.allCases {
            let solution = try #require(solver.solve(items, required: 12))
            #expect(solution.choices == [1, 1], "\(solver)")
            #expect(abs(solution.loss - 0.15) < 1e-12, "\(solver)")
        }
        // Required 17: feasible are A0.5+B0.8 (18, loss 0.22), A0.8+B0.5 (20, 0.55), A0.8+B0.8 (24, 0.62).
        #expect(try #require(BudgetSolver.exact.solve(items, required: 17)).choices == [1, 2])
        #expect(BudgetSolver.exact.solve(items, required: 25) == nil, "16 + 8 = 24 is the most there is")
    }

    @Test func aProblemFromCurvesSolvesForTheKeptFraction() throws {
        // Dense 100 MACs; keep 0.8 → save 20. g1 saves 10 at 0.5 (loss 0.01) and 30 at 0.75 (loss 0.2); g2 saves
        // 10 at 0.5 (loss 0.02). Best: g1@0.5 + g2@0.5 = 0.03 (g1@0.75 alone 0.2).
        let curves = SensitivityCurves(
            model: "m.onnx", modelDigest: "0", metric: .agreement, granularity: .unit, scorer: "magnitude:p=2",
            dense: .init(sparsity: 0, fidelity: 1, parameters: 50, macs: 100),
            curves: [
                .init(target: "g1", units: 8, points: [
                    .init(sparsity: 0.5, fidelity: 0.99, parameters: 40, macs: 90),
                    .init(sparsity: 0.75, fidelity: 0.8, parameters: 35, macs: 70),
                ]),
                .init(target: "g2", units: 8, points: [.init(sparsity: 0.5, fidelity: 0.98, parameters: 45, macs: 90)]),
            ])
        let problem = try BudgetProblem(curves: curves, target: try BudgetTarget(parsing: "macs=0.8"))
        let allocation = try #require(problem.solve(with: .exact))
        #expect(allocation.table == ["g1": 0.5, "g2": 0.5])
        #expect(abs(allocation.predictedKept - 0.8) < 1e-12)
        #expect(abs(allocation.predictedLoss - 0.03) < 1e-12)
        // params=0.7 → save 15 of 50: g1@0.75 (15, loss 0.2) vs g1@0.5 + g2@0.5 (15, 0.03).
        let params = try BudgetProblem(curves: curves, target: try BudgetTarget(parsing: "params=0.7"))
        #expect(try #require(params.solve(with: .exact)).table == ["g1": 0.5, "g2": 0.5])
        // Latency without curve latencies is modelled by MACs.
        #expect(try BudgetProblem(curves: curves, target: BudgetTarget(parsing: "latency=0.8")).latencyFromMACs)
        #expect(throws: PruneError.self) { try BudgetTarget(parsing: "flops=0.5") }
        #expect(throws: PruneError.self) { try BudgetTarget(parsing: "macs=1.5") }
    }
}
