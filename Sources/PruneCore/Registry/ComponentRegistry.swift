import Foundation

/// The three kinds of pipeline component.
public enum ComponentKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A ``Scorer``.
    case scorer
    /// A ``Selector``.
    case selector
    /// A ``Rewriter``.
    case rewriter
}

/// Where a registered component comes from, for listings and duplicate-name errors.
public enum ComponentSource: Sendable, Hashable, CustomStringConvertible {
    /// Shipped with PruneKit.
    case builtin
    /// Loaded from a shared library at `path`.
    case plugin(path: String)
    /// Registered by the embedding program's own code.
    case code(String)

    /// A short human-readable form.
    public var description: String {
        switch self {
        case .builtin: "built-in"
        case .plugin(let path): "plugin \(path)"
        case .code(let label): label
        }
    }
}

/// What a listing shows about a registered component.
public struct ComponentInfo: Sendable, Hashable {
    /// Scorer, selector or rewriter.
    public let kind: ComponentKind
    /// The name users write.
    public let name: String
    /// One line saying what it does.
    public let summary: String
    /// The parameters it takes.
    public let signature: ParameterSignature
    /// Where it comes from.
    public let source: ComponentSource
    /// Its version, when it has one of its own (plugins do).
    public let version: String?

    /// Creates a description.
    public init(
        kind: ComponentKind, name: String, summary: String, signature: ParameterSignature,
        source: ComponentSource, version: String? = nil
    ) {
        self.kind = kind
        self.name = name
        self.summary = summary
        self.signature = signature
        self.source = source
        self.version = version
    }
}

/// Maps `kind/name` to a factory that builds a configured component from checked parameters.
///
/// Built-ins, components registered in code and plugins all go through the same `register` calls, so they
/// are listed, configured and validated alike. Registering a name twice for one kind is an error that names
/// both sources. Thread-safe.
public final class ComponentRegistry: @unchecked Sendable {
    private enum Factory {
        case scorer(@Sendable (ParameterValues) throws -> any Scorer)
        case selector(@Sendable (ParameterValues) throws -> any Selector)
        case rewriter(@Sendable (ParameterValues) throws -> any Rewriter)
    }

    private struct Entry {
        let info: ComponentInfo
        let factory: Factory
    }

    private let lock = NSLock()
    private var entries: [ComponentKind: [String: Entry]] = [:]
    private var order: [ComponentInfo] = []

    /// Creates an empty registry (see `ComponentRegistry.standard()` in PruneKit for one with the built-ins).
    public init() {}

    /// Registers a scorer factory under `info.name`.
    ///
    /// - Throws: `PruneError.Kind.duplicateComponent` naming both sources when the name is taken.
    public func register(scorer info: ComponentInfo, make: @escaping @Sendable (ParameterValues) throws -> any Scorer)
        throws
    {
        try add(Entry(info: info.with(kind: .scorer), factory: .scorer(make)))
    }

    /// Registers a selector factory under `info.name`.
    ///
    /// - Throws: `PruneError.Kind.duplicateComponent` naming both sources when the name is taken.
    public func register(
        selector info: ComponentInfo, make: @escaping @Sendable (ParameterValues) throws -> any Selector
    ) throws {
        try add(Entry(info: info.with(kind: .selector), factory: .selector(make)))
    }

    /// Registers a rewriter factory under `info.name`.
    ///
    /// - Throws: `PruneError.Kind.duplicateComponent` naming both sources when the name is taken.
    public func register(
        rewriter info: ComponentInfo, make: @escaping @Sendable (ParameterValues) throws -> any Rewriter
    ) throws {
        try add(Entry(info: info.with(kind: .rewriter), factory: .rewriter(make)))
    }

    /// Every registered component, in registration order.
    public var components: [ComponentInfo] {
        lock.withLock { order }
    }

    /// The component of `kind` called `name`, if registered.
    public func info(_ kind: ComponentKind, named name: String) -> ComponentInfo? {
        lock.withLock { entries[kind]?[name]?.info }
    }

    /// Builds the scorer `spec` names, with its parameters checked.
    ///
    /// - Throws: `PruneError` for an unknown name or bad parameters, and whatever the factory throws.
    public func makeScorer(_ spec: ComponentSpec) throws -> any Scorer {
        let (entry, values) = try resolve(.scorer, spec)
        guard case .scorer(let make) = entry.factory else { preconditionFailure("scorer entry without scorer factory") }
        return try make(values)
    }

    /// Builds the selector `spec` names, with its parameters checked.
    ///
    /// - Throws: `PruneError` for an unknown name or bad parameters, and whatever the factory throws.
    public func makeSelector(_ spec: ComponentSpec) throws -> any Selector {
        let (entry, values) = try resolve(.selector, spec)
        guard case .selector(let make) = entry.factory else { preconditionFailure("selector entry without factory") }
        return try make(values)
    }

    /// Builds the rewriter `spec` names, with its parameters checked.
    ///
    /// - Throws: `PruneError` for an unknown name or bad parameters, and whatever the factory throws.
    public func makeRewriter(_ spec: ComponentSpec) throws -> any Rewriter {
        let (entry, values) = try resolve(.rewriter, spec)
        guard case .rewriter(let make) = entry.factory else { preconditionFailure("rewriter entry without factory") }
        return try make(values)
    }

    private func add(_ entry: Entry) throws {
        try lock.withLock {
            let kind = entry.info.kind
            if let existing = entries[kind]?[entry.info.name] {
                throw PruneError(
                    .duplicateComponent,
                    "\(kind.rawValue) '\(entry.info.name)' from \(entry.info.source) is already registered by \(existing.info.source)"
                )
            }
            entries[kind, default: [:]][entry.info.name] = entry
            order.append(entry.info)
        }
    }

    private func resolve(_ kind: ComponentKind, _ spec: ComponentSpec) throws -> (Entry, ParameterValues) {
        let entry: Entry? = lock.withLock { entries[kind]?[spec.name] }
        guard let entry else {
            let known = lock.withLock { (entries[kind] ?? [:]).keys.sorted() }
            let suggestion = NameSuggestion.closest(to: spec.name, among: known).map { " (did you mean '\($0)'?)" } ?? ""
            throw PruneError(
                .unknownComponent,
                "unknown \(kind.rawValue) '\(spec.name)'\(suggestion); known \(kind.rawValue)s: "
                    + known.joined(separator: ", "))
        }
        let values = try entry.info.bind(spec.arguments)
        return (entry, values)
    }
}

extension ComponentInfo {
    fileprivate func with(kind: ComponentKind) -> ComponentInfo {
        ComponentInfo(kind: kind, name: name, summary: summary, signature: signature, source: source, version: version)
    }
}
