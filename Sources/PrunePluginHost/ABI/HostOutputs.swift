import CPrunePlugin
import PruneCore

/// The host functions through which selectors and rewriters hand back results beyond their request buffers.
enum HostOutputs {
    static let skipTarget: @convention(c) (OpaquePointer?, Int64, UnsafePointer<CChar>?) -> prune_status = {
        ctx, index, reason in
        guard let context = HostContext.from(ctx) else { return PRUNE_ERR_INVALID_ARGUMENT }
        guard let call = context as? CallContext, call.kind == .selector else {
            return context.fail(PRUNE_ERR_INVALID_STATE, "skip_target is only allowed during a selector call")
        }
        guard index >= 0, index < call.targetCount else {
            return call.fail(
                PRUNE_ERR_INVALID_ARGUMENT, "skip_target: index \(index) outside 0..<\(call.targetCount)")
        }
        call.skips[Int(index)] = reason.map { String(cString: $0) } ?? "skipped by \(call.component)"
        return PRUNE_OK
    }

    static let tensorOutput:
        @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<Int64>?) -> UnsafeMutablePointer<
            Float
        >? = { ctx, name, count in
            guard let context = HostContext.from(ctx) else { return nil }
            guard let call = context as? CallContext, call.kind == .rewriter else {
                _ = context.fail(PRUNE_ERR_INVALID_STATE, "tensor_output is only allowed during a rewriter call")
                return nil
            }
            guard let name else {
                _ = call.fail(PRUNE_ERR_INVALID_ARGUMENT, "tensor_output: NULL name")
                return nil
            }
            let key = String(cString: name)
            if let existing = call.outputs[key] {
                count?.pointee = Int64(existing.count)
                return existing.baseAddress
            }
            guard let parameter = call.run.model[key] else {
                _ = call.fail(PRUNE_ERR_NOT_FOUND, "tensor_output: the model has no parameter '\(key)'")
                return nil
            }
            let elements = parameter.tensor.elementCount
            let buffer = UnsafeMutableBufferPointer(
                start: call.arena.allocate(Float.self, count: elements), count: elements)
            parameter.tensor.withFloatValues { values in
                if let source = values.baseAddress { buffer.baseAddress!.initialize(from: source, count: elements) }
            }
            call.outputs[key] = buffer
            call.outputOrder.append(key)
            count?.pointee = Int64(elements)
            return buffer.baseAddress
        }
}
