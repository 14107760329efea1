import PruneCore
import PruneRuntime

/// A model output viewed as one row of float values per sample (dimension 0 counts samples).
struct OutputRows {
    let values: [Float]
    let rowCount: Int
    let rowSize: Int
    /// The output's shape.
    let shape: [Int]

    /// Reads `tensor`, which must be float32 with `samples` rows.
    init(_ tensor: RuntimeTensor, name: String, model: String, samples: Int) throws {
        guard tensor.dtype == .f32 else {
            throw PruneError(
                .unsupported,
                "output '\(name)' of \(model) is \(tensor.dtype.rawValue); evaluation compares float32 outputs")
        }
        guard tensor.shape.first == samples else {
            throw PruneError(
                .shapeMismatch,
                "output '\(name)' of \(model) has shape \(Format.shape(tensor.shape)); dimension 0 should count the batch's \(samples) samples"
            )
        }
        values = tensor.floatValues()
        rowCount = samples
        rowSize = tensor.sampleSize
        shape = tensor.shape
    }

    /// The values of sample `row`.
    func row(_ row: Int) -> ArraySlice<Float> { values[(row * rowSize)..<((row + 1) * rowSize)] }

    /// The index of the largest value of sample `row` (the first one on ties, like NumPy's `argmax`).
    func argmax(_ row: Int) -> Int {
        let start = row * rowSize
        var best = start
        for i in start..<(start + rowSize) where values[i] > values[best] { best = i }
        return best - start
    }
}
