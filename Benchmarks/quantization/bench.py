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
      [--only LABEL,...] [--threads 1,2] [--no-latency] [--time-only]
Outputs and prune reports stay in --work (default .cache/quantization), one file per variant named after its
label, reused when present; the table goes to stdout (--json too).

Two passes for a loaded machine: make every file and measure size and fidelity now (--no-latency), then time them
when the machine is quiet (--time-only: makes nothing, skips fidelity, times only the files already in --work;
--prune is then not needed). Variants marked opset 21 (int4) run on a copy of the model converted with
onnx.version_converter (PruneKit does not convert opsets), written to --work once.
"""
import argparse
import glob
import json
import os
import re
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


OPSET21 = "opset 21"


def variants(model):
    """(label, prune arguments or a recipe, or an ORT quantiser). A label containing OPSET21 runs on an opset-21
    copy of the model."""
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
        ("int8 weights + int8 embeddings (nearest)", ["--scorer", "magnitude", "--selector", "layer:sparsity=0",
                                                      "--rewriter", "quantize:embeddings=int8"]),
        ("int8 weights + int4 embeddings (nearest)", ["--scorer", "magnitude", "--selector", "layer:sparsity=0",
                                                      "--rewriter", "quantize:embeddings=int4"]),
        ("50 % + int8 weights + int8 embeddings (joint GPTQ)", [
            "--scorer", "activation", "--selector", "row:sparsity=0.5",
            "--rewriter", "quantize:method=gptq,embeddings=int8"] + calib),
        ("int4 g128 weights + int8 embeddings (nearest, opset 21)", [
            "--scorer", "magnitude", "--selector", "layer:sparsity=0",
            "--rewriter", "quantize:bits=4,group=128,embeddings=int8"]),
        ("int4 g128 weights + int8 embeddings (GPTQ, opset 21)", [
            "--scorer", "magnitude", "--selector", "layer:sparsity=0",
            "--rewriter", "quantize:bits=4,group=128,method=gptq,embeddings=int8"] + calib),
        ("int4 g128 weights + int4 embeddings (GPTQ, opset 21)", [
            "--scorer", "magnitude", "--selector", "layer:sparsity=0",
            "--rewriter", "quantize:bits=4,group=128,method=gptq,embeddings=int4"] + calib),
        ("static int8 QDQ (qdq, min/max)", ["--scorer", "magnitude", "--selector", "layer:sparsity=0",
                                            "--rewriter", "qdq"] + calib),
        ("static int8 QDQ (qdq, per-tensor w)", ["--scorer", "magnitude", "--selector", "layer:sparsity=0",
                                                 "--rewriter", "qdq:weights=tensor"] + calib),
        ("static int8 QDQ (qdq, percentile)", ["--scorer", "magnitude", "--selector", "layer:sparsity=0",
                                               "--rewriter", "qdq:range=percentile"] + calib),
        ("50 % (SparseGPT) then int8 weights (GPTQ) + int8 embeddings", "recipe-sparse-then-int8"),
        ("int4 g128 FFN + int8 attention weights (GPTQ) + int4 embeddings (opset 21)", "recipe-mixed"),
        ("50 % channels removed + QDQ", "recipe"),
        ("ORT quantize_static (QDQ)", "ort-static"),
        ("ORT quantize_static (QDQ, per-channel)", "ort-static-pc"),
        ("ORT quantize_dynamic", "ort-dynamic"),
    ]


# 50 % per row with SparseGPT's reconstruction, then GPTQ on the pruned weights (zeros stay zero) and the tables.
SPARSE_THEN_INT8 = """stages:
  - name: prune
    scorer: activation
    selector: row:sparsity=0.5
    rewriter: reconstruct
  - name: int8
    scorer: magnitude
    selector: layer:sparsity=0
    rewriter: quantize:method=gptq,embeddings=int8
"""

# Mixed precision: the feed-forward weights (two thirds of the linear weights) int4, the attention weights int8.
MIXED = r"""stages:
  - name: ffn-int4
    scorer: magnitude
    selector: layer:sparsity=0
    rewriter: quantize:bits=4,group=128,method=gptq
    include: 'intermediate\.weight$|\.output\.weight$'
  - name: rest-int8
    scorer: magnitude
    selector: layer:sparsity=0
    rewriter: quantize:method=gptq,embeddings=int4
"""

RECIPES = {"recipe": None, "recipe-sparse-then-int8": SPARSE_THEN_INT8, "recipe-mixed": MIXED}

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


def slug(label):
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def source_model(model, label, work):
    """The model a variant starts from: the export, or (for OPSET21 variants) an opset-21 copy of it."""
    if OPSET21 not in label or onnx.load(model.model, load_external_data=False).opset_import[0].version >= 21:
        return model.model
    converted = os.path.join(work, f"{model.key}-opset21.onnx")
    if not os.path.exists(converted):
        from onnx import version_converter
        copy = version_converter.convert_version(onnx.load(model.model), 21)
        copy.ir_version = max(copy.ir_version, 10)
        onnx.checker.check_model(copy)
        onnx.save(copy, converted)
    return converted


def make(model, label, how, out, prune, work):
    if how is None:
        return model.model, None
    if os.path.exists(out):
        return out, None
    if prune is None:
        raise RuntimeError("not made (--time-only, or no --prune)")
    start = time.perf_counter()
    if how in ("ort-static", "ort-static-pc"):
        oq.quantize_static(model.model, out, Reader(model.calibration_batches()), quant_format=oq.QuantFormat.QDQ,
                           per_channel=how == "ort-static-pc", activation_type=oq.QuantType.QUInt8,
                           weight_type=oq.QuantType.QInt8)
    elif how == "ort-dynamic":
        oq.quantize_dynamic(model.model, out, weight_type=oq.QuantType.QInt8)
    else:
        arguments = how
        if isinstance(how, str) and how in RECIPES:
            recipe = os.path.join(work, how + ".yaml")
            with open(recipe, "w") as f:
                f.write(RECIPES[how] or RECIPE)
            arguments = ["--recipe", recipe, "--calibration", model.calib]
        command = [prune, "run", source_model(model, label, work), "-o", out, "--force", "--report", out + ".report.json"] + arguments
        log("  " + " ".join(command))
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
    return out, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prune", help="the prune binary (needed unless --time-only)")
    parser.add_argument("--models", default="digits,minilm")
    parser.add_argument("--encoder", default=os.path.join(ROOT, ".cache", "encoder"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".cache", "quantization"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated substrings of variant labels")
    parser.add_argument("--threads", default="1,2", help="intra-op thread counts to time")
    parser.add_argument("--no-latency", action="store_true", help="make files, measure size and fidelity, no timing")
    parser.add_argument("--time-only", action="store_true",
                        help="make nothing and skip fidelity: time the files already in --work (and the dense model)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.time_only and not args.prune:
        parser.error("--prune is required unless --time-only")
    threads = [int(t) for t in args.threads.split(",")] if not args.no_latency else []
    os.makedirs(args.work, exist_ok=True)
    rows = []
    for key in args.models.split(","):
        model = {"digits": Digits, "minilm": MiniLM}[key](args)
        dense = file_bytes(model.model)
        for label, how in variants(model):
            if args.only and not any(s in label for s in args.only.split(",")):
                continue
            out = os.path.join(args.work, f"{key}-{slug(label)}.onnx")
            if args.time_only and how is not None and not os.path.exists(out):
                continue
            log(f"{model.name}: {label}")
            row = {"model": model.name, "variant": label}
            try:
                path, seconds = make(model, label, how, out, None if args.time_only else args.prune, args.work)
                size = file_bytes(path)
                kernels = kernel_counts(path)
                row.update({
                    "bytes": size, "ratio": dense / size,
                    "quantized_kernels": {k: v for k, v in kernels.items()
                                          if k.startswith("QLinear") or "Integer" in k or k in ("QGemm", "MatMulNBits")},
                })
                if not args.time_only:
                    row[model.metric] = model.fidelity(path)
                for count in threads:
                    row[f"ms_{count}_threads"] = latency_ms(path, model.latency_feed, count, args.repeat)
            except Exception as error:  # one failed variant must not hide the others
                row["error"] = str(error)
            rows.append(row)
            log(f"  {row}")
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    timed = "".join(f" ORT ms ({count} thr) |" for count in threads)
    print(f"| model | variant | file | × smaller | fidelity |{timed} quantized kernels |")
    print("|---|---|---|---|---|" + "---|" * len(threads) + "---|")
    for row in rows:
        if "error" in row:
            print(f"| {row['model']} | {row['variant']} | failed: {row['error']} |||" + "|" * len(threads) + "|")
            continue
        fidelity = row.get("accuracy", row.get("mean cosine"))
        fidelity = "–" if fidelity is None else f"{fidelity:.4f}"
        kernels = ", ".join(f"{k} {v}" for k, v in sorted(row["quantized_kernels"].items())) or "—"
        times = "".join(f" {row[f'ms_{count}_threads']:.2f} |" for count in threads)
        print(f"| {row['model']} | {row['variant']} | {row['bytes'] / 1e6:.2f} MB | {row['ratio']:.2f} | "
              f"{fidelity} |{times} {kernels} |")


if __name__ == "__main__":
    main()
