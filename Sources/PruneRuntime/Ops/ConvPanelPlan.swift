import CPruneKernels
import Foundation

extension ConvOps {
    /// What the panel kernels need besides the input, for one weight tensor and one geometry: the filters packed
    /// per group, each kernel offset's flat shift and its padding mask.
    final class PanelPlan: @unchecked Sendable {
        /// Filters packed per group by `prk_pack_filters` (`filters × rows` floats).
        let packed: UnsafeMutablePointer<Float>
        /// Per kernel offset, `size + 16` mask words (see `prk_unfold_shifted_panels`).
        let masks: UnsafeMutablePointer<UInt32>
        /// Per kernel offset, the flat input displacement.
        let shifts: UnsafeMutablePointer<Int64>
        /// The largest displacement: the readable margin the stacked planes need on each side.
        let margin: Int

        fileprivate init(weights: RuntimeTensor, rows: Int, group: Int, geometry g: SpatialGeometry) {
            let filters = weights.shape[0]
            let mg = filters / group
            let size = g.outputSize
            let kernelSize = g.kernelSize
            packed = .allocate(capacity: filters * rows)
            masks = .allocate(capacity: kernelSize * (size + 16))
            shifts = .allocate(capacity: kernelSize)
            for gi in 0..<group {
                prk_pack_filters(Int64(mg), Int64(rows), weights.f32 + gi * mg * rows, packed + gi * mg * rows)
            }
            let pitch = size + 16
            var largest = 0
            var k = 0
            for kd in 0..<g.kernel[0] {
                for kh in 0..<g.kernel[1] {
                    for kw in 0..<g.kernel[2] {
                        let (dd, dh, dw) = (kd - g.padBegin[0], kh - g.padBegin[1], kw - g.padBegin[2])
                        let displacement = (dd * g.input[1] + dh) * g.input[2] + dw
                        shifts[k] = Int64(displacement)
                        largest = max(largest, abs(displacement))
                        var i = 0
                        for od in 0..<g.output[0] {
                            for oh in 0..<g.output[1] {
                                for ow in 0..<g.output[2] {
                                    let (id, ih, iw) = (od + dd, oh + dh, ow + dw)
                                    let inside =
                                        id >= 0 && id < g.input[0] && ih >= 0 && ih < g.input[1] && iw >= 0
                                        && iw < g.input[2]
                                    masks[k * pitch + i] = inside ? ~0 : 0
                                    i += 1
                                }
                            }
                        }
                        for j in size..<pitch { masks[k * pitch + j] = masks[k * pitch + j % size] }
                        k += 1
                    }
                }
            }
            margin = largest
        }

        deinit {
            packed.deallocate()
            masks.deallocate()
            shifts.deallocate()
        }
    }

    /// One Conv node's last ``PanelPlan``, rebuilt when the weight storage or the geometry changes. It holds the
    /// weight tensor it was built from, so that storage cannot be freed and reused while the plan stands.
    final class PanelCache: @unchecked Sendable {
        private let lock = NSLock()
        private var entry: (weights: RuntimeTensor, key: [Int], plan: PanelPlan)?

        /// The plan for `weights` convolved with geometry `g` in `group` groups of `rows`-row unfoldings.
        func plan(weights: RuntimeTensor, rows: Int, group: Int, geometry g: SpatialGeometry) -> PanelPlan {
            let key = [rows, group] + weights.shape + g.input + g.kernel + g.padBegin
            lock.lock()
            defer { lock.unlock() }
            if let entry, entry.weights.storage === weights.storage, entry.key == key { return entry.plan }
            let plan = PanelPlan(weights: weights, rows: rows, group: group, geometry: g)
            entry = (weights, key, plan)
            return plan
        }
    }
}
