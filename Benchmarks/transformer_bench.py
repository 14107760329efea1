#!/usr/bin/env python3
"""Dense vs pruned sentence encoders in ONNX Runtime, measured side by side in one run (Docs/Transformers.md).

Usage: transformer_bench.py DENSE.onnx PRUNED.onnx [PRUNED.onnx ...] --eval DIR [--batch 32] [--sequence 64]
           [--runs 20] [--threads 1,2] [--json]
For every model: parameters (initializer elements), file size, mean cosine of its pooled embeddings to the dense
model's on the evaluation batches (DIR/*.safetensors with input_ids and attention_mask, as
Scripts/encoder/make_minilm.py writes them; all computed by ONNX Runtime), and the median ONNX Runtime latency of
one batch of `--batch` random token sequences of length `--sequence` at each thread count, the models interleaved
run by run so they see the same machine load. Needs: numpy onnx onnxruntime.
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Scripts"))
from ort_run import read_safetensors  # noqa: E402


def parameters(path):
    model = onnx.load(path, load_external_data=False)
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer)


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def embeddings(sess, batches):
    names = {i.name for i in sess.get_inputs()}
    return np.concatenate([sess.run(None, {k: v for k, v in b.items() if k in names})[0] for b in batches])


def cosine(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(np.mean(np.sum(a * b, axis=1)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--eval", required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--sequence", type=int, default=64)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--vocab", type=int, default=30522)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    batches = [read_safetensors(p, np) for p in sorted(glob.glob(os.path.join(args.eval, "*.safetensors")))]
    dense = embeddings(session(args.models[0], 2), batches)
    rows = []
    for path in args.models:
        rows.append({"model": path, "parameters": parameters(path), "bytes": os.path.getsize(path),
                     "cosine": cosine(embeddings(session(path, 2), batches), dense)})
    rng = np.random.default_rng(0)
    feed = {"input_ids": rng.integers(1000, args.vocab, size=(args.batch, args.sequence), dtype=np.int64),
            "attention_mask": np.ones((args.batch, args.sequence), dtype=np.int64)}
    for threads in [int(t) for t in args.threads.split(",")]:
        sessions = [session(p, threads) for p in args.models]
        for s in sessions:
            s.run(None, feed)
        times = [[] for _ in sessions]
        for _ in range(args.runs):
            for i, s in enumerate(sessions):
                start = time.perf_counter()
                s.run(None, feed)
                times[i].append(time.perf_counter() - start)
        for row, t in zip(rows, times):
            row[f"ms_{threads}t"] = 1000 * float(np.median(t))
    for row in rows:
        for key in [k for k in row if k.startswith("ms_")]:
            row["speedup_" + key[3:]] = rows[0][key] / row[key]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    keys = [k for k in rows[0] if k.startswith("ms_") or k.startswith("speedup_")]
    print("| model | parameters | MB | mean cosine | " + " | ".join(keys) + " |")
    print("|---" * (4 + len(keys)) + "|")
    for row in rows:
        print(f"| {os.path.basename(row['model'])} | {row['parameters']:,} | {row['bytes'] / 1e6:.1f} | "
              f"{row['cosine']:.4f} | " + " | ".join(f"{row[k]:.2f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
