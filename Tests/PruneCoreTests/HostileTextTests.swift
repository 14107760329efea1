import Foundation
import Testing

@testable import PruneCore

/// Size checks and printable names shared by every reader (issue 12).
struct HostileTextTests {
    @Test("control characters and bidi overrides in names are escaped, plain names are unchanged")
    func controlCharactersEscaped() {
        #expect(PrintableText.escaped("conv1.weight") == "conv1.weight")
        #expect(PrintableText.escaped("a\nprune: error: forged") == "a\\nprune: error: forged")
        #expect(PrintableText.escaped("\u{1B}[31mred\t\u{7F}") == "\\u{1B}[31mred\\t\\u{7F}")
        #expect(PrintableText.escaped("x\u{202E}gnp.exe") == "x\\u{202E}gnp.exe")
        #expect(PrintableText.escaped("Gewichte_ü") == "Gewichte_ü")
    }

    @Test("allocation sizes never wrap: negative, overflowing and over-budget shapes are refused")
    func allocationBudget() throws {
        #expect(try AllocationBudget.byteCount(shape: [2, 3], elementSize: 4) == 24)
        #expect(throws: AllocationBudget.Refusal.negativeDimension(-1)) {
            try AllocationBudget.byteCount(shape: [2, -1], elementSize: 4)
        }
        #expect(throws: AllocationBudget.Refusal.overflow) {
            try AllocationBudget.byteCount(shape: [1 << 62], elementSize: 4)
        }
        #expect(throws: AllocationBudget.Refusal.overflow) {
            try AllocationBudget.byteCount(shape: [Int.max, 2], elementSize: 1)
        }
        #expect(throws: AllocationBudget.Refusal.self) {
            try AllocationBudget.byteCount(shape: [6, 8, 1_000_000_000_000], elementSize: 4)
        }
    }

    @Test("MappedFile refuses a FIFO without opening it for reading")
    func fifoRefused() throws {
        let url = FileManager.default.temporaryDirectory.appending(path: "prunekit-fifo-\(UUID().uuidString)")
        #expect(mkfifo(url.path, 0o600) == 0)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = #expect(throws: PruneError.self) { try MappedFile(url: url) }
        #expect(error?.message == "\(url.path): not a regular file (a FIFO)")
    }
}
