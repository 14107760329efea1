"""Compare PruneKit's interpreter with ONNX Runtime on an encoder model and the eval batches.

`prune eval` reports agreement with a reference *model*, both run in PruneKit's interpreter. To compare with
ONNX Runtime instead, this script runs MODEL in ONNX Runtime on every eval batch file and writes, per batch, a
reference ONNX model whose output is that batch's ONNX Runtime embeddings as a constant (same inputs, unused).
`prune eval MODEL --data BATCH.safetensors --reference CONST.onnx --json` then gives the interpreter-vs-ORT
mean cosine and max |difference| of that batch; the script prints the worst batch and the sample-weighted
mean cosine over all batches.

Run with the encoder venv (onnx, onnxruntime, numpy, safetensors):
  .venv-encoder/bin/python Scripts/encoder/check_interpreter.py [MODEL] [--data DIR] [--prune PATH] [--json]
  (defaults: .cache/encoder/minilm.onnx, .cache/encoder/eval, .build/release/prune)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def constant_model(source, values, path):
    """A model with `source`'s inputs and first output's name whose output is the constant `values`."""
    output = source.graph.output[0]
    node = helper.make_node("Constant", [], [output.name], value=numpy_helper.from_array(values.astype(np.float32)))
    graph = helper.make_graph(
        [node], "ort_reference", list(source.graph.input),
        [helper.make_tensor_value_info(output.name, TensorProto.FLOAT, list(values.shape))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default=os.path.join(ROOT, ".cache", "encoder", "minilm.onnx"))
    parser.add_argument("--data", default=os.path.join(ROOT, ".cache", "encoder", "eval"))
    parser.add_argument("--prune", default=os.path.join(ROOT, ".build", "release", "prune"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    source = onnx.load(args.model, load_external_data=False)
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    inputs = [value.name for value in session.get_inputs()]
    files = sorted(name for name in os.listdir(args.data) if name.endswith(".safetensors"))
    worst, weighted, samples, rows = 0.0, 0.0, 0, 0
    lowest = 1.0
    with tempfile.TemporaryDirectory() as work:
        for name in files:
            batch = load_file(os.path.join(args.data, name))
            expected = session.run(None, {key: batch[key] for key in inputs})[0]
            reference = os.path.join(work, name.replace(".safetensors", ".onnx"))
            constant_model(source, expected, reference)
            result = subprocess.run(
                [args.prune, "eval", args.model, "--data", os.path.join(args.data, name), "--batch",
                 str(expected.shape[0]), "--reference", reference, "--json"],
                capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(f"prune eval failed on {name}: {result.stderr.strip()}")
            agreement = json.loads(result.stdout)["agreement"]
            worst = max(worst, agreement["maxAbsDifference"])
            lowest = min(lowest, agreement["meanCosine"])
            weighted += agreement["meanCosine"] * agreement["rows"]
            samples += agreement["samples"]
            rows += agreement["rows"]
    summary = {"model": args.model, "data": args.data, "batches": len(files), "samples": samples,
               "meanCosine": weighted / rows, "lowestBatchMeanCosine": lowest, "maxAbsDifference": worst}
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(f"PruneKit interpreter vs ONNX Runtime on {samples} samples in {len(files)} batches: "
              f"mean cosine {summary['meanCosine']:.9f} (lowest batch {lowest:.9f}), max |diff| {worst:.3g}")


if __name__ == "__main__":
    main()
