#!/usr/bin/env python3
"""Dense vs structurally pruned ONNX model: MACs and ONNX Runtime latency, measured side by side in one run.

Usage: structure_bench.py DENSE.onnx PRUNED.onnx [--batch 256] [--runs 200] [--threads 1]
Make PRUNED with, e.g.:
  prune run Examples/digits-cnn/model.onnx -o /tmp/cnn50.onnx --granularity unit --scorer magnitude:p=2 \
      --selector layer:sparsity=0.5,rounding=floor-keep --rewriter remove
MACs: Conv (N·out positions·weight elements / group-aware via the weight shape) and Gemm/MatMul (M·N·K) at batch 1
from onnx's shape inference. Latency: median of interleaved runs (dense, pruned, dense, …) so both see the same
machine load. Needs: onnx onnxruntime numpy.
"""
import argparse
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper, shape_inference


def macs(path):
    model = shape_inference.infer_shapes(onnx.load(path))
    g = model.graph
    shapes = {}
    for v in list(g.value_info) + list(g.output) + list(g.input):
        shapes[v.name] = [d.dim_value if d.HasField("dim_value") else 1 for d in v.type.tensor_type.shape.dim]
    weights = {t.name: list(t.dims) for t in g.initializer}
    total = 0
    for n in g.node:
        if n.op_type == "Conv":
            out = shapes[n.output[0]]
            total += int(np.prod(out)) * int(np.prod(weights[n.input[1]][1:]))
        elif n.op_type in ("Gemm", "MatMul"):
            w = weights.get(n.input[1])
            if w is None:
                continue
            out = shapes[n.output[0]]
            k = w[1] if n.op_type == "Gemm" and any(a.name == "transB" and a.i for a in n.attribute) else w[0]
            total += int(np.prod(out)) * k
    return total, sum(int(np.prod(t.dims)) for t in g.initializer)


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dense")
    parser.add_argument("pruned")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    sessions = [session(args.dense, args.threads), session(args.pruned, args.threads)]
    inp = sessions[0].get_inputs()[0]
    shape = [args.batch] + [d for d in inp.shape[1:]]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for s in sessions:
        for _ in range(10):
            s.run(None, {inp.name: x})
    times = [[], []]
    for _ in range(args.runs):
        for i, s in enumerate(sessions):
            start = time.perf_counter()
            s.run(None, {inp.name: x})
            times[i].append(time.perf_counter() - start)
    (dm, dp), (pm, pp) = macs(args.dense), macs(args.pruned)
    dl, pl = float(np.median(times[0])), float(np.median(times[1]))
    print(f"parameters  {dp:>12,} -> {pp:>12,}  ({dp / pp:.2f}x fewer)")
    print(f"MACs/sample {dm:>12,} -> {pm:>12,}  ({dm / pm:.2f}x fewer)")
    print(f"ORT latency batch {args.batch}, {args.threads} thread(s), median of {args.runs}: "
          f"{dl * 1e3:.3f} ms -> {pl * 1e3:.3f} ms  ({dl / pl:.2f}x faster)")


if __name__ == "__main__":
    main()
