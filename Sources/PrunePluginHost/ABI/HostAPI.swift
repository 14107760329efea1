import CPrunePlugin
import Foundation
import Logging
import PruneCore

/// The function table handed to every plugin: built once, never freed.
///
/// Every entry is a capture-free `@convention(c)` function that finds its state through the `prune_context *`
/// argument. None of them traps on bad input from a plugin; they return a status and record a message instead.
enum HostAPI {
    /// The table, valid for the life of the process.
    nonisolated(unsafe) static let table: UnsafePointer<prune_host_api> = {
        let table = UnsafeMutablePointer<prune_host_api>.allocate(capacity: 1)
        table.initialize(
            to: prune_host_api(
                struct_size: UInt32(MemoryLayout<prune_host_api>.size),
                abi_major: UInt16(PRUNE_ABI_MAJOR), abi_minor: UInt16(PRUNE_ABI_MINOR),
                alloc: hostAlloc, free: hostFree, log: hostLog, set_error: hostSetError,
                register_scorer: registerScorer, register_selector: registerSelector,
                register_rewriter: registerRewriter, get_tensor: HostReads.getTensor,
                get_tensor_info: HostReads.getTensorInfo, get_statistic: HostReads.getStatistic,
                get_units: HostReads.getUnits, skip_target: HostOutputs.skipTarget,
                tensor_output: HostOutputs.tensorOutput))
        return UnsafePointer(table)
    }()

    private static let hostAlloc: @convention(c) (Int) -> UnsafeMutableRawPointer? = { size in
        var pointer: UnsafeMutableRawPointer?
        return posix_memalign(&pointer, 64, max(1, size)) == 0 ? pointer : nil
    }

    private static let hostFree: @convention(c) (UnsafeMutableRawPointer?) -> Void = { pointer in
        free(pointer)
    }

    private static let hostLog: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?) -> Void = {
        ctx, level, message in
        guard let context = HostContext.from(ctx), let message else { return }
        let logLevel: Logger.Level =
            switch level {
            case PRUNE_LOG_DEBUG: .debug
            case PRUNE_LOG_INFO: .info
            case PRUNE_LOG_WARNING: .warning
            default: .error
            }
        context.logger.log(
            level: logLevel, "\(String(cString: message))", metadata: ["plugin": .string(context.plugin.name)])
    }

    private static let hostSetError: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Void = {
        ctx, message in
        HostContext.from(ctx)?.errorMessage = message.map { String(cString: $0) } ?? "(no message)"
    }

    private static let registerScorer:
        @convention(c) (OpaquePointer?, UnsafePointer<prune_component>?) -> prune_status = { ctx, component in
            HostRegistration.register(.scorer, ctx, component)
        }

    private static let registerSelector:
        @convention(c) (OpaquePointer?, UnsafePointer<prune_component>?) -> prune_status = { ctx, component in
            HostRegistration.register(.selector, ctx, component)
        }

    private static let registerRewriter:
        @convention(c) (OpaquePointer?, UnsafePointer<prune_component>?) -> prune_status = { ctx, component in
            HostRegistration.register(.rewriter, ctx, component)
        }
}

/// `prune_status` names for messages.
enum PluginStatus {
    /// The macro name of `status`, or the number.
    static func name(_ status: Int32) -> String {
        switch status {
        case PRUNE_OK: "PRUNE_OK"
        case PRUNE_ERR_INVALID_ARGUMENT: "PRUNE_ERR_INVALID_ARGUMENT"
        case PRUNE_ERR_UNSUPPORTED: "PRUNE_ERR_UNSUPPORTED"
        case PRUNE_ERR_NOT_FOUND: "PRUNE_ERR_NOT_FOUND"
        case PRUNE_ERR_NO_MEMORY: "PRUNE_ERR_NO_MEMORY"
        case PRUNE_ERR_INVALID_STATE: "PRUNE_ERR_INVALID_STATE"
        case PRUNE_ERR_FAILED: "PRUNE_ERR_FAILED"
        default: "status \(status)"
        }
    }
}
