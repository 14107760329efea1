import CPrunePlugin
import Foundation
import Logging
import PruneCore

/// Which plugin a piece of host state belongs to, for messages and logs.
struct PluginIdentity: Sendable, Hashable {
    /// The name from the descriptor.
    let name: String
    /// The absolute path of the file.
    let path: String
}

/// The state behind a `prune_context *`: one per `init` call and one per component call.
///
/// Handed to the plugin unretained; the host keeps it alive until the init or call returns.
class HostContext {
    let plugin: PluginIdentity
    let logger: Logger
    /// The last message the plugin set with `set_error`.
    var errorMessage: String?

    init(plugin: PluginIdentity, logger: Logger) {
        self.plugin = plugin
        self.logger = logger
    }

    /// The opaque pointer handed to the plugin; valid while `self` is alive.
    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    /// The context behind a pointer the plugin passed back.
    static func from(_ pointer: OpaquePointer?) -> HostContext? {
        guard let pointer else { return nil }
        return Unmanaged<HostContext>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// Records `message` as the current error and returns `status`.
    func fail(_ status: Int32, _ message: String) -> Int32 {
        errorMessage = message
        return status
    }
}

/// One component a plugin registered during `init`, checked and with its libffi call prepared.
struct Registration: @unchecked Sendable {
    let kind: ComponentKind
    let name: String
    let summary: String
    let signature: ParameterSignature
    let statistics: [String]
    let serial: Bool
    let call: FFICallDescription
    /// Held around every call of a component that asked to be called from one thread at a time.
    let gate: NSLock?
}

/// The state of one `init` call: what the plugin registered and what went wrong.
final class InitContext: HostContext {
    var registrations: [Registration] = []
    /// Registration problems, kept even if `init` ignores the status it got back.
    var registrationErrors: [String] = []
}

/// The state of one component call: the run's context and the call's outputs.
final class CallContext: HostContext {
    let component: String
    let kind: ComponentKind
    let run: PruneContext
    let declaredStatistics: [String]
    let statistics: PluginStatisticsProvider?
    let arena = CallArena()
    /// Scorers: the target, for `get_units`.
    var scoringTarget: (target: PruneTarget, unitView: prune_tensor_view?)?
    /// Selectors: how many targets there are, and the reasons for skipped ones.
    var targetCount = 0
    var skips: [Int: String] = [:]
    /// Rewriters: writable copies of parameters, by name.
    var outputs: [String: UnsafeMutableBufferPointer<Float>] = [:]
    var outputOrder: [String] = []

    init(
        plugin: PluginIdentity, logger: Logger, component: String, kind: ComponentKind, run: PruneContext,
        declaredStatistics: [String], statistics: PluginStatisticsProvider?
    ) {
        self.component = component
        self.kind = kind
        self.run = run
        self.declaredStatistics = declaredStatistics
        self.statistics = statistics
        super.init(plugin: plugin, logger: logger)
    }
}
