import Foundation
import PruneCore
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// Every way loading can fail is a clean ``PluginError`` that names the file — and leaves the registry untouched.
@Suite struct LoadErrorTests {
    private func loadError(_ path: String, into registry: ComponentRegistry = ComponentRegistry()) throws -> PluginError
    {
        try #require(throws: PluginError.self) { try TestPlugins.load(path, into: registry) }
    }

    @Test func missingFileIsNotFound() throws {
        let path = TestPlugins.scratch.appendingPathComponent("nothing-here.so").path
        let error = try loadError(path)
        #expect(error.kind == .notFound)
        #expect(error.message.contains(path))
    }

    @Test func relativePathsResolveToAbsolute() throws {
        let name = "definitely-missing-\(UUID().uuidString).so"
        let error = try loadError(name)
        #expect(error.path.hasPrefix("/"))
        #expect(error.path.hasSuffix(name))
    }

    @Test func textFileIsNotASharedLibrary() throws {
        let path = try TestPlugins.folder("text").appendingPathComponent("libtext.so").path
        try "not an ELF file\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = try loadError(path)
        #expect(error.kind == .notSharedLibrary)
        #expect(error.message.contains(path))
    }

    @Test func directoryIsNotASharedLibrary() throws {
        let path = try TestPlugins.folder("dir").path
        let error = try loadError(path)
        #expect(error.kind == .notSharedLibrary)
        #expect(error.message.contains(path))
    }

    @Test func unresolvedSymbolsAreNamed() throws {
        let path = try TestPlugins.fixture("unresolved")
        let error = try loadError(path)
        #expect(error.kind == .unresolvedSymbols)
        #expect(error.message.contains(path))
        #expect(error.message.contains("prune_fixture_missing_symbol"))
    }

    @Test func missingEntrySymbol() throws {
        let path = try TestPlugins.fixture("no_entry")
        let error = try loadError(path)
        #expect(error.kind == .missingEntry)
        #expect(error.message.contains(path))
        #expect(error.message.contains("prune_plugin_entry"))
    }

    /// The fixture's init aborts, so passing this test also proves init never ran.
    @Test func wrongMajorListsEveryDifferingField() throws {
        let path = try TestPlugins.fixture("bad_major")
        let error = try loadError(path)
        #expect(error.kind == .abiMismatch)
        #expect(error.message.contains(path))
        #expect(error.message.contains("abi_major is 2, this host supports 1"))
        let size = DescriptorCheck.descriptorSizes[0]
        #expect(error.message.contains("struct_size is \(size + 8)"))
    }

    @Test func newerMinorIsRefusedBeforeInit() throws {
        let path = try TestPlugins.fixture("newer_minor")
        let error = try loadError(path)
        #expect(error.kind == .abiMismatch)
        #expect(error.message.contains(path))
        #expect(error.message.contains("abi_minor is 1, newer than this host's 0"))
        #expect(!error.message.contains("struct_size"))
    }

    @Test func failingInitReportsThePluginsMessageAndRegistersNothing() throws {
        let registry = ComponentRegistry()
        let path = try TestPlugins.fixture("failing_init")
        let error = try loadError(path, into: registry)
        #expect(error.kind == .initFailed)
        #expect(error.message.contains(path))
        #expect(error.message.contains("license server unreachable"))
        #expect(error.message.contains("PRUNE_ERR_FAILED"))
        #expect(registry.components.isEmpty)
    }

    @Test func badSignatureIsRefusedEvenWhenInitIgnoresTheStatus() throws {
        let path = try TestPlugins.fixture("bad_signature")
        let error = try loadError(path)
        #expect(error.kind == .invalidDescriptor)
        #expect(error.message.contains(path))
        #expect(error.message.contains("badsig"))
        #expect(error.message.contains("unknown type 'float'"))
    }

    @Test func duplicateOfAnotherPluginNamesBothFiles() throws {
        let registry = ComponentRegistry()
        try TestPlugins.load(TestPlugins.fpgm, into: registry)
        let path = try TestPlugins.fixture("duplicate")
        let error = try loadError(path, into: registry)
        #expect(error.kind == .duplicateName)
        #expect(error.message.contains(path))
        #expect(error.message.contains("scorer 'fpgm'"))
        #expect(error.message.contains(try FileTrust.resolve(TestPlugins.fpgm)))
        #expect(registry.components.count == 1)
    }

    @Test func duplicateOfABuiltinSaysBuiltIn() throws {
        let registry = ComponentRegistry()
        try registry.register(
            scorer: ComponentInfo(kind: .scorer, name: "fpgm", summary: "", signature: .none, source: .builtin)
        ) { _ in FixedScorer() }
        let path = try TestPlugins.fixture("duplicate")
        let error = try loadError(path, into: registry)
        #expect(error.kind == .duplicateName)
        #expect(error.message.contains(path))
        #expect(error.message.contains("already registered by built-in"))
    }
}

/// A stand-in built-in.
struct FixedScorer: Scorer {
    func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        Scores([Float](repeating: 1, count: target.scoreCount))
    }
}
