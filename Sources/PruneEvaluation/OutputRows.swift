import PruneCore
import PruneRuntime

/// A model output viewed as one row of float values per sample (when dimension 0 counts samples), or as one row.
struct OutputRows {
    let values: [Float]
    let rowCount: Int
    let rowSize: Int
    /// The output's shape.
    let shape: [Int]

    /// Reads `tensor`, which must be float32: one row per sample when dimension 0 counts `samples`, else one row.
    init(_ tensor: RuntimeTensor, name: String, model: String, samples: Int) throws {
        guard tensor.dtype == .f32 else {
            throw PruneError(
                .unsupported,
                "output '\(name)' of \(model) is \(tensor.dtype.rawValue); evaluation compares float32 outputs")
        }
        values = tensor.floatValues()
        shape = tensor.shape
        if tensor.shape.first == samples {
            rowCount = samples
            rowSize = tensor.sampleSize
        } else {
            // Dimension 0 does not count samples (a sequence-first output): the whole output is one row.
            rowCount = 1
            rowSize = max(1, values.count)
        }
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
