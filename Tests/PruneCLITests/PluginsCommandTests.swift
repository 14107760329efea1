import ArgumentParser
import Foundation
import Logging
import PruneCore

import PruneTestSupport
import Testing

@testable import PruneCLI
@testable import PrunePluginHost

/// `prune plugins list/info/check`, parsed from arguments and rendered in-process.
@Suite struct PluginsCommandTests {
    private func parse<T: ParsableCommand>(_ arguments: [String], as type: T.Type) throws -> T {
        try #require(try PluginsCommand.parseAsRoot(arguments) as? T)
    }

    @Test func pluginOptionsParse() throws {
        let command = try parse(
            ["list", "--plugin", "a.so", "--plugin", "b.so", "--allow-insecure-plugins"], as: PluginsListCommand.self)
        #expect(command.plugins.paths == ["a.so", "b.so"])
        #expect(command.plugins.allowInsecurePlugins)
        #expect(try PluginsCommand.parseAsRoot([]) is PluginsListCommand)
    }

    @Test func listShowsNameKindSourceVersionAndParameters() throws {
        let command = try parse(
            ["list", "--plugin", TestPlugins.fpgm, "--plugin", TestPlugins.kmeans], as: PluginsListCommand.self)
        let lines = try command.render(environment: [:]).split(separator: "\n").map(String.init)
        // A header, the two plugins, and every built-in (the base registry is the standard one).
        #expect(lines.count == 3 + PluginsCommand.baseRegistry().components.count)
        #expect(lines.contains { $0.hasPrefix("magnitude ") && $0.contains("built-in") })
        #expect(lines[0].hasPrefix("NAME"))
        #expect(lines[0].contains("PARAMETERS"))
        let fpgm = try #require(lines.first { $0.hasPrefix("fpgm ") })
        #expect(fpgm.contains("scorer"))
        #expect(fpgm.contains(try FileTrust.resolve(TestPlugins.fpgm)))
        #expect(fpgm.contains("1.0.0"))
        #expect(fpgm.hasSuffix("p:f64[1..]=2"))
        #expect(lines.contains { $0.hasPrefix("kmeans ") && $0.contains("k:i64[1..]=8") })
    }

    @Test func listLoadsThePluginPathDirectories() throws {
        let folder = try TestPlugins.folder("cli-path")
        try FileManager.default.copyItem(
            atPath: TestPlugins.kmeans, toPath: folder.appendingPathComponent("libkmeans.so").path)
        let command = try parse(["list"], as: PluginsListCommand.self)
        let text = try command.render(environment: ["PRUNE_PLUGIN_PATH": folder.path])
        #expect(text.contains("kmeans "))
        #expect(text.contains(folder.path))
    }

    @Test func listFailsNamingABrokenPlugin() throws {
        let path = try TestPlugins.fixture("failing_init")
        let command = try parse(["list", "--plugin", path], as: PluginsListCommand.self)
        let error = try #require(throws: PluginError.self) { try command.render(environment: [:]) }
        #expect(error.message.contains(path))
        #expect(error.message.contains("license server unreachable"))
    }

    @Test func infoShowsDescriptionLicenseAndParameters() throws {
        let command = try parse(["info", "fpgm", "--plugin", TestPlugins.fpgm], as: PluginsInfoCommand.self)
        let text = try command.render(environment: [:])
        #expect(text.hasPrefix("fpgm (scorer)\n"))
        #expect(text.contains("geometric median"))
        #expect(text.contains("license Apache-2.0"))
        #expect(text.contains("signature:   p:f64[1..]=2"))
        #expect(text.contains("p  f64  in [1..]  default 2"))
        #expect(text.contains("usage:       --scorer fpgm:p=2"))
    }

    @Test func infoOnAPluginNameListsItsComponents() throws {
        let path = try TestPlugins.fixture("selector_rewriter")
        let command = try parse(["info", "fixture-select-rewrite", "--plugin", path], as: PluginsInfoCommand.self)
        let text = try command.render(environment: [:])
        #expect(text.hasPrefix("fixture-select-rewrite 0.1 (plugin)"))
        #expect(text.contains("cut (selector), bad-flags (selector), zero-scale (rewriter)"))
        #expect(text.contains("license:     MIT"))
    }

    @Test func infoOnAnUnknownName() throws {
        let command = try parse(["info", "nothing-like-this"], as: PluginsInfoCommand.self)
        let error = try #require(throws: PluginsCommandError.self) { try command.render(environment: [:]) }
        #expect(error.description.contains("'nothing-like-this'"))
    }

    @Test func checkPassesTheExamplePlugins() throws {
        for path in [TestPlugins.fpgm, TestPlugins.kmeans] {
            let (text, passed) = try parse(["check", path], as: PluginsCheckCommand.self).render()
            #expect(passed, "\(text)")
            #expect(text.contains("ok   scorer"))
            #expect(text.contains("group target"))
            #expect(text.hasSuffix("conformance: all 7 checks passed\n"))
        }
    }

    @Test func checkReportsBrokenComponents() throws {
        let path = try TestPlugins.fixture("scorers")
        let (text, passed) = try parse(["check", path], as: PluginsCheckCommand.self).render()
        #expect(!passed)
        #expect(text.contains("FAIL scorer nan-scorer: element target layer.weight [4, 3]: scorer 'nan-scorer'"))
        #expect(text.contains("FAIL scorer short-scorer"))
        #expect(text.contains("ok   scorer echo: unit target"))
        #expect(text.contains("ok   scorer stats: element target"))  // synthetic statistics are supplied
    }

    @Test func checkRunsSelectorsAndRewriters() throws {
        let path = try TestPlugins.fixture("selector_rewriter")
        let (text, passed) = try parse(["check", path], as: PluginsCheckCommand.self).render()
        #expect(!passed)
        #expect(text.contains("ok   selector cut"))
        #expect(text.contains("FAIL selector bad-flags"))
        #expect(text.contains("ok   rewriter zero-scale"))
        #expect(text.contains("FAIL rewriter nan-rewriter"))
        #expect(text.hasSuffix("conformance: 2 of 6 checks failed\n"))
    }

    @Test func checkReportsLoadFailures() throws {
        let path = try TestPlugins.fixture("bad_major")
        let (text, passed) = try parse(["check", path], as: PluginsCheckCommand.self).render()
        #expect(!passed)
        #expect(text.contains("checking \(path)"))
        #expect(text.contains("FAIL loads: ABI mismatch: abi_major is 2"))
    }
}

/// `PluginOptions.loadPlugins` combines `--plugin`, recipe entries and `PRUNE_PLUGIN_PATH`.
@Suite struct PluginOptionsTests {
    @Test func recipeEntriesResolveAgainstTheRecipeAndHonourPins() throws {
        let folder = try TestPlugins.folder("recipe")
        try FileManager.default.copyItem(
            atPath: TestPlugins.fpgm, toPath: folder.appendingPathComponent("libfpgm.so").path)
        let digest = try SHA256.hex(ofFileAt: folder.appendingPathComponent("libfpgm.so").path)
        let options = try PluginOptions.parse(["--plugin", TestPlugins.kmeans])

        let registry = ComponentRegistry()
        let loaded = try options.loadPlugins(
            into: registry, logger: Logger(label: "tests"),
            recipe: [PluginReference(path: "libfpgm.so", sha256: digest, relativeTo: folder)], environment: [:])
        #expect(loaded.map(\.name) == ["kmeans", "fpgm"])
        #expect(registry.components.map(\.name) == ["kmeans", "fpgm"])

        let pinned = PluginReference(path: "libfpgm.so", sha256: String(digest.reversed()), relativeTo: folder)
        let error = try #require(throws: PluginError.self) {
            try PluginOptions.parse([]).loadPlugins(
                into: ComponentRegistry(), logger: Logger(label: "tests"), recipe: [pinned], environment: [:])
        }
        #expect(error.kind == .checksumMismatch)
    }
}
