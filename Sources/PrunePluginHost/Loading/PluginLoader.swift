import CPrunePlugin
import Foundation
import Logging
import PruneCore

/// Loads plugin shared libraries and registers their components in a ``ComponentRegistry``.
///
/// Loading is always explicit: a path, a recipe entry or a configured directory. For each file the loader
/// resolves the path, refuses files others can write (unless allowed) and files whose SHA-256 differs from a
/// pinned one, opens it (`RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE`, never unloaded), checks the descriptor's ABI
/// version and size before calling anything else, runs `init`, and registers what `init` registered — all of
/// it or, on any problem, none of it. Every failure is a ``PluginError`` naming the file.
public final class PluginLoader: Sendable {
    /// How files are checked and what components may read.
    public let options: PluginLoadOptions
    private let logger: Logger

    /// Creates a loader.
    public init(options: PluginLoadOptions = PluginLoadOptions(), logger: Logger = Logger(label: "prunekit.plugins")) {
        self.options = options
        self.logger = logger
    }

    /// Loads one plugin file and registers its components in `registry`.
    ///
    /// - Throws: ``PluginError`` naming the file: not found, insecure, checksum mismatch, not a shared library,
    ///   unresolved symbols, missing entry symbol, ABI mismatch (every differing field), invalid descriptor or
    ///   registration, init failed (with the plugin's message), or a duplicate name (naming both sources).
    public func load(_ reference: PluginReference, into registry: ComponentRegistry) throws -> LoadedPlugin {
        let path = try FileTrust.resolve(reference.path, relativeTo: reference.baseDirectory)
        try FileTrust.check(path, allowInsecure: options.allowInsecure)
        let digest = try SHA256.hex(ofFileAt: path)
        if let pinned = reference.sha256, pinned != digest {
            throw PluginError(
                .checksumMismatch, path: path, "SHA-256 is \(digest), but \(pinned) is pinned; refusing to load")
        }
        #if os(Linux)
            try ELFCheck.validate(path)
        #endif
        let library = try LibraryHandle(path: path)
        let descriptor = try PluginLoader.descriptor(of: library)
        let identity = PluginIdentity(name: descriptor.name, path: path)
        let registrations = try runInit(descriptor, identity: identity)
        try checkNames(registrations, identity: identity, registry: registry)
        var components: [LoadedPlugin.Component] = []
        for registration in registrations {
            let info = ComponentInfo(
                kind: registration.kind, name: registration.name, summary: registration.summary,
                signature: registration.signature, source: .plugin(path: path), version: descriptor.version)
            let component = PluginComponent(
                identity: identity, registration: registration, logger: logger, statistics: options.statistics)
            do {
                switch registration.kind {
                case .scorer: try registry.register(scorer: info) { try PluginScorer(component, $0) }
                case .selector: try registry.register(selector: info) { try PluginSelector(component, $0) }
                case .rewriter: try registry.register(rewriter: info) { try PluginRewriter(component, $0) }
                }
            } catch let error as PruneError where error.kind == .duplicateComponent {
                throw PluginError(.duplicateName, path: path, error.message)
            }
            components.append(
                LoadedPlugin.Component(info: info, statistics: registration.statistics, serial: registration.serial))
        }
        logger.debug(
            "loaded plugin",
            metadata: [
                "plugin": .string(descriptor.name), "path": .string(path),
                "components": .string(components.map(\.info.name).joined(separator: ",")),
            ])
        return LoadedPlugin(
            path: path, sha256: digest, name: descriptor.name, version: descriptor.version,
            description: descriptor.description, license: descriptor.license, abiMajor: descriptor.major,
            abiMinor: descriptor.minor, components: components)
    }

    /// Loads every plugin in `references` and in the `directories`, each resolved file once, in order.
    ///
    /// - Throws: the first ``PluginError``.
    public func loadAll(
        _ references: [PluginReference], directories: [String] = [], into registry: ComponentRegistry
    ) throws -> [LoadedPlugin] {
        var all = references
        for directory in directories {
            all += try PluginSearchPath.libraries(in: directory, options: options, logger: logger)
        }
        var seen = Set<String>()
        var loaded: [LoadedPlugin] = []
        for reference in all {
            let path = try FileTrust.resolve(reference.path, relativeTo: reference.baseDirectory)
            guard seen.insert(path).inserted else {
                logger.debug("plugin listed twice; loading it once", metadata: ["path": .string(path)])
                continue
            }
            loaded.append(try load(reference, into: registry))
        }
        return loaded
    }

    /// What a descriptor says, once checked.
    struct Descriptor {
        let name: String
        let version: String
        let description: String
        let license: String
        let major: Int
        let minor: Int
        let initFunction: @convention(c) (UnsafePointer<prune_host_api>?, OpaquePointer?) -> prune_status
    }

    /// Finds the entry symbol, checks the descriptor's version and size, then reads it.
    static func descriptor(of library: LibraryHandle) throws -> Descriptor {
        let path = library.path
        guard let symbol = library.symbol(PRUNE_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginError(
                .missingEntry, path: path,
                "does not export '\(PRUNE_PLUGIN_ENTRY_SYMBOL)'; a PruneKit plugin defines it (C: PRUNE_PLUGIN_EXPORT, Swift: @_cdecl)"
            )
        }
        let entry = unsafeBitCast(symbol, to: prune_plugin_entry_fn.self)
        guard let pointer = entry() else {
            throw PluginError(.invalidDescriptor, path: path, "\(PRUNE_PLUGIN_ENTRY_SYMBOL)() returned NULL")
        }
        let header = DescriptorCheck.Header(reading: UnsafeRawPointer(pointer))
        let problems = DescriptorCheck.mismatches(header)
        guard problems.isEmpty else {
            throw PluginError(.abiMismatch, path: path, "ABI mismatch: " + problems.joined(separator: "; "))
        }
        let raw = pointer.pointee
        func text(_ field: UnsafePointer<CChar>?) -> String { field.map { String(cString: $0) } ?? "" }
        let name = text(raw.name)
        guard !name.isEmpty else { throw PluginError(.invalidDescriptor, path: path, "the descriptor has no name") }
        guard let initFunction = raw.`init` else {
            throw PluginError(.invalidDescriptor, path: path, "plugin '\(name)' has no init function")
        }
        return Descriptor(
            name: name, version: text(raw.version), description: text(raw.description), license: text(raw.license),
            major: header.major, minor: header.minor, initFunction: initFunction)
    }

    private func runInit(_ descriptor: Descriptor, identity: PluginIdentity) throws -> [Registration] {
        let context = InitContext(plugin: identity, logger: logger)
        let status = withExtendedLifetime(context) { descriptor.initFunction(HostAPI.table, context.opaque) }
        let path = identity.path
        guard status == PRUNE_OK else {
            throw PluginError(
                .initFailed, path: path,
                "init of plugin '\(identity.name)' failed (\(PluginStatus.name(status))): \(context.errorMessage ?? "no message")"
            )
        }
        guard context.registrationErrors.isEmpty else {
            throw PluginError(
                .invalidDescriptor, path: path,
                "plugin '\(identity.name)': " + context.registrationErrors.joined(separator: "; "))
        }
        guard !context.registrations.isEmpty else {
            throw PluginError(.invalidDescriptor, path: path, "plugin '\(identity.name)' registered no components")
        }
        return context.registrations
    }

    /// Checks every name before registering any, so a failed load leaves the registry as it was.
    private func checkNames(_ registrations: [Registration], identity: PluginIdentity, registry: ComponentRegistry)
        throws
    {
        var seen = Set<String>()
        for registration in registrations {
            let kind = registration.kind.rawValue
            guard seen.insert("\(kind)/\(registration.name)").inserted else {
                throw PluginError(
                    .duplicateName, path: identity.path,
                    "plugin '\(identity.name)' registers \(kind) '\(registration.name)' twice")
            }
            if let existing = registry.info(registration.kind, named: registration.name) {
                throw PluginError(
                    .duplicateName, path: identity.path,
                    "\(kind) '\(registration.name)' of plugin '\(identity.name)' is already registered by \(existing.source)"
                )
            }
        }
    }
}
