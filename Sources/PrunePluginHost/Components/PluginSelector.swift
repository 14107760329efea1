import CPrunePlugin
import PruneCore

/// A plugin selector configured with checked parameters: a ``Selector`` like any built-in.
final class PluginSelector: Selector {
    private let component: PluginComponent
    private let arguments: FFIArguments

    init(_ component: PluginComponent, _ values: ParameterValues) throws {
        self.component = component
        self.arguments = FFIArguments(values, signature: component.registration.signature)
    }

    func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        let call = component.makeCallContext(run: context)
        let arena = call.arena
        call.targetCount = scored.count
        let targets = arena.allocate(prune_scored_target.self, count: scored.count)
        for (i, item) in scored.enumerated() {
            targets.advanced(by: i).initialize(to: describe(item, in: arena))
        }
        let request = arena.allocate(prune_select_request.self, count: 1)
        request.initialize(to: prune_select_request())
        request.pointee.struct_size = UInt32(MemoryLayout<prune_select_request>.size)
        request.pointee.host = HostAPI.table
        request.pointee.ctx = call.opaque
        request.pointee.target_count = Int64(scored.count)
        request.pointee.targets = targets
        request.pointee.seed = context.seed
        let status = component.invoke(UnsafeMutableRawPointer(request), arguments: arguments, context: call)
        guard status == PRUNE_OK else {
            throw component.callFailed(status, context: call, on: "\(scored.count) targets")
        }
        var entries: [Selection.Entry] = []
        for (i, item) in scored.enumerated() {
            if let reason = call.skips[i] {
                entries.append(Selection.Entry(target: item.target, decision: .skip(reason: reason)))
                continue
            }
            let count = item.scores.count
            let flags = UnsafeBufferPointer(start: targets[i].prune, count: count)
            if let bad = flags.firstIndex(where: { $0 > 1 }) {
                throw component.invalidOutput(
                    "set prune flag \(flags[bad]) at position \(bad) of '\(item.target.name)'; only 0 and 1 are allowed"
                )
            }
            let mask = Mask(count: count, setting: flags.indices.lazy.filter { flags[$0] == 1 })
            entries.append(Selection.Entry(target: item.target, decision: .prune(mask)))
        }
        return Selection(entries: entries)
    }

    private func describe(_ item: ScoredTarget, in arena: CallArena) -> prune_scored_target {
        var description = prune_scored_target()
        description.struct_size = UInt32(MemoryLayout<prune_scored_target>.size)
        description.granularity =
            item.target.granularity == .element ? PRUNE_GRANULARITY_ELEMENT : PRUNE_GRANULARITY_UNIT
        description.name = UnsafePointer(arena.cString(item.target.name))
        description.rank = Int32(item.shape.count)
        description.shape = UnsafePointer(arena.copy(item.shape.map(Int64.init)))
        let layout = item.target.granularity == .element ? item.layout : nil
        description.output_axis = layout.map { Int32($0.outputAxis) } ?? -1
        description.input_axis = layout.map { Int32($0.inputAxis) } ?? -1
        description.count = Int64(item.scores.count)
        description.scores = UnsafePointer(arena.copy(item.scores.values))
        let flags = arena.allocate(UInt8.self, count: item.scores.count)
        flags.initialize(repeating: 0, count: item.scores.count)
        description.prune = flags
        return description
    }
}
