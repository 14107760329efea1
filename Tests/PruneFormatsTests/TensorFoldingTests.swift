import Testing

@testable import PruneFormats

/// Slice and Transpose folding on small integer tensors of any rank, against values worked out by hand.
@Suite("Tensor folding (Slice, Transpose)")
struct TensorFoldingTests {
    /// PyTorch's `F.pad` pads list: `[0, 1, 0, 1, 0, 0, 0, 0]` (ZeroPad2d's (left, right, top, bottom) then zeros
    /// for channels and batch) reshaped to `[4, 2]`, rows reversed, transposed, flattened: ONNX's begins-then-ends.
    @Test("The TorchScript exporter's F.pad chain: reverse the rows of [4, 2], then transpose")
    func padChain() {
        let pairs: [Int64] = [0, 1, 0, 1, 0, 0, 0, 0]  // rows (w_begin, w_end), (h_begin, h_end), (c…), (n…)
        let reversed = ONNXTensorFolding.slice(
            pairs, shape: [4, 2], starts: [-1], ends: [-9_223_372_036_854_775_807], axes: [0], steps: [-1])
        #expect(reversed == [0, 0, 0, 0, 0, 1, 0, 1])
        let transposed = ONNXTensorFolding.transpose(reversed ?? [], shape: [4, 2], perm: [1, 0])
        #expect(transposed == [0, 0, 0, 0, 0, 0, 1, 1])  // n, c, h, w begins; n, c, h, w ends
    }

    @Test("Slices over several axes with steps, clamping out-of-range bounds; 3-D transposes")
    func general() {
        let data: [Int64] = Array(0..<24)  // shape [2, 3, 4]
        // Axis 2 from 3 down by 2 (3, 1), axis 1 from 1 to the end (1, 2); axis 0 whole.
        let sliced = ONNXTensorFolding.slice(
            data, shape: [2, 3, 4], starts: [3, 1], ends: [-100, 99], axes: [2, -2], steps: [-2, 1])
        #expect(sliced == [7, 5, 11, 9, 19, 17, 23, 21])
        #expect(ONNXTensorFolding.slice(data, shape: [2, 3, 4], starts: [0], ends: [1], axes: [3], steps: nil) == nil)
        #expect(ONNXTensorFolding.slice(data, shape: [2, 3, 4], starts: [0], ends: [1], axes: [0], steps: [0]) == nil)
        // perm [2, 0, 1]: out[k][i][j] = in[i][j][k] = 12 i + 4 j + k.
        let out = ONNXTensorFolding.transpose(data, shape: [2, 3, 4], perm: [2, 0, 1])
        #expect(out?.prefix(7) == [0, 4, 8, 12, 16, 20, 1])
        #expect(ONNXTensorFolding.transpose(data, shape: [2, 3, 4], perm: nil)?.prefix(3) == [0, 12, 4])
    }
}
