import PruneCore

/// Writes zeros where the selection says, keeping every tensor's shape and dtype.
///
/// Element selections zero those elements; unit selections zero every element of every slice coupled to a
/// pruned unit. Zeros are recorded lazily, so the rewrite costs one bit per weight until the model is saved.
public struct MaskRewriter: Rewriter {
    /// Creates the rewriter.
    public init() {}

    /// The model with the selected positions zeroed.
    public func rewrite(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> RewriteResult {
        var masks: [String: Mask] = [:]
        for entry in selection.entries {
            guard case .prune(let mask) = entry.decision, mask.setCount > 0 else { continue }
            for (name, elementMask) in try MaskRewriter.elementMasks(for: entry.target, units: mask, in: model) {
                masks[name] = masks[name].map { $0.union(elementMask) } ?? elementMask
            }
        }
        var result = model
        for (name, mask) in masks {
            try result.setTensor(model.parameter(named: name).tensor.zeroing(mask), for: name)
        }
        return RewriteResult(model: result)
    }

    /// The element masks a target's position mask stands for, per parameter.
    static func elementMasks(for target: PruneTarget, units mask: Mask, in model: Model) throws -> [(String, Mask)] {
        switch target.kind {
        case .elements(let name):
            return [(name, mask)]
        case .units(let count, let slices):
            // One mask per parameter, however many slices cut it (a group repeated across the groups of a grouped
            // convolution has one slice per convolution group).
            var order: [String] = []
            var masks: [String: Mask] = [:]
            for slice in slices {
                let tensor = try model.parameter(named: slice.parameter).tensor
                if masks[slice.parameter] == nil { order.append(slice.parameter) }
                var elements = masks.removeValue(forKey: slice.parameter) ?? Mask(count: tensor.elementCount)
                slice.forEachElement(inShape: tensor.shape, units: count) { unit, index in
                    if mask[unit] { elements[index] = true }
                }
                masks[slice.parameter] = elements
            }
            return order.map { ($0, masks[$0]!) }
        }
    }
}
