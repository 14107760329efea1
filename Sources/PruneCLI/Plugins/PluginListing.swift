import Foundation
import PruneCore
import PrunePluginHost

/// Text for `prune plugins list/info/check`.
enum PluginListing {
    /// One row per component: name, kind, source, version, parameters.
    static func table(_ components: [ComponentInfo]) -> String {
        guard !components.isEmpty else {
            return "No components registered. Load plugins with --plugin PATH or $PRUNE_PLUGIN_PATH.\n"
        }
        let header = ["NAME", "KIND", "SOURCE", "VERSION", "PARAMETERS"]
        let rows = components.map { info in
            [
                info.name, info.kind.rawValue, source(info.source), info.version ?? "-",
                info.signature.parameters.isEmpty ? "-" : info.signature.description,
            ]
        }
        return columns([header] + rows)
    }

    /// The same listing as JSON: an array of `{kind, name, summary, source, version, parameters}`, in registry order.
    static func json(_ components: [ComponentInfo]) throws -> String {
        struct Row: Encodable {
            var kind: String
            var name: String
            var summary: String
            var source: String
            var version: String?
            var parameters: String
        }
        let rows = components.map { info in
            Row(
                kind: info.kind.rawValue, name: info.name, summary: info.summary, source: source(info.source),
                version: info.version, parameters: info.signature.description)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(rows), as: UTF8.self) + "\n"
    }

    /// A component's description; `plugin` adds the plugin's details.
    static func info(_ info: ComponentInfo, plugin: LoadedPlugin?) -> String {
        var lines = ["\(info.name) (\(info.kind.rawValue))"]
        if !info.summary.isEmpty { lines.append("  \(info.summary)") }
        lines.append("  source:      \(source(info.source))")
        if let plugin {
            lines.append(
                "  plugin:      \(plugin.name) \(plugin.version) (license \(plugin.license.isEmpty ? "unknown" : plugin.license), ABI \(plugin.abiMajor).\(plugin.abiMinor))"
            )
            if !plugin.description.isEmpty { lines.append("               \(plugin.description)") }
            lines.append("  sha256:      \(plugin.sha256)")
            let statistics = plugin.components.first { $0.info == info }?.statistics ?? []
            if !statistics.isEmpty { lines.append("  statistics:  \(statistics.joined(separator: ", "))") }
        } else if info.source == .builtin {
            lines.append("  license:     that of PruneKit")
        }
        lines.append(
            "  signature:   \(info.signature.parameters.isEmpty ? "(no parameters)" : info.signature.description)")
        if !info.signature.parameters.isEmpty {
            lines.append("  parameters:")
            let rows = info.signature.parameters.map { spec in
                [
                    "    " + spec.name, spec.type.rawValue, constraint(spec),
                    spec.defaultValue.map { "default \($0)" } ?? "required",
                ]
            }
            lines.append(String(columns(rows).dropLast()))
        }
        let example = info.signature.parameters.map {
            "\($0.name)=\($0.defaultValue?.description ?? SyntheticExample.value($0))"
        }
        lines.append(
            "  usage:       --\(info.kind.rawValue) \(info.name)\(example.isEmpty ? "" : ":" + example.joined(separator: ","))"
        )
        return lines.joined(separator: "\n") + "\n"
    }

    /// A plugin's description with its components.
    static func info(_ plugin: LoadedPlugin) -> String {
        var lines = ["\(plugin.name) \(plugin.version) (plugin)"]
        if !plugin.description.isEmpty { lines.append("  \(plugin.description)") }
        lines.append("  file:        \(plugin.path)")
        lines.append("  license:     \(plugin.license.isEmpty ? "unknown" : plugin.license)")
        lines.append("  ABI:         \(plugin.abiMajor).\(plugin.abiMinor)")
        lines.append("  sha256:      \(plugin.sha256)")
        lines.append(
            "  components:  "
                + plugin.components.map { "\($0.info.name) (\($0.info.kind.rawValue))" }.joined(separator: ", "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The plugin that registered `info`, if any.
    static func plugin(of info: ComponentInfo, in loaded: [LoadedPlugin]) -> LoadedPlugin? {
        guard case .plugin(let path) = info.source else { return nil }
        return loaded.first { $0.path == path }
    }

    /// A conformance report: one line per check and a summary.
    static func report(_ report: ConformanceReport) -> String {
        var lines = ["checking \(report.path)"]
        for check in report.checks {
            let mark = check.outcome == .passed ? "ok  " : "FAIL"
            lines.append("  \(mark) \(check.name): \(check.detail)")
        }
        let total = report.checks.count
        lines.append(
            report.passed
                ? "conformance: all \(total) checks passed"
                : "conformance: \(report.failureCount) of \(total) checks failed")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func source(_ source: ComponentSource) -> String {
        switch source {
        case .builtin: "built-in"
        case .plugin(let path): path
        case .code(let label): label
        }
    }

    private static func constraint(_ spec: ParameterSpec) -> String {
        if let range = spec.range { return "in \(range)" }
        if let choices = spec.choices { return "one of " + choices.joined(separator: "|") }
        return ""
    }

    /// Left-aligned columns separated by two spaces, one line per row.
    private static func columns(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }
}

/// Example values for required parameters in usage lines.
enum SyntheticExample {
    static func value(_ spec: ParameterSpec) -> String {
        switch spec.type {
        case .f64: "<number>"
        case .i64: "<integer>"
        case .str: spec.choices?.first ?? "<text>"
        case .bool: "true"
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
