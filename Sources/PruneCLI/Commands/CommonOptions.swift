import ArgumentParser
import PruneKit

extension PruneTarget.Granularity: ExpressibleByArgument {}
extension TensorStorage: ExpressibleByArgument {}

/// `--threads`, for every command that scans or runs a model.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for scans (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var threadCount: Int { threads ?? ParallelFor.defaultThreads }
}

/// `--threads` and `--seed`, for commands that prune (`inspect` has nothing random, so no seed).
struct ExecutionOptions: ParsableArguments {
    @OptionGroup var threading: ThreadOptions

    @Option(help: "Seed for anything random (sampling, the random scorer).")
    var seed: UInt64 = 0

    var threadCount: Int { threading.threadCount }
}
