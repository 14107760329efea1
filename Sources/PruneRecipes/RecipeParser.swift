import Foundation
import PruneCore
import Yams

extension Recipe {
    /// Parses a YAML recipe.
    ///
    /// - Parameter file: the name errors use (a path, or `recipe`).
    /// - Throws: `PruneError.Kind.invalidInput` naming `file` and the line for a text over 1 MiB, nesting deeper
    ///   than 64 levels or more than 1,000 stages (checked before parsing where possible), malformed YAML, an unknown key, a
    ///   value of the wrong type, a missing key or an invalid component spec. Components are not resolved here;
    ///   ``pipeline(registry:file:)`` does that.
    public init(yaml text: String, file: String = "recipe") throws {
        let reader = RecipeReader(file: file)
        try RecipeLimits.check(text, fail: reader.fail)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw reader.fail(line: RecipeReader.line(of: error), "not valid YAML: \(RecipeReader.describe(error))")
        }
        guard let root else { throw reader.fail(line: 1, "the recipe is empty; it needs a 'stages:' list") }
        self = try reader.recipe(root)
    }

    /// Reads and parses the recipe at `url`.
    ///
    /// - Throws: `PruneError.Kind.fileUnreadable` when the file cannot be read, and the errors of
    ///   ``init(yaml:file:)``.
    public init(contentsOf url: URL) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw PruneError(.fileUnreadable, "\(url.path): cannot read the recipe (\(error.localizedDescription))")
        }
        try self.init(yaml: text, file: url.path)
    }
}

/// Walks the YAML node tree, checking keys and types and remembering lines.
private struct RecipeReader {
    let file: String

    static let topKeys = ["stages", "plugins"]
    static let stageKeys = [
        "name", "scorer", "selector", "rewriter", "include", "exclude", "granularity", "ignore", "include_hidden_width",
        "head_dims", "schedule",
    ]
    static let scheduleKeys = ["steps", "curve"]
    static let pluginKeys = ["path", "sha256"]

    func fail(line: Int, _ message: String) -> PruneError {
        PruneError(.invalidInput, "\(file):\(line): \(message)")
    }

    func line(_ node: Node) -> Int { node.mark?.line ?? 0 }

    func recipe(_ root: Node) throws -> Recipe {
        let top = try mapping(root, "the recipe")
        try checkKeys(top, allowed: RecipeReader.topKeys, in: "the recipe")
        guard let stagesNode = top["stages"] else {
            throw fail(line: line(root), "the recipe needs a 'stages:' list")
        }
        let stageNodes = try sequence(stagesNode, "'stages'")
        guard !stageNodes.isEmpty else { throw fail(line: line(stagesNode), "'stages' is empty") }
        guard stageNodes.count <= RecipeLimits.maxStages else {
            throw fail(
                line: line(stagesNode),
                "'stages' has \(stageNodes.count) entries, more than the limit of \(RecipeLimits.maxStages)")
        }
        let stages = try stageNodes.enumerated().map { try stage($1, index: $0 + 1) }
        let plugins = try top["plugins"].map { try sequence($0, "'plugins'").map(plugin) } ?? []
        return Recipe(plugins: plugins, stages: stages)
    }

    func stage(_ node: Node, index: Int) throws -> Recipe.StageEntry {
        let map = try mapping(node, "stage \(index)")
        try checkKeys(map, allowed: RecipeReader.stageKeys, in: "stage \(index)")
        let name = try map["name"].map { try string($0, "'name'") } ?? "stage\(index)"
        func component(_ key: String, default fallback: String? = nil) throws -> ComponentSpec {
            guard let value = map[key] else {
                if let fallback { return ComponentSpec(name: fallback) }
                throw fail(line: line(node), "stage '\(name)' needs '\(key)'")
            }
            return try spec(value, key)
        }
        let rewriter = try component("rewriter", default: "mask")
        var granularity = Recipe.StageEntry.impliedGranularity(rewriter: rewriter)
        if let value = map["granularity"] {
            let text = try string(value, "'granularity'")
            guard let parsed = PruneTarget.Granularity(rawValue: text) else {
                throw fail(line: line(value), "'granularity' is '\(text)'; expected element or unit")
            }
            granularity = parsed
        }
        let targets = TargetFilter(
            include: try map["include"].map { try strings($0, "'include'") } ?? [],
            exclude: try map["exclude"].map { try strings($0, "'exclude'") } ?? [], granularity: granularity,
            ignore: try map["ignore"].map { try strings($0, "'ignore'") } ?? [],
            includeHiddenWidth: try map["include_hidden_width"].map { try flag($0, "'include_hidden_width'") } ?? false,
            headDimensions: try map["head_dims"].map { try flag($0, "'head_dims'") } ?? false)
        do {
            try targets.validate()
        } catch let error as PruneError {
            throw fail(line: line(map["include"] ?? map["exclude"] ?? map["ignore"] ?? node), error.message)
        }
        var entry = Recipe.StageEntry(
            name: name, scorer: try component("scorer"), selector: try component("selector"),
            rewriter: rewriter, targets: targets, line: line(node))
        entry.schedule = try map["schedule"].map(schedule)
        return entry
    }

    /// A schedule: a mapping with `steps` (1…1,000) and `curve` (`linear` or `cubic`, the default).
    func schedule(_ node: Node) throws -> Schedule {
        let map = try mapping(node, "'schedule'")
        try checkKeys(map, allowed: RecipeReader.scheduleKeys, in: "'schedule'")
        guard let stepsNode = map["steps"] else { throw fail(line: line(node), "'schedule' needs 'steps'") }
        let text = try string(stepsNode, "'steps'")
        guard let steps = Int(text), (1...RecipeLimits.maxStages).contains(steps) else {
            throw fail(line: line(stepsNode), "'steps' is '\(text)'; expected a whole number from 1 to \(RecipeLimits.maxStages)")
        }
        var curve = Schedule.Curve.cubic
        if let curveNode = map["curve"] {
            let name = try string(curveNode, "'curve'")
            guard let parsed = Schedule.Curve(rawValue: name) else {
                throw fail(line: line(curveNode), "'curve' is '\(name)'; expected linear or cubic")
            }
            curve = parsed
        }
        return Schedule(steps: steps, curve: curve)
    }

    /// A component: `NAME:key=value,...` as a string, or a mapping with `name` and parameters.
    func spec(_ node: Node, _ key: String) throws -> ComponentSpec {
        switch node {
        case .scalar:
            do {
                return try ComponentSpec(parsing: try string(node, "'\(key)'"))
            } catch let error as PruneError {
                throw fail(line: line(node), "'\(key)': \(error.message)")
            }
        case .mapping(let map):
            var name: String?
            var arguments: [(key: String, value: String)] = []
            for (keyNode, valueNode) in map {
                let parameter = try string(keyNode, "a key of '\(key)'")
                guard case .scalar(let scalar) = valueNode else {
                    throw fail(line: line(valueNode), "'\(key)': the value of '\(parameter)' must be a single value")
                }
                if parameter == "name" { name = scalar.string } else { arguments.append((parameter, scalar.string)) }
            }
            guard let name, !name.isEmpty else {
                throw fail(line: line(node), "'\(key)' written as a mapping needs 'name'")
            }
            return ComponentSpec(name: name, arguments: arguments)
        default:
            throw fail(line: line(node), "'\(key)' must be NAME[:key=value,...] or a mapping with 'name'")
        }
    }

    func plugin(_ node: Node) throws -> Recipe.Plugin {
        if case .scalar = node { return Recipe.Plugin(path: try string(node, "a plugin")) }
        let map = try mapping(node, "a plugin entry")
        try checkKeys(map, allowed: RecipeReader.pluginKeys, in: "a plugin entry")
        guard let path = map["path"] else { throw fail(line: line(node), "a plugin entry needs 'path'") }
        let sha = try map["sha256"].map { try string($0, "'sha256'") }
        if let sha, let shaNode = map["sha256"],
            sha.count != 64 || !sha.allSatisfy({ $0.isHexDigit })
        {
            throw fail(line: line(shaNode), "'sha256' must be 64 hexadecimal digits")
        }
        return Recipe.Plugin(path: try string(path, "'path'"), sha256: sha?.lowercased())
    }

    func mapping(_ node: Node, _ what: String) throws -> Node.Mapping {
        guard case .mapping(let map) = node else { throw fail(line: line(node), "\(what) must be a mapping") }
        return map
    }

    func sequence(_ node: Node, _ what: String) throws -> [Node] {
        guard case .sequence(let items) = node else { throw fail(line: line(node), "\(what) must be a list") }
        return Array(items)
    }

    func string(_ node: Node, _ what: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw fail(line: line(node), "\(what) must be a single value") }
        return scalar.string
    }

    /// `true` or `false`.
    func flag(_ node: Node, _ what: String) throws -> Bool {
        let text = try string(node, what)
        guard let value = Bool(text) else { throw fail(line: line(node), "\(what) is '\(text)'; expected true or false") }
        return value
    }

    /// A string or a list of strings.
    func strings(_ node: Node, _ what: String) throws -> [String] {
        if case .scalar(let scalar) = node { return [scalar.string] }
        return try sequence(node, what).map { try string($0, "an entry of \(what)") }
    }

    func checkKeys(_ map: Node.Mapping, allowed: [String], in what: String) throws {
        var seen = Set<String>()
        for keyNode in map.keys {
            let key = try string(keyNode, "a key of \(what)")
            guard allowed.contains(key) else {
                throw fail(
                    line: line(keyNode),
                    "unknown key '\(key)' in \(what); allowed: \(allowed.joined(separator: ", "))")
            }
            guard seen.insert(key).inserted else { throw fail(line: line(keyNode), "'\(key)' is given twice") }
        }
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return 1
        }
    }

    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "\(error)"
        }
    }
}
