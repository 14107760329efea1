"""Issue 16's quantisation table: file size, ONNX Runtime latency (1 and 2 threads) and fidelity of PruneKit's
pruned and quantised models, side by side with onnxruntime.quantization.quantize_static / quantize_dynamic on the
same calibration data.

Models: the bundled digits CNN (Examples/digits-cnn: accuracy on test.safetensors) and all-MiniLM-L6-v2 (the
encoder benchmark's export, Docs/Encoder.md: mean cosine of the sentence embeddings to the dense model's on the
eval sentences, all computed with ONNX Runtime).

Run from the repository root with a Python that has numpy, onnx, onnxruntime and safetensors
(Scripts/setup-python.sh makes .venv):
  .venv/bin/python Benchmarks/quantization/bench.py --prune PATH/TO/prune [--models digits,minilm]
      [--encoder DIR]  (holds minilm.onnx, calib/, eval/; default .cache/encoder) [--work DIR] [--repeat N]
Outputs and prune reports stay in --work (default .cache/quantization); the table goes to stdout (--json too).
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime import quantization as oq
from safetensors.numpy import load_file

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def log(message):
    print(message, file=sys.stderr, flush=True)


def file_bytes(path):
    """The model file plus every external-data file it names."""
    total = os.path.getsize(path)
    model = onnx.load(path, load_external_data=False)
    seen = set()
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location" and entry.value not in seen:
                seen.add(entry.value)
                total += os.path.getsize(os.path.join(os.path.dirname(path), entry.value))
    return total


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def kernel_counts(path):
    """The operator types of ONNX Runtime's optimised graph (which kernels it picked)."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    optimized = path + ".ort-optimized.onnx"
    options.optimized_model_filepath = optimized
    ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    counts = {}
    for node in onnx.load(optimized).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    os.remove(optimized)
    return counts


def latency_ms(path, feed, threads, repeat):
    s = session(path, threads)
    for _ in range(3):
        s.run(None, feed)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        s.run(None, feed)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class Reader(oq.CalibrationDataReader):
    def __init__(self, batches):
        self.batches = list(batches)
        self.position = 0

    def get_next(self):
        if self.position >= len(self.batches):
            return None
        self.position += 1
        return self.batches[self.position - 1]

    def rewind(self):
        self.position = 0


class Digits:
    name = "digits CNN"
    key = "digits"

    def __init__(self, args):
        base = os.path.join(ROOT, "Examples", "digits-cnn")
        self.model = os.path.join(base, "model.onnx")
        self.calib = os.path.join(base, "calib.safetensors")
        test = load_file(os.path.join(base, "test.safetensors"))
        self.inputs, self.labels = test["input"], test["labels"]
        self.latency_feed = {"input": self.inputs[:64]}
        self.metric = "accuracy"

    def calibration_batches(self):
        data = load_file(self.calib)
        return [{"input": data["input"][i:i + 64]} for i in range(0, len(data["input"]), 64)]

    def fidelity(self, path):
        out = session(path, 2).run(None, {"input": self.inputs})[0]
        return float((out.argmax(1) == self.labels).mean())


class MiniLM:
    name = "all-MiniLM-L6-v2"
    key = "minilm"

    def __init__(self, args):
        self.model = os.path.join(args.encoder, "minilm.onnx")
        self.calib = os.path.join(args.encoder, "calib")
        self.eval = [load_file(f) for f in sorted(glob.glob(os.path.join(args.encoder, "eval", "*.safetensors")))]
        self.latency_feed = {k: v for k, v in self.eval[0].items() if k in ("input_ids", "attention_mask")}
        self.metric = "mean cosine"
        self.reference = None

    def calibration_batches(self):
        return [{k: v for k, v in load_file(f).items() if k in ("input_ids", "attention_mask")}
                for f in sorted(glob.glob(os.path.join(self.calib, "*.safetensors")))]

    def embeddings(self, path):
        s = session(path, 2)
        return np.concatenate([s.run(None, {k: b[k] for k in ("input_ids", "attention_mask")})[0] for b in self.eval])

    def fidelity(self, path):
        if self.reference is None:
            self.reference = self.embeddings(self.model)
        ours = self.embeddings(path)
        cos = (ours * self.reference).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(self.reference, axis=1))
        return float(cos.mean())


def variants(model):
    """(label, prune arguments or a recipe, or an ORT quantiser)."""
    calib = ["--calibration", model.calib]
    return [
        ("dense f32", None),
        ("50 % unstructured (SparseGPT)", ["--scorer", "activation", "--selector", "row:sparsity=0.5",
                                           "--rewriter", "reconstruct"] + calib),
        ("50 % + int8 weights (joint GPTQ)", ["--scorer", "activation", "--selector", "row:sparsity=0.5",
                                              "--rewriter", "quantize:method=gptq"] + calib),
        ("50 % + int8 weights (nearest)", ["--scorer", "activation", "--selector", "row:sparsity=0.5",
                                           "--rewriter", "quantize"] + calib),
        ("2:4 + int8 weights (joint GPTQ)", ["--scorer", "activation", "--selector", "nm:n=2,m=4",
                                             "--rewriter", "quantize:method=gptq"] + calib),
        ("int8 weights only (nearest)", ["--scorer", "magnitude", "--selector", "layer:sparsity=0",
                                         "--rewriter", "quantize"]),
        ("static int8 QDQ (qdq, min/max)", ["--scorer", "magnitude", "--selector", "layer:sparsity=0",
                                            "--rewriter", "qdq"] + calib),
        ("static int8 QDQ (qdq, per-tensor w)", ["--scorer", "magnitude", "--selector", "layer:sparsity=0",
                                                 "--rewriter", "qdq:weights=tensor"] + calib),
        ("static int8 QDQ (qdq, percentile)", ["--scorer", "magnitude", "--selector", "layer:sparsity=0",
                                               "--rewriter", "qdq:range=percentile"] + calib),
        ("50 % channels removed + QDQ", "recipe"),
        ("ORT quantize_static (QDQ)", "ort-static"),
        ("ORT quantize_static (QDQ, per-channel)", "ort-static-pc"),
        ("ORT quantize_dynamic", "ort-dynamic"),
    ]


RECIPE = """stages:
  - name: channels
    scorer: magnitude:p=2
    selector: layer:sparsity=0.5
    rewriter: reconstruct
    granularity: unit
  - name: qdq
    scorer: magnitude
    selector: layer:sparsity=0
    rewriter: qdq
"""


def make(model, label, how, out, prune, work):
    if how is None:
        return model.model, None
    if os.path.exists(out):
        return out, None
    start = time.perf_counter()
    if how in ("ort-static", "ort-static-pc"):
        oq.quantize_static(model.model, out, Reader(model.calibration_batches()), quant_format=oq.QuantFormat.QDQ,
                           per_channel=how == "ort-static-pc", activation_type=oq.QuantType.QUInt8,
                           weight_type=oq.QuantType.QInt8)
    elif how == "ort-dynamic":
        oq.quantize_dynamic(model.model, out, weight_type=oq.QuantType.QInt8)
    else:
        arguments = how
        if how == "recipe":
            recipe = os.path.join(work, "channels-then-qdq.yaml")
            with open(recipe, "w") as f:
                f.write(RECIPE)
            arguments = ["--recipe", recipe, "--calibration", model.calib]
        command = [prune, "run", model.model, "-o", out, "--force", "--report", out + ".report.json"] + arguments
        log("  " + " ".join(command))
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
    return out, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prune", required=True)
    parser.add_argument("--models", default="digits,minilm")
    parser.add_argument("--encoder", default=os.path.join(ROOT, ".cache", "encoder"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".cache", "quantization"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated substrings of variant labels")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rows = []
    for key in args.models.split(","):
        model = {"digits": Digits, "minilm": MiniLM}[key](args)
        dense = file_bytes(model.model)
        for index, (label, how) in enumerate(variants(model)):
            if args.only and not any(s in label for s in args.only.split(",")):
                continue
            out = os.path.join(args.work, f"{key}-{index:02d}.onnx")
            log(f"{model.name}: {label}")
            row = {"model": model.name, "variant": label}
            try:
                path, seconds = make(model, label, how, out, args.prune, args.work)
                size = file_bytes(path)
                kernels = kernel_counts(path)
                row.update({
                    "bytes": size, "ratio": dense / size, model.metric: model.fidelity(path),
                    "ms_1_thread": latency_ms(path, model.latency_feed, 1, args.repeat),
                    "ms_2_threads": latency_ms(path, model.latency_feed, 2, args.repeat),
                    "quantized_kernels": {k: v for k, v in kernels.items()
                                          if k.startswith("QLinear") or "Integer" in k or k in ("QGemm", "MatMulNBits")},
                })
            except Exception as error:  # one failed variant must not hide the others
                row["error"] = str(error)
            rows.append(row)
            log(f"  {row}")
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| model | variant | file | × smaller | fidelity | ORT ms (1 thr) | ORT ms (2 thr) | quantized kernels |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        if "error" in row:
            print(f"| {row['model']} | {row['variant']} | failed: {row['error']} ||||||")
            continue
        fidelity = row.get("accuracy", row.get("mean cosine"))
        kernels = ", ".join(f"{k} {v}" for k, v in sorted(row["quantized_kernels"].items())) or "—"
        print(f"| {row['model']} | {row['variant']} | {row['bytes'] / 1e6:.2f} MB | {row['ratio']:.2f} | "
              f"{fidelity:.4f} | {row['ms_1_thread']:.2f} | {row['ms_2_threads']:.2f} | {kernels} |")


if __name__ == "__main__":
    main()
