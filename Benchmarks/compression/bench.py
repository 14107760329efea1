#!/usr/bin/env python3
"""Compression benchmark: file size, ONNX Runtime latency and fidelity of stored-sparse (and, later, quantised)
models, on the bundled digits CNN and on all-MiniLM-L6-v2.

Each row of CONFIGS is one way to produce a model from the dense input: the `prune run` arguments (None: the input
as it is) and the output's extension (.onnx or .safetensors). To add a configuration — say a quantisation recipe —
append a row; nothing else changes. For every model and configuration the script runs `prune run`, then measures

  - size: the bytes of every file written (model, external data, config.json);
  - ORT latency: median seconds of one batch in an ONNX Runtime session with 1 and with 2 intra-op threads
    (ONNX outputs only; safetensors rows have no runtime);
  - ORT RSS: the peak resident memory of a fresh process that only opens the session (what loading costs; ORT
    densifies sparse_initializer at load, so this shows whether sparse storage saves memory at run time);
  - fidelity: top-1 accuracy on the digits test set; for MiniLM the mean cosine similarity of the sentence
    embeddings to the dense model's over the held-out sentences;
  - for safetensors rows written in a compressed-tensors layout, whether the library's own decompressor
    (Scripts/compression/decompress_check.py) gives back the weights of the same run stored dense.

Python: numpy, onnxruntime, safetensors (and torch + compressed-tensors==0.14.0.1 for the decompression check;
without them that column says "n/a"). MiniLM: a folder with minilm.onnx, eval/*.safetensors (made by
Scripts/encoder/make_minilm.py; default .cache/encoder).

  python3 Benchmarks/compression/bench.py [--prune PATH] [--minilm DIR] [--models digits,minilm] [--json]
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# One row per configuration: name, `prune run` arguments (None = the input unchanged), output extension.
MAG50 = ["--scorer", "magnitude", "--selector", "row:sparsity=0.5"]
MAG80 = ["--scorer", "magnitude", "--selector", "row:sparsity=0.8"]
TWO_FOUR = ["--scorer", "magnitude", "--selector", "nm:n=2,m=4"]
CONFIGS = [
    {"name": "dense (input)", "prune": None, "ext": ".onnx"},
    {"name": "50% unstructured, dense storage", "prune": MAG50 + ["--storage", "dense"], "ext": ".onnx"},
    {"name": "50% unstructured, sparse_initializer", "prune": MAG50 + ["--storage", "sparse"], "ext": ".onnx"},
    {"name": "50% unstructured, auto", "prune": MAG50 + ["--storage", "auto"], "ext": ".onnx"},
    {"name": "80% unstructured, auto", "prune": MAG80 + ["--storage", "auto"], "ext": ".onnx"},
    {"name": "50% unstructured, safetensors dense", "prune": MAG50 + ["--storage", "dense"], "ext": ".safetensors"},
    {"name": "50% unstructured, safetensors compressed", "prune": MAG50 + ["--storage", "sparse"],
     "ext": ".safetensors", "dense_twin": "50% unstructured, safetensors dense"},
    {"name": "2:4, safetensors dense", "prune": TWO_FOUR + ["--storage", "dense"], "ext": ".safetensors"},
    {"name": "2:4, safetensors compressed", "prune": TWO_FOUR + ["--storage", "sparse"], "ext": ".safetensors",
     "dense_twin": "2:4, safetensors dense"},
]


def log(message):
    print(message, file=sys.stderr, flush=True)


class Digits:
    name = "digits CNN"

    def __init__(self, _args):
        self.model = os.path.join(ROOT, "Examples", "digits-cnn", "model.onnx")
        data = load_file(os.path.join(ROOT, "Examples", "digits-cnn", "test.safetensors"))
        self.inputs, self.labels = data["input"], data["labels"]
        self.batch = {"input": self.inputs[:1]}
        self.metric = "accuracy"

    def fidelity(self, session, _reference):
        logits = session.run(None, {session.get_inputs()[0].name: self.inputs})[0]
        return float((logits.argmax(1) == self.labels).mean())

    def outputs(self, session):
        return None


class MiniLM:
    name = "all-MiniLM-L6-v2"

    def __init__(self, args):
        self.model = os.path.join(args.minilm, "minilm.onnx")
        files = sorted(glob.glob(os.path.join(args.minilm, "eval", "*.safetensors")))
        if not os.path.exists(self.model) or not files:
            sys.exit(f"{args.minilm} has no minilm.onnx and eval/*.safetensors (Scripts/encoder/make_minilm.py)")
        self.batches = [load_file(path) for path in files]
        self.batch = self.batches[0]
        self.metric = "mean cosine"

    def outputs(self, session):
        return np.concatenate([session.run(None, dict(batch))[0] for batch in self.batches])

    def fidelity(self, session, reference):
        embeddings = self.outputs(session)
        cosine = (embeddings * reference).sum(1) / (
            np.linalg.norm(embeddings, axis=1) * np.linalg.norm(reference, axis=1))
        return float(cosine.mean())


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def latency(path, feed, threads, runs):
    s = session(path, threads)
    feed = {k: v for k, v in feed.items()}
    for _ in range(3):
        s.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        s.run(None, feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load_rss_mib(path):
    """Peak RSS (MiB) of a fresh Python process that imports onnxruntime and opens the session, minus the same
    process without the session."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent at fork, so a child of this (large)
    # process would report the parent's peak.
    code = ("import sys, onnxruntime as ort\n"
            "if sys.argv[1] != '-': ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])\n"
            "print([line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')][0])")
    def peak(argument):
        out = subprocess.run([sys.executable, "-c", code, argument], check=True, capture_output=True, text=True)
        return int(out.stdout.strip()) / 1024
    return peak(path) - peak("-")


def written_files(output):
    files = [output] + [f for f in [output + ".data"] if os.path.exists(f)]
    config = os.path.join(os.path.dirname(output), "config.json")
    if output.endswith(".safetensors") and os.path.exists(config):
        files.append(config)
    return files


def decompress_check(directory, twin):
    script = os.path.join(ROOT, "Scripts", "compression", "decompress_check.py")
    result = subprocess.run([sys.executable, script, directory, twin], capture_output=True, text=True)
    if result.returncode != 0 and "ModuleNotFoundError" in result.stderr:
        return "n/a"
    try:
        report = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return "error: " + result.stderr.strip()[-200:]
    return (f"equal ({report['format']}, {report['decompressed']} weights)" if not report["mismatches"]
            else f"DIFFERENT: {report['mismatches'][:2]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prune", default=os.path.join(ROOT, ".build", "release", "prune"))
    parser.add_argument("--minilm", default=os.path.join(ROOT, ".cache", "encoder"))
    parser.add_argument("--models", default="digits,minilm")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(args.prune):
        log("building prune (release) ...")
        subprocess.run(["swift", "build", "-c", "release", "--product", "prune"], cwd=ROOT, check=True,
                       stdout=sys.stderr)
    models = {"digits": Digits, "minilm": MiniLM}
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for key in args.models.split(","):
            model = models[key](args)
            reference = model.outputs(session(model.model, 2))
            outputs = {}
            for config in CONFIGS:
                directory = os.path.join(work, key, str(CONFIGS.index(config)))
                os.makedirs(directory)
                if config["prune"] is None:
                    output = model.model
                else:
                    output = os.path.join(directory, "model" + config["ext"])
                    log(f"{model.name}: {config['name']}: prune run")
                    subprocess.run([args.prune, "run", model.model, "-o", output, *config["prune"]], check=True,
                                   stdout=subprocess.DEVNULL)
                outputs[config["name"]] = output
                row = {"model": model.name, "config": config["name"],
                       "bytes": sum(os.path.getsize(f) for f in written_files(output))}
                if output.endswith(".onnx"):
                    row["ort_seconds_1"] = latency(output, model.batch, 1, args.runs)
                    row["ort_seconds_2"] = latency(output, model.batch, 2, args.runs)
                    row["ort_load_rss_mib"] = load_rss_mib(output)
                    row[model.metric] = model.fidelity(session(output, 2), reference)
                if "dense_twin" in config:
                    row["library decompress"] = decompress_check(directory, outputs[config["dense_twin"]])
                rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| model | configuration | size | ORT 1 thread | ORT 2 threads | ORT load RSS | fidelity | library decompress |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        fidelity = row.get("accuracy", row.get("mean cosine"))
        metric = "accuracy" if "accuracy" in row else "cosine"
        print(f"| {row['model']} | {row['config']} | {row['bytes'] / 1024:,.1f} KiB | "
              + (f"{row['ort_seconds_1'] * 1e3:.2f} ms | {row['ort_seconds_2'] * 1e3:.2f} ms | "
                 f"{row['ort_load_rss_mib']:.1f} MiB | {metric} {fidelity:.4f} | " if "ort_seconds_1" in row
                 else "– | – | – | – | ")
              + f"{row.get('library decompress', '')} |")


if __name__ == "__main__":
    main()
