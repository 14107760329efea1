import ArgumentParser
import PruneKit

extension PruneTarget.Granularity: ExpressibleByArgument {}

/// Options every command that reads a model shares.
struct ExecutionOptions: ParsableArguments {
    @Option(help: "Threads for scans (default: all cores).")
    var threads: Int?

    @Option(help: "Seed for anything random (sampling, the random scorer).")
    var seed: UInt64 = 0

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var threadCount: Int { threads ?? ParallelFor.defaultThreads }
}
