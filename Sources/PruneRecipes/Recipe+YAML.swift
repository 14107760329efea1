import PruneCore

extension Recipe {
    /// The recipe as YAML, in the form ``init(yaml:file:)`` reads back to an equal recipe.
    ///
    /// Components are written in their `NAME:key=value,...` form; defaults (`rewriter: mask`, element
    /// granularity, no patterns) are left out.
    public var yaml: String {
        var lines: [String] = []
        if !plugins.isEmpty {
            lines.append("plugins:")
            for plugin in plugins {
                lines.append("  - path: \(Recipe.quoted(plugin.path))")
                if let sha = plugin.sha256 { lines.append("    sha256: \(sha)") }
            }
        }
        lines.append("stages:")
        for stage in stages {
            lines.append("  - name: \(Recipe.quoted(stage.name))")
            lines.append("    scorer: \(Recipe.quoted(stage.scorer.description))")
            lines.append("    selector: \(Recipe.quoted(stage.selector.description))")
            if stage.rewriter != ComponentSpec(name: "mask") {
                lines.append("    rewriter: \(Recipe.quoted(stage.rewriter.description))")
            }
            if stage.targets.granularity != .element {
                lines.append("    granularity: \(stage.targets.granularity.rawValue)")
            }
            if !stage.targets.include.isEmpty {
                lines.append("    include: [\(stage.targets.include.map(Recipe.quoted).joined(separator: ", "))]")
            }
            if !stage.targets.exclude.isEmpty {
                lines.append("    exclude: [\(stage.targets.exclude.map(Recipe.quoted).joined(separator: ", "))]")
            }
            if !stage.targets.ignore.isEmpty {
                lines.append("    ignore: [\(stage.targets.ignore.map(Recipe.quoted).joined(separator: ", "))]")
            }
            if stage.targets.includeHiddenWidth { lines.append("    include_hidden_width: true") }
            if stage.targets.headDimensions { lines.append("    head_dims: true") }
            if let schedule = stage.schedule {
                lines.append("    schedule: {steps: \(schedule.steps), curve: \(schedule.curve.rawValue)}")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A double-quoted YAML scalar.
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
