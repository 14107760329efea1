import PruneCore

/// The calibration batches split by sample into a fitted part and a held-out part, each served in pieces of at most
/// `chunk` samples, so a batch file holding thousands of images is never run (or unfolded) in one piece.
///
/// Sample s (counted over all batches in order) is held out when ⌊(s + 1)·f⌋ > ⌊s·f⌋ for the held-out fraction f:
/// every 1/f-th sample, spread evenly over the files. A batch whose inputs do not share a leading sample axis is
/// one indivisible sample. Only one base batch is read at a time (files stay memory-mapped; a piece's samples are
/// copied when it is requested), so the set can be as large as the disk holds.
struct CalibrationSplit {
    /// The samples the fit and the statistics are computed on.
    let fitted: SampleBatches
    /// The samples every step is judged on; nil when there are too few samples to hold any out (or f = 0).
    let heldOut: SampleBatches?

    /// Splits `base`, reading each batch once to learn its sample count.
    ///
    /// - Throws: the batches' own errors (a file that cannot be read, a missing graph input).
    init(_ base: any CalibrationBatches, inputs: [String], heldOutFraction: Double, chunk: Int) throws {
        precondition(chunk >= 1 && heldOutFraction >= 0 && heldOutFraction < 1)
        var counts: [Int?] = []
        for index in 0..<base.batchCount {
            let batch = try base.batch(index, inputs: inputs)
            let leading = Set(batch.values.map { $0.shape.first ?? -1 })
            counts.append(leading.count == 1 && (leading.first ?? 0) > 0 ? leading.first! : nil)
        }
        let total = counts.reduce(0) { $0 + ($1 ?? 1) }
        var fittedPieces: [SampleBatches.Piece] = []
        var heldPieces: [SampleBatches.Piece] = []
        var sample = 0
        for (index, count) in counts.enumerated() {
            var fittedSamples: [Int] = []
            var heldSamples: [Int] = []
            for local in 0..<(count ?? 1) {
                let held = total >= 2 && Int(Double(sample + 1) * heldOutFraction) > Int(Double(sample) * heldOutFraction)
                if held { heldSamples.append(local) } else { fittedSamples.append(local) }
                sample += 1
            }
            let whole = count == nil
            fittedPieces += SampleBatches.pieces(batch: index, samples: fittedSamples, chunk: chunk, whole: whole)
            heldPieces += SampleBatches.pieces(batch: index, samples: heldSamples, chunk: chunk, whole: whole)
        }
        fitted = SampleBatches(base: base, pieces: fittedPieces)
        heldOut = heldPieces.isEmpty || fittedPieces.isEmpty ? nil : SampleBatches(base: base, pieces: heldPieces)
    }
}

/// Some samples of other calibration batches, as batches of their own.
struct SampleBatches: CalibrationBatches {
    /// The samples `samples` (ascending) of base batch `batch`; `whole` when the batch is taken as it is.
    struct Piece: Sendable {
        let batch: Int
        let samples: [Int]
        let whole: Bool
    }

    let base: any CalibrationBatches
    let pieces: [Piece]

    var batchCount: Int { pieces.count }

    /// The number of samples in all pieces (an indivisible batch counts as one).
    var sampleCount: Int { pieces.reduce(0) { $0 + ($1.whole ? 1 : $1.samples.count) } }

    func batch(_ index: Int, inputs: [String]) throws -> [String: Tensor] {
        let piece = pieces[index]
        let batch = try base.batch(piece.batch, inputs: inputs)
        guard !piece.whole else { return batch }
        return batch.mapValues { Self.rows(piece.samples, of: $0) }
    }

    /// `samples` split into runs of at most `chunk`.
    static func pieces(batch: Int, samples: [Int], chunk: Int, whole: Bool) -> [Piece] {
        guard !samples.isEmpty else { return [] }
        if whole { return [Piece(batch: batch, samples: samples, whole: true)] }
        return stride(from: 0, to: samples.count, by: chunk).map {
            Piece(batch: batch, samples: Array(samples[$0..<min($0 + chunk, samples.count)]), whole: false)
        }
    }

    /// The leading-axis rows `samples` of `tensor` (the tensor itself when that is all of it).
    static func rows(_ samples: [Int], of tensor: Tensor) -> Tensor {
        let count = tensor.shape[0]
        if samples.count == count, samples.first == 0, samples.last == count - 1 { return tensor }
        let rowBytes = tensor.byteCount / max(1, count)
        var bytes = [UInt8](repeating: 0, count: rowBytes * samples.count)
        if rowBytes > 0 {
        tensor.forEachByteChunk(maxChunkBytes: max(64, tensor.byteCount)) { raw in
            bytes.withUnsafeMutableBytes { out in
                for (position, sample) in samples.enumerated() {
                    out.baseAddress!.advanced(by: position * rowBytes).copyMemory(
                        from: raw.baseAddress!.advanced(by: sample * rowBytes), byteCount: rowBytes)
                }
            }
        }
        }
        var shape = tensor.shape
        shape[0] = samples.count
        // The byte count matches the shape by construction.
        return try! Tensor(dtype: tensor.dtype, shape: shape, bytes: bytes)
    }
}
