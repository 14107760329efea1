import CPruneKernels

/// Stride-1 "same" convolutions through the hand-written panel kernels (`CPruneKernels`, AVX2 + FMA): the input
/// is unfolded straight into 16-column panels, multiplied by the packed filters 6 rows × 16 columns at a time with
/// the bias preloaded, and Relu and the copy to NCHW happen in the store. The batch is cut into chunks of images
/// that the threads claim one at a time, each thread unfolding, multiplying and storing its chunks in its own
/// scratch.
extension ConvOps {
    /// Whether this CPU runs the panel kernels (else Conv keeps the im2col + BLAS path).
    static let panelKernelsAvailable = prk_panel_kernels_available() != 0

    /// Floats of unfolded input per chunk of images: small enough to stay in a core's L2 cache between the
    /// unfolding and the product.
    static let panelBudget = 1 << 16

    /// Multiply-adds below which the whole convolution runs on the calling thread.
    static let panelParallelWork = 1 << 20

    /// Whether `convolvePanels` handles this geometry: stride 1, dilation 1, output as large as the input, and a
    /// single image's unfolding within ``columnBudget``.
    static func panelsApply(_ g: SpatialGeometry, channelsPerGroup: Int) -> Bool {
        panelKernelsAvailable && g.stride == [1, 1, 1] && g.dilation == [1, 1, 1] && g.output == g.input
            && channelsPerGroup * g.kernelSize * g.outputSize <= columnBudget
    }

    /// Convolves through the panel kernels; `cache` keeps the packed filters and padding masks between calls.
    static func convolvePanels(
        x: UnsafeMutablePointer<Float>, w: RuntimeTensor, bias: UnsafeMutablePointer<Float>?,
        out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, filters: Int, group: Int, geometry g: SpatialGeometry,
        threads: Int, relu: Bool, cache: PanelCache
    ) {
        let cg = channels / group
        let mg = filters / group
        let kernelSize = g.kernelSize
        let rows = cg * kernelSize
        let size = g.outputSize
        let imagesPerChunk = max(1, min(batch, panelBudget / max(1, rows * size)))
        let work = batch * size * filters * rows
        let workers = work >= panelParallelWork ? max(1, min(threads, batch)) : 1
        // Chunks of at most `imagesPerChunk` images, as many as a multiple of the workers (for balance), sized
        // evenly; workers claim them one at a time.
        let needed = (batch + imagesPerChunk - 1) / imagesPerChunk
        let chunks = min(batch, (needed + workers - 1) / workers * workers)

        let plan = cache.plan(weights: w, rows: rows, group: group, geometry: g)
        let margin = plan.margin
        let stackStride = imagesPerChunk * size + 2 * margin
        let panelFloats = (imagesPerChunk * size + 15) / 16 * 16 * rows

        // Per-worker scratch as tensors, taken on this thread so a running interpreter recycles them from its pool.
        let stackStorage = RuntimeTensor(uninitialized: .f32, shape: [workers * cg * stackStride])
        let panelStorage = RuntimeTensor(uninitialized: .f32, shape: [workers * panelFloats])
        defer { withExtendedLifetime((plan, stackStorage, panelStorage)) {} }
        let stacks = UnsafeMutableRawPointer(stackStorage.f32).bindMemory(to: UInt32.self, capacity: stackStorage.count)

        let shared = (
            x: SharedPointer(x), out: SharedPointer(out), packed: SharedPointer(plan.packed),
            masks: SharedPointer(plan.masks), shifts: SharedPointer(plan.shifts), stacks: SharedPointer(stacks),
            panels: SharedPointer(panelStorage.f32), bias: bias.map(SharedPointer.init)
        )
        parallelParts(chunks, threads: workers) { chunk, worker in
            let stack = shared.stacks.pointer + worker * cg * stackStride
            let panels = shared.panels.pointer + worker * panelFloats
            let n0 = batch * chunk / chunks
            let count = batch * (chunk + 1) / chunks - n0
            for gi in 0..<group {
                for c in 0..<cg {
                    for i in 0..<count {
                        UnsafeMutableRawPointer(stack + c * stackStride + margin + i * size).copyMemory(
                            from: shared.x.pointer + ((n0 + i) * channels + gi * cg + c) * size,
                            byteCount: size * MemoryLayout<Float>.size)
                    }
                }
                prk_unfold_shifted_panels(
                    stack + margin, Int64(stackStride), Int64(cg), Int64(kernelSize), shared.shifts.pointer,
                    shared.masks.pointer, Int64(size), Int64(count * size), panels)
                prk_panel_product(
                    Int64(mg), Int64(rows), Int64(count * size), shared.packed.pointer + gi * mg * rows, panels,
                    shared.bias.map { $0.pointer + gi * mg }, relu ? 1 : 0,
                    shared.out.pointer + (n0 * filters + gi * mg) * size, Int64(size), Int64(filters * size))
            }
        }
    }
}
