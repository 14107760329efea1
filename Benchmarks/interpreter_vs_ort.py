#!/usr/bin/env python3
"""PruneKit's interpreter (through `prune eval --json`) against ONNX Runtime, same models, same data, same
batches, one run: median latency per batch at 1 and 2 threads, and the ratio ours / ORT (> 1: we are slower).

Models: the bundled digits CNN (Examples/digits-cnn, its 540 test images) at batch 1 and 256, and a BERT-style
encoder (6 layers, hidden 384, 6 heads, FFN 1536, seq 64, random weights, built with onnx.helper) at batch 32
on 4 batches of random inputs.

Usage (from the repository root):
  swift build -c release --product prune
  .venv-torch/bin/python Benchmarks/interpreter_vs_ort.py [--prune .build/release/prune] [--keep DIR] [--json PATH]
Needs numpy, onnx, onnxruntime. Both sides run the same warm-up batches first, uncounted (--warmup, default 2:
the first batches of the data, so both engines have settled their buffers and thread pools before timing).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
from ort_run import read_safetensors, write_safetensors  # noqa: E402


def build_encoder(path, layers=6, hidden=384, heads=6, seq=64, batch=32, seed=0):
    """A BERT-style encoder with random weights: MatMul attention, LayerNormalization, erf GELU (as in
    Scripts/runtime-bench/make_models.py, parameterised). Inputs x [batch, seq, hidden], mask [batch, 1, 1, seq]."""
    import numpy as np
    import onnx
    from onnx import TensorProto as T, helper as h, numpy_helper as nh

    rng = np.random.default_rng(seed)
    B, S, H, NH = batch, seq, hidden, heads
    D = H // NH
    nodes, inits = [], []

    def init(name, *shape, scale=0.05):
        inits.append(nh.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))

    def const(name, value, dtype):
        inits.append(nh.from_array(np.array(value, dtype), name))

    const("qkv_shape", [B, S, NH, D], np.int64)
    const("out_shape", [B, S, H], np.int64)
    const("scale", np.sqrt(D), np.float32)
    const("sqrt2", np.sqrt(2.0), np.float32)
    const("one", 1.0, np.float32)
    const("half", 0.5, np.float32)
    x = "x"
    for layer in range(layers):
        p = f"l{layer}_"
        for n in "qkv":
            init(p + n + "_w", H, H)
            init(p + n + "_b", H)
            nodes += [h.make_node("MatMul", [x, p + n + "_w"], [p + n + "0"]),
                      h.make_node("Add", [p + n + "0", p + n + "_b"], [p + n + "1"]),
                      h.make_node("Reshape", [p + n + "1", "qkv_shape"], [p + n + "2"]),
                      h.make_node("Transpose", [p + n + "2"], [p + n], perm=[0, 2, 3, 1] if n == "k" else [0, 2, 1, 3])]
        nodes += [h.make_node("MatMul", [p + "q", p + "k"], [p + "s0"]), h.make_node("Div", [p + "s0", "scale"], [p + "s1"]),
                  h.make_node("Add", [p + "s1", "mask"], [p + "s2"]), h.make_node("Softmax", [p + "s2"], [p + "a"], axis=-1),
                  h.make_node("MatMul", [p + "a", p + "v"], [p + "c0"]),
                  h.make_node("Transpose", [p + "c0"], [p + "c1"], perm=[0, 2, 1, 3]),
                  h.make_node("Reshape", [p + "c1", "out_shape"], [p + "c2"])]
        init(p + "o_w", H, H)
        init(p + "o_b", H)
        const(p + "ln1_g", np.ones(H), np.float32)
        const(p + "ln1_b", np.zeros(H), np.float32)
        nodes += [h.make_node("MatMul", [p + "c2", p + "o_w"], [p + "o0"]), h.make_node("Add", [p + "o0", p + "o_b"], [p + "o1"]),
                  h.make_node("Add", [p + "o1", x], [p + "r1"]),
                  h.make_node("LayerNormalization", [p + "r1", p + "ln1_g", p + "ln1_b"], [p + "h1"], axis=-1, epsilon=1e-12)]
        init(p + "f1_w", H, 4 * H)
        init(p + "f1_b", 4 * H)
        init(p + "f2_w", 4 * H, H)
        init(p + "f2_b", H)
        const(p + "ln2_g", np.ones(H), np.float32)
        const(p + "ln2_b", np.zeros(H), np.float32)
        nodes += [h.make_node("MatMul", [p + "h1", p + "f1_w"], [p + "f0"]), h.make_node("Add", [p + "f0", p + "f1_b"], [p + "f1"]),
                  h.make_node("Div", [p + "f1", "sqrt2"], [p + "g0"]), h.make_node("Erf", [p + "g0"], [p + "g1"]),
                  h.make_node("Add", [p + "g1", "one"], [p + "g2"]), h.make_node("Mul", [p + "f1", p + "g2"], [p + "g3"]),
                  h.make_node("Mul", [p + "g3", "half"], [p + "g4"]), h.make_node("MatMul", [p + "g4", p + "f2_w"], [p + "f3"]),
                  h.make_node("Add", [p + "f3", p + "f2_b"], [p + "f4"]), h.make_node("Add", [p + "f4", p + "h1"], [p + "r2"]),
                  h.make_node("LayerNormalization", [p + "r2", p + "ln2_g", p + "ln2_b"], [p + "out"], axis=-1, epsilon=1e-12)]
        x = p + "out"
    graph = h.make_graph(nodes, "encoder", [h.make_tensor_value_info("x", T.FLOAT, [B, S, H]),
                                            h.make_tensor_value_info("mask", T.FLOAT, [B, 1, 1, S])],
                         [h.make_tensor_value_info(x, T.FLOAT, [B, S, H])], inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def ort_latency(model, data, batch, threads, warmup):
    """ONNX Runtime's median and p90 seconds per batch over the same batches `prune eval` makes."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    tensors = read_safetensors(data, np)
    names = [i.name for i in session.get_inputs()]
    samples = tensors[names[0]].shape[0]
    batches = [{n: np.ascontiguousarray(tensors[n][s:s + batch]) for n in names} for s in range(0, samples, batch)]
    for feeds in batches[:warmup]:  # the same batches `prune eval --warmup` runs first
        session.run(None, feeds)
    times = []
    for feeds in batches:
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times), times[max(0, -(-9 * len(times) // 10) - 1)]


def ours_latency(prune, model, data, batch, threads, warmup):
    """`prune eval --json`'s median and p90 seconds per batch."""
    result = subprocess.run([prune, "eval", model, "--data", data, "--batch", str(batch), "--threads", str(threads),
                             "--warmup", str(warmup), "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"prune eval failed: {result.stderr.strip()}")
    latency = json.loads(result.stdout)["latency"]["model"]
    return latency["medianSeconds"], latency["p90Seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prune", default=os.path.join(ROOT, ".build/release/prune"))
    parser.add_argument("--keep", help="write the encoder and its data here and keep them")
    parser.add_argument("--json", help="also write the rows as JSON to this file")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted warm-up batches for both engines (default 2)")
    args = parser.parse_args()
    if not os.access(args.prune, os.X_OK):
        raise SystemExit(f"no prune binary at {args.prune}: run `swift build -c release --product prune` first")
    import numpy as np

    workdir = args.keep or tempfile.mkdtemp(prefix="prunekit-bench-")
    os.makedirs(workdir, exist_ok=True)
    encoder = os.path.join(workdir, "encoder.onnx")
    encoder_data = os.path.join(workdir, "encoder-data.safetensors")
    build_encoder(encoder)
    rng = np.random.default_rng(1)
    write_safetensors(encoder_data, {"x": rng.standard_normal((128, 64, 384)).astype(np.float32),
                                     "mask": np.zeros((128, 1, 1, 64), np.float32)}, np)
    cnn = os.path.join(ROOT, "Examples/digits-cnn/model.onnx")
    cnn_data = os.path.join(ROOT, "Examples/digits-cnn/test.safetensors")
    cases = [("digits CNN", cnn, cnn_data, 1), ("digits CNN", cnn, cnn_data, 256),
             ("encoder 6x384, seq 64", encoder, encoder_data, 32)]
    rows = []
    print(f"{'model':<22} {'batch':>5} {'thr':>3} {'ours median':>12} {'ORT median':>11} {'ratio':>6} {'ours p90':>10} {'ORT p90':>10}")
    for name, model, data, batch in cases:
        for threads in (1, 2):
            ours = ours_latency(args.prune, model, data, batch, threads, args.warmup)
            theirs = ort_latency(model, data, batch, threads, args.warmup)
            row = {"model": name, "batch": batch, "threads": threads, "oursMedian": ours[0], "ortMedian": theirs[0],
                   "ratio": ours[0] / theirs[0], "oursP90": ours[1], "ortP90": theirs[1]}
            rows.append(row)
            print(f"{name:<22} {batch:>5} {threads:>3} {ours[0]*1e3:>9.3f} ms {theirs[0]*1e3:>8.3f} ms {row['ratio']:>6.2f}"
                  f" {ours[1]*1e3:>7.3f} ms {theirs[1]*1e3:>7.3f} ms", flush=True)
    print("ratio = our median / ONNX Runtime's median per batch (> 1: we are slower)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    if not args.keep:
        for path in (encoder, encoder_data):
            os.remove(path)
        os.rmdir(workdir)


if __name__ == "__main__":
    main()
