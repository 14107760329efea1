import CPrunePlugin
import PruneCore

/// A plugin rewriter configured with checked parameters: a ``Rewriter`` like any built-in.
///
/// The plugin reads parameters with `get_tensor` and writes them through `tensor_output`; every parameter it
/// asked an output buffer for is replaced (same shape, its own dtype) once the values are checked to be finite.
final class PluginRewriter: Rewriter {
    private let component: PluginComponent
    private let arguments: FFIArguments

    init(_ component: PluginComponent, _ values: ParameterValues) throws {
        self.component = component
        self.arguments = FFIArguments(values, signature: component.registration.signature)
    }

    func rewrite(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> RewriteResult {
        var run = context
        run.model = model
        let call = component.makeCallContext(run: run)
        let arena = call.arena
        let entries = arena.allocate(prune_selection_entry.self, count: selection.entries.count)
        for (i, entry) in selection.entries.enumerated() {
            entries.advanced(by: i).initialize(to: describe(entry, in: arena))
        }
        let request = arena.allocate(prune_rewrite_request.self, count: 1)
        request.initialize(to: prune_rewrite_request())
        request.pointee.struct_size = UInt32(MemoryLayout<prune_rewrite_request>.size)
        request.pointee.host = HostAPI.table
        request.pointee.ctx = call.opaque
        request.pointee.entry_count = Int64(selection.entries.count)
        request.pointee.entries = UnsafePointer(entries)
        request.pointee.seed = context.seed
        let status = component.invoke(UnsafeMutableRawPointer(request), arguments: arguments, context: call)
        guard status == PRUNE_OK else {
            throw component.callFailed(status, context: call, on: "a selection of \(selection.entries.count) targets")
        }
        var result = model
        for name in call.outputOrder {
            guard let buffer = call.outputs[name], let original = model[name]?.tensor else { continue }
            if let bad = buffer.firstIndex(where: { !$0.isFinite }) {
                throw component.invalidOutput(
                    "wrote \(buffer[bad]) at position \(bad) of '\(name)'; values must be finite")
            }
            try result.setTensor(TensorNarrowing.tensor(from: UnsafeBufferPointer(buffer), like: original), for: name)
        }
        return RewriteResult(model: result)
    }

    private func describe(_ entry: Selection.Entry, in arena: CallArena) -> prune_selection_entry {
        var description = prune_selection_entry()
        description.struct_size = UInt32(MemoryLayout<prune_selection_entry>.size)
        description.name = UnsafePointer(arena.cString(entry.target.name))
        description.count = Int64(entry.target.scoreCount)
        switch entry.target.kind {
        case .elements(let parameter):
            description.granularity = PRUNE_GRANULARITY_ELEMENT
            description.slice_count = 1
            description.slices = UnsafePointer(arena.copy([PluginSlices.whole(parameter, in: arena)]))
        case .units(_, let slices):
            description.granularity = PRUNE_GRANULARITY_UNIT
            description.slice_count = Int64(slices.count)
            description.slices = UnsafePointer(arena.copy(slices.map { PluginSlices.slice($0, in: arena) }))
        }
        if case .prune(let mask) = entry.decision {
            let flags = arena.allocate(UInt8.self, count: mask.count)
            flags.initialize(repeating: 0, count: mask.count)
            for index in mask.setIndices { flags[index] = 1 }
            description.prune = UnsafePointer(flags)
        }
        return description
    }
}
