import Foundation

/// An error PruneKit reports to its user: a kind to match on and a one-line message that names the file, tensor,
/// component or parameter involved.
///
/// New kinds can be added without breaking code that matches on existing ones.
public struct PruneError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// What went wrong, broadly; compare with the static members.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// A short name for the kind.
        public var description: String { name }

        /// A file could not be opened, read or mapped.
        public static let fileUnreadable = Kind("file unreadable")
        /// A file's contents break its format's rules.
        public static let corruptFile = Kind("corrupt file")
        /// Valid input that PruneKit does not handle (a dtype, an operator, a layout).
        public static let unsupported = Kind("unsupported")
        /// Shapes, sizes or byte counts that do not agree.
        public static let shapeMismatch = Kind("shape mismatch")
        /// A scorer, selector or rewriter name that nothing registered.
        public static let unknownComponent = Kind("unknown component")
        /// A component given a parameter it does not take, of the wrong type, or out of range.
        public static let invalidParameter = Kind("invalid parameter")
        /// Two components registered under one name.
        public static let duplicateComponent = Kind("duplicate component")
        /// A pipeline stage whose patterns match no tensor.
        public static let noCandidates = Kind("no candidates")
        /// A component produced output that breaks its contract (wrong length, NaN).
        public static let invalidOutput = Kind("invalid output")
        /// An output file exists and overwriting was not allowed, or output and input are the same file.
        public static let outputExists = Kind("output exists")
        /// Writing an output failed.
        public static let writeFailed = Kind("write failed")
        /// Input that is well-formed but unusable as given (a bad pattern, an empty model).
        public static let invalidInput = Kind("invalid input")
        /// A component needs calibration data (statistics or batches) that was not supplied.
        public static let missingData = Kind("missing calibration data")
        /// A pruned model stayed below a required fidelity (the over-pruning guard), so nothing was written.
        public static let floorNotMet = Kind("fidelity floor not met")
    }

    /// What the user can change to get past the error, for front ends that know how their users ask for it.
    ///
    /// Library messages never name a command-line flag or recipe key; a front end (the CLI) maps a hint to its own
    /// words. New hints can be added without breaking code that matches on existing ones.
    public struct Hint: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// A short name for the hint.
        public var description: String { name }

        /// Score and select whole output units instead of single weights.
        public static let unitGranularity = Hint("unit granularity")
        /// Supply calibration batches (a component runs the model on them; saved statistics are not enough).
        public static let calibrationBatches = Hint("calibration batches")
        /// Supply calibration batches, or statistics saved from an earlier calibration.
        public static let calibrationData = Hint("calibration data")
        /// Allow an existing output file to be replaced.
        public static let allowOverwrite = Hint("allow overwrite")
        /// Use a statistics file written by an earlier calibration.
        public static let savedStatistics = Hint("saved statistics")
    }

    /// What went wrong, broadly.
    public let kind: Kind
    /// One line saying what went wrong and where.
    public let message: String
    /// What the user can change to get past it, when one thing does.
    public let hint: Hint?

    /// Creates an error of `kind` with a one-line `message` and, when one thing fixes it, a `hint`.
    public init(_ kind: Kind, _ message: String, hint: Hint? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    /// The message.
    public var description: String { message }
    /// The message, for `localizedDescription`.
    public var errorDescription: String? { message }
}
