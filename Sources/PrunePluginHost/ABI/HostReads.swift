import CPrunePlugin
import PruneCore

/// The host functions that let a component read the run: tensors, their roles, statistics, the unit matrix.
enum HostReads {
    /// The size of `prune_tensor_info` in ABI 1.0.
    static let tensorInfoSize1_0 = MemoryLayout<prune_tensor_info>.size

    static let getTensor:
        @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<prune_tensor_view>?) ->
            prune_status = { ctx, name, out in
                guard let context = HostContext.from(ctx) else { return PRUNE_ERR_INVALID_ARGUMENT }
                guard let call = context as? CallContext else {
                    return context.fail(PRUNE_ERR_INVALID_STATE, "get_tensor is only allowed during a component call")
                }
                guard let name, let out else {
                    return call.fail(PRUNE_ERR_INVALID_ARGUMENT, "get_tensor: NULL argument")
                }
                let key = String(cString: name)
                guard let parameter = call.run.model[key] else {
                    return call.fail(PRUNE_ERR_NOT_FOUND, "get_tensor: the model has no parameter '\(key)'")
                }
                out.pointee = TensorViews.view(of: parameter.tensor, name: key, in: call.arena)
                return PRUNE_OK
            }

    static let getTensorInfo:
        @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<prune_tensor_info>?) ->
            prune_status = { ctx, name, out in
                guard let context = HostContext.from(ctx) else { return PRUNE_ERR_INVALID_ARGUMENT }
                guard let call = context as? CallContext else {
                    return context.fail(
                        PRUNE_ERR_INVALID_STATE, "get_tensor_info is only allowed during a component call")
                }
                guard let name, let out else {
                    return call.fail(PRUNE_ERR_INVALID_ARGUMENT, "get_tensor_info: NULL argument")
                }
                guard (tensorInfoSize1_0...maximumStructSize).contains(Int(out.pointee.struct_size)) else {
                    return call.fail(
                        PRUNE_ERR_INVALID_ARGUMENT,
                        "get_tensor_info: struct_size is \(out.pointee.struct_size), expected \(tensorInfoSize1_0)...\(maximumStructSize)"
                    )
                }
                let key = String(cString: name)
                guard let parameter = call.run.model[key] else {
                    return call.fail(PRUNE_ERR_NOT_FOUND, "get_tensor_info: the model has no parameter '\(key)'")
                }
                let shape = parameter.tensor.shape
                let layout = TensorViews.layout(of: parameter)
                // Only the 1.0 fields: a newer plugin's larger struct keeps whatever it put past them.
                out.pointee.role = layout == nil ? PRUNE_ROLE_OTHER : PRUNE_ROLE_WEIGHT
                out.pointee.rank = Int32(shape.count)
                out.pointee.output_axis = layout.map { Int32($0.outputAxis) } ?? -1
                out.pointee.input_axis = layout.map { Int32($0.inputAxis) } ?? -1
                out.pointee.output_dim = layout.map { Int64(shape[$0.outputAxis]) } ?? 0
                out.pointee.input_dim = layout.map { Int64(shape[$0.inputAxis]) } ?? 0
                out.pointee.element_count = Int64(parameter.tensor.elementCount)
                out.pointee.stored_dtype = UnsafePointer(call.arena.cString(parameter.tensor.dtype.rawValue))
                return PRUNE_OK
            }

    static let getStatistic:
        @convention(c) (
            OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeMutablePointer<prune_tensor_view>?
        ) -> prune_status = { ctx, tensor, statistic, out in
            guard let context = HostContext.from(ctx) else { return PRUNE_ERR_INVALID_ARGUMENT }
            guard let call = context as? CallContext else {
                return context.fail(PRUNE_ERR_INVALID_STATE, "get_statistic is only allowed during a component call")
            }
            guard let tensor, let statistic, let out else {
                return call.fail(PRUNE_ERR_INVALID_ARGUMENT, "get_statistic: NULL argument")
            }
            let tensorName = String(cString: tensor)
            let statisticName = String(cString: statistic)
            guard call.declaredStatistics.contains(statisticName) else {
                return call.fail(
                    PRUNE_ERR_INVALID_ARGUMENT,
                    "get_statistic: '\(call.component)' did not declare statistic '\(statisticName)'")
            }
            guard let provider = call.statistics, let value = provider(tensorName, statisticName, call.run) else {
                return call.fail(
                    PRUNE_ERR_NOT_FOUND, "no calibration statistic '\(statisticName)' for '\(tensorName)' in this run")
            }
            out.pointee = TensorViews.view(of: value, name: tensorName, in: call.arena)
            return PRUNE_OK
        }

    static let getUnits: @convention(c) (OpaquePointer?, UnsafeMutablePointer<prune_tensor_view>?) -> prune_status = {
        ctx, out in
        guard let context = HostContext.from(ctx) else { return PRUNE_ERR_INVALID_ARGUMENT }
        guard let call = context as? CallContext, let scoring = call.scoringTarget else {
            return context.fail(PRUNE_ERR_INVALID_STATE, "get_units is only allowed during a scorer call")
        }
        guard let out else { return call.fail(PRUNE_ERR_INVALID_ARGUMENT, "get_units: NULL argument") }
        if let view = scoring.unitView {
            out.pointee = view
            return PRUNE_OK
        }
        guard case .elements(let name) = scoring.target.kind, let parameter = call.run.model[name],
            let layout = TensorViews.layout(of: parameter)
        else {
            return call.fail(PRUNE_ERR_UNSUPPORTED, "get_units: '\(scoring.target.name)' is not a layer weight")
        }
        let units = parameter.tensor.shape[layout.outputAxis]
        do {
            let (data, dim) = try TensorViews.gatherUnits(
                count: units, slices: [UnitSlice(parameter: name, axis: layout.outputAxis)], target: name,
                model: call.run.model, in: call.arena)
            let view = TensorViews.view(data: data, shape: [units, dim], name: name, in: call.arena)
            call.scoringTarget = (scoring.target, view)
            out.pointee = view
            return PRUNE_OK
        } catch {
            return call.fail(PRUNE_ERR_FAILED, "get_units: \(error)")
        }
    }
}
