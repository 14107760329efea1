import CPrunePlugin
import PruneCore

/// A plugin scorer configured with checked parameters: a ``Scorer`` like any built-in.
final class PluginScorer: Scorer {
    private let component: PluginComponent
    private let arguments: FFIArguments

    init(_ component: PluginComponent, _ values: ParameterValues) throws {
        self.component = component
        self.arguments = FFIArguments(values, signature: component.registration.signature)
    }

    func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        let call = component.makeCallContext(run: context)
        let arena = call.arena
        let count = target.scoreCount
        let targetPointer = arena.allocate(prune_target.self, count: 1)
        targetPointer.initialize(to: try describe(target, model: context.model, call: call))
        let scores = arena.allocate(Float.self, count: count)
        scores.initialize(repeating: .nan, count: count)
        let request = arena.allocate(prune_score_request.self, count: 1)
        request.initialize(to: prune_score_request())
        request.pointee.struct_size = UInt32(MemoryLayout<prune_score_request>.size)
        request.pointee.host = HostAPI.table
        request.pointee.ctx = call.opaque
        request.pointee.target = UnsafePointer(targetPointer)
        request.pointee.scores = scores
        request.pointee.score_count = Int64(count)
        request.pointee.seed = context.seed
        let status = component.invoke(UnsafeMutableRawPointer(request), arguments: arguments, context: call)
        guard status == PRUNE_OK else { throw component.callFailed(status, context: call, on: "'\(target.name)'") }
        let written = request.pointee.score_count
        guard written == Int64(count) else {
            throw component.invalidOutput("returned \(written) scores for '\(target.name)', which needs \(count)")
        }
        let values = Array(UnsafeBufferPointer(start: scores, count: count))
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw component.invalidOutput(
                "returned \(values[bad]) at position \(bad) of '\(target.name)'; scores must be finite")
        }
        return Scores(values)
    }

    /// The `prune_target` a plugin sees for `target`.
    private func describe(_ target: PruneTarget, model: Model, call: CallContext) throws -> prune_target {
        let arena = call.arena
        var description = prune_target()
        description.struct_size = UInt32(MemoryLayout<prune_target>.size)
        description.name = UnsafePointer(arena.cString(target.name))
        description.score_count = Int64(target.scoreCount)
        switch target.kind {
        case .elements(let name):
            let parameter = try model.parameter(named: name)
            let layout = TensorViews.layout(of: parameter)
            description.granularity = PRUNE_GRANULARITY_ELEMENT
            description.tensor = TensorViews.view(of: parameter.tensor, name: name, in: arena)
            description.output_axis = layout.map { Int32($0.outputAxis) } ?? -1
            description.input_axis = layout.map { Int32($0.inputAxis) } ?? -1
            description.unit_count = layout.map { Int64(parameter.tensor.shape[$0.outputAxis]) } ?? 0
            call.scoringTarget = (target, nil)
        case .units(let units, let slices):
            let (data, dim) = try TensorViews.gatherUnits(
                count: units, slices: slices, target: target.name, model: model, in: arena)
            let view = TensorViews.view(data: data, shape: [units, dim], name: target.name, in: arena)
            description.granularity = PRUNE_GRANULARITY_UNIT
            description.tensor = view
            description.output_axis = 0
            description.input_axis = 1
            description.unit_count = Int64(units)
            description.slice_count = Int64(slices.count)
            description.slices = UnsafePointer(arena.copy(slices.map { PluginSlices.slice($0, in: arena) }))
            call.scoringTarget = (target, view)
        }
        return description
    }
}

/// `prune_slice` values for unit slices and element targets.
enum PluginSlices {
    /// The C form of `slice`.
    static func slice(_ slice: UnitSlice, in arena: CallArena) -> prune_slice {
        prune_slice(
            parameter: UnsafePointer(arena.cString(slice.parameter)), axis: Int32(slice.axis), reserved0: 0,
            offset: Int64(slice.offset), width: Int64(slice.width))
    }

    /// The one slice that names an element target's parameter (axis -1).
    static func whole(_ parameter: String, in arena: CallArena) -> prune_slice {
        prune_slice(parameter: UnsafePointer(arena.cString(parameter)), axis: -1, reserved0: 0, offset: 0, width: 0)
    }
}
