import Foundation
import PruneTestSupport
import Testing

/// `prune plugins check` runs the checks in a child process: a plugin that crashes, hangs or exits is reported.
@Suite("Isolated plugin checks", .serialized)
struct IsolatedCheckTests {
    /// `prune plugins check` on the hostile fixture with `HOSTILE_MODE=mode`.
    static func check(_ mode: String) throws -> PruneBinary.Outcome {
        let library = try TestPlugins.fixture("hostile_scorers")
        setenv("HOSTILE_MODE", mode, 1)
        defer { unsetenv("HOSTILE_MODE") }
        return try PruneBinary.run(["plugins", "check", library, "--timeout", "3"])
    }

    @Test("a scorer that dereferences NULL is reported as a SIGSEGV in that scorer")
    func crashReported() throws {
        let outcome = try Self.check("crash")
        #expect(outcome.status == 1)
        #expect(outcome.stdout.contains("FAIL scorer hostile: element target layer.weight [4, 3]: crashed with SIGSEGV\n"))
    }

    @Test("a scorer that never returns is stopped after the time limit")
    func hangReported() throws {
        let outcome = try Self.check("hang")
        #expect(outcome.status == 1)
        #expect(outcome.stdout.contains("FAIL scorer hostile: element target layer.weight [4, 3]: did not return within 3 s"))
    }

    @Test("a scorer that calls exit(0) fails the check instead of passing silently")
    func exitReported() throws {
        let outcome = try Self.check("exit")
        #expect(outcome.status == 1)
        #expect(outcome.stdout.contains("FAIL scorer hostile: element target layer.weight [4, 3]: ended the process (exit status 0) instead of returning"))
    }

    @Test("a scorer that writes into its read-only tensor view fails the check, naming the tensor")
    func readOnlyWriteReported() throws {
        let outcome = try Self.check("write")
        #expect(outcome.status == 1)
        #expect(
            outcome.stdout.contains(
                "FAIL scorer hostile: element target layer.weight [4, 3]: wrote into the read-only view of 'layer.weight'"))
    }

    @Test("a well-behaved plugin passes in the child as it does in process")
    func wellBehavedPasses() throws {
        let outcome = try Self.check("none")
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("checks passed"))
    }
}
