import Foundation

extension Pipeline {
    /// An error blaming the input file when a target's own weights hold a NaN or infinity, which is why a
    /// scorer returned a non-finite score; nil when the weights are finite (then the scorer is at fault).
    static func nonFiniteInput(of target: PruneTarget, in model: Model, scorer: String) -> PruneError? {
        for name in target.parameterNames {
            guard let tensor = model[name]?.tensor, tensor.dtype.isFloatingPoint else { continue }
            let found: (Int, Float)? = tensor.withFloatValues { values in
                values.firstIndex(where: { !$0.isFinite }).map { ($0, values[$0]) }
            }
            guard let (position, value) = found else { continue }
            let file = model.sourceURL?.path ?? "the input model"
            return PruneError(
                .invalidInput,
                "\(file): tensor '\(PrintableText.escaped(name))' holds \(value) at position \(position); the input's weights must be finite (scorer '\(scorer)' could only return a non-finite score)"
            )
        }
        return nil
    }
}
