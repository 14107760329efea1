import Logging
import PruneCore

/// The conformance checks `prune plugins check` runs: load the file, then run each component once on a small
/// synthetic model and check what comes back.
///
/// Third-party authors can call this from their own tests. Checks, in order:
/// 1. the file loads: found, not writable by others, a shared library with every symbol resolved, exports
///    `prune_plugin_entry`, matching ABI version and descriptor size, `init` succeeds, registrations are well
///    formed and their names free (built-ins of `baseRegistry` included);
/// 2. the descriptor carries a version, a description and a license;
/// 3. every scorer scores element, unit and group targets with one finite score per position, and scores the
///    same target twice identically;
/// 4. every selector answers for every target with flags of 0 or 1;
/// 5. every rewriter keeps every parameter's name, shape and dtype and writes finite values;
/// 6. no component writes into the read-only tensor views it was lent (the host's tensors keep their values).
public enum PluginConformance {
    /// Runs every check on the plugin at `path`.
    ///
    /// - Parameters:
    ///   - baseRegistry: the components the plugin must not clash with (the built-ins); it is not modified.
    public static func check(
        _ path: String, options: PluginLoadOptions = PluginLoadOptions(),
        baseRegistry: @autoclosure () -> ComponentRegistry = ComponentRegistry(),
        logger: Logger = Logger(label: "prunekit.plugins"),
        progress: @escaping (ConformanceProgress) -> Void = { _ in }
    ) -> ConformanceReport {
        var checks: [ConformanceReport.Check] = [] {
            didSet { if let last = checks.last, checks.count > oldValue.count { progress(.finished(last)) } }
        }
        func record(_ name: String, _ body: () throws -> String) {
            progress(.started(name))
            do {
                checks.append(.init(name: name, outcome: .passed, detail: try body()))
            } catch let error as PluginError {
                // The report already names the file.
                checks.append(.init(name: name, outcome: .failed, detail: error.detail))
            } catch {
                checks.append(.init(name: name, outcome: .failed, detail: String(describing: error)))
            }
        }
        progress(.started("loads"))

        let registry = baseRegistry()
        var loadOptions = options
        loadOptions.statistics = options.statistics ?? SyntheticRun.statistics
        let loader = PluginLoader(options: loadOptions, logger: logger)
        let plugin: LoadedPlugin
        do {
            plugin = try loader.load(PluginReference(path: path), into: registry)
        } catch let error as PluginError {
            checks.append(.init(name: "loads", outcome: .failed, detail: error.detail))
            return ConformanceReport(path: error.path, plugin: nil, checks: checks)
        } catch {
            checks.append(.init(name: "loads", outcome: .failed, detail: String(describing: error)))
            return ConformanceReport(path: path, plugin: nil, checks: checks)
        }
        checks.append(
            .init(
                name: "loads", outcome: .passed,
                detail:
                    "plugin '\(plugin.name)' \(plugin.version), ABI \(plugin.abiMajor).\(plugin.abiMinor), \(plugin.components.count) component(s)"
            ))
        record("descriptor metadata") {
            let missing = [
                ("version", plugin.version), ("description", plugin.description), ("license", plugin.license),
            ]
            .filter { $0.1.isEmpty }.map(\.0)
            guard missing.isEmpty else { throw CheckFailure("missing \(missing.joined(separator: ", "))") }
            return "version \(plugin.version), license \(plugin.license)"
        }

        progress(.started("synthetic model"))
        do {
            _ = try SyntheticRun.model()
        } catch {
            checks.append(.init(name: "synthetic model", outcome: .failed, detail: String(describing: error)))
            return ConformanceReport(path: plugin.path, plugin: plugin, checks: checks)
        }
        for component in plugin.components {
            // A fresh model per component: one that writes into its views must not fail the next one's checks.
            guard let fresh = try? SyntheticRun.model() else { continue }  // it built above
            let context = PruneContext(model: fresh, seed: 1234, logger: logger, threads: 1)
            let info = component.info
            let spec = ComponentSpec(name: info.name, arguments: SyntheticRun.arguments(for: info.signature))
            let label = "\(info.kind.rawValue) \(spec)"
            switch info.kind {
            case .scorer: checkScorer(spec, label: label, registry: registry, context: context, record: record)
            case .selector: checkSelector(spec, label: label, registry: registry, context: context, record: record)
            case .rewriter: checkRewriter(spec, label: label, registry: registry, context: context, record: record)
            }
        }
        return ConformanceReport(path: plugin.path, plugin: plugin, checks: checks)
    }

    private static func checkScorer(
        _ spec: ComponentSpec, label: String, registry: ComponentRegistry, context: PruneContext,
        record: (String, () throws -> String) -> Void
    ) {
        let targets: [(label: String, target: PruneTarget)]
        do {
            targets = try SyntheticRun.targets(in: context.model)
        } catch {
            record(label) { throw error }
            return
        }
        for (name, target) in targets {
            record("\(label): \(name)") {
                let scorer = try registry.makeScorer(spec)
                let first = try scorer.scores(for: target, in: context)
                try first.validate(for: target, source: spec.name)
                let second = try scorer.scores(for: target, in: context)
                try ReadOnlyViews.unchanged(context.model, reference: SyntheticRun.model())
                guard first == second else { throw CheckFailure("two runs with the same seed gave different scores") }
                return "\(first.count) finite scores, deterministic"
            }
        }
    }

    private static func checkSelector(
        _ spec: ComponentSpec, label: String, registry: ComponentRegistry, context: PruneContext,
        record: (String, () throws -> String) -> Void
    ) {
        record("\(label): element and unit targets") {
            let layer = try context.model.parameter(named: "layer.weight")
            let conv = try context.model.parameter(named: "conv.weight")
            let scored = [
                ScoredTarget(
                    target: .elements(of: layer), scores: Scores((0..<12).map { Float(($0 * 7) % 12) }),
                    shape: layer.tensor.shape, layout: .pytorch),
                ScoredTarget(
                    target: .units(of: conv, axis: 0), scores: Scores([0.5, 2, 1]), shape: [3], layout: nil),
            ]
            let selection = try registry.makeSelector(spec).select(scored, in: context)
            try ReadOnlyViews.unchanged(context.model, reference: SyntheticRun.model())
            guard selection.entries.count == scored.count,
                zip(selection.entries, scored).allSatisfy({ $0.target == $1.target })
            else { throw CheckFailure("did not answer every target in order") }
            return "\(selection.prunedCount) of 15 positions selected"
        }
    }

    private static func checkRewriter(
        _ spec: ComponentSpec, label: String, registry: ComponentRegistry, context: PruneContext,
        record: (String, () throws -> String) -> Void
    ) {
        record("\(label): masks and unit selections") {
            let model = context.model
            let layer = try model.parameter(named: "layer.weight")
            let conv = try model.parameter(named: "conv.weight")
            let selection = Selection(entries: [
                Selection.Entry(
                    target: .elements(of: layer), decision: .prune(Mask(count: 12, setting: [0, 4, 8, 9]))),
                Selection.Entry(target: .units(of: conv, axis: 0), decision: .prune(Mask(count: 3, setting: [1]))),
                Selection.Entry(
                    target: .elements(of: try model.parameter(named: "next.weight")), decision: .skip(reason: "check")),
            ])
            let result = try registry.makeRewriter(spec).rewrite(model, applying: selection, in: context).model
            try ReadOnlyViews.unchanged(model, reference: SyntheticRun.model())
            for parameter in model.parameters {
                guard let rewritten = result[parameter.name] else {
                    throw CheckFailure("dropped parameter '\(parameter.name)'")
                }
                guard rewritten.tensor.shape == parameter.tensor.shape, rewritten.tensor.dtype == parameter.tensor.dtype
                else { throw CheckFailure("changed the shape or dtype of '\(parameter.name)'") }
                guard rewritten.tensor.floatValues().allSatisfy(\.isFinite) else {
                    throw CheckFailure("wrote non-finite values into '\(parameter.name)'")
                }
            }
            let changed = model.parameters.filter { result[$0.name]!.tensor.floatValues() != $0.tensor.floatValues() }
            return "parameters kept; changed: \(changed.map(\.name).joined(separator: ", ").ifEmpty("none"))"
        }
    }
}

/// Detects writes into the read-only views a component was lent: views of unmodified float32 tensors point at
/// the host's own storage, so a write shows as a changed value in the host's model.
enum ReadOnlyViews {
    /// Throws when a parameter of `model` no longer holds the values of the same parameter in `reference`.
    static func unchanged(_ model: Model, reference: Model) throws {
        for parameter in reference.parameters {
            guard let current = model[parameter.name] else { continue }
            if current.tensor.floatValues() != parameter.tensor.floatValues() {
                throw CheckFailure(
                    "wrote into the read-only view of '\(parameter.name)' (the host's tensor changed; copy a view "
                        + "before modifying it)")
            }
        }
    }
}

/// A check that failed for a reason the check itself states.
struct CheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
