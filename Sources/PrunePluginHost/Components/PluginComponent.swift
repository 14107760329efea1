import CPrunePlugin
import Logging
import PruneCore

/// One registered plugin component with what every call needs: who it is, its prepared call, the logger.
struct PluginComponent: @unchecked Sendable {
    let identity: PluginIdentity
    let registration: Registration
    let logger: Logger
    let statistics: PluginStatisticsProvider?

    /// How messages name the component: `scorer 'fpgm' of plugin 'fpgm'`.
    var label: String { "\(registration.kind.rawValue) '\(registration.name)' of plugin '\(identity.name)'" }

    /// Fresh state for one call against `run`.
    func makeCallContext(run: PruneContext) -> CallContext {
        CallContext(
            plugin: identity, logger: logger, component: registration.name, kind: registration.kind, run: run,
            declaredStatistics: registration.statistics, statistics: statistics)
    }

    /// Calls the plugin function through libffi, serialized when the component asked for it.
    func invoke(_ request: UnsafeMutableRawPointer, arguments: FFIArguments, context: CallContext) -> Int32 {
        registration.gate?.lock()
        defer { registration.gate?.unlock() }
        return withExtendedLifetime(context) { registration.call.call(request: request, arguments: arguments) }
    }

    /// The error for a call that returned `status`, with the plugin's message.
    func callFailed(_ status: Int32, context: CallContext, on subject: String) -> PluginError {
        PluginError(
            .callFailed, path: identity.path,
            "\(label) failed on \(subject) (\(PluginStatus.name(status))): \(context.errorMessage ?? "no message")")
    }

    /// The error for output that breaks the contract.
    func invalidOutput(_ detail: String) -> PluginError {
        PluginError(.invalidOutput, path: identity.path, "\(label) \(detail)")
    }
}
