"""Accuracy of the bundled digits CNN after unstructured pruning, measured with ONNX Runtime.

For each scorer (magnitude, energy, activation) and selector (layer, global; row for activation = Wanda) at
50/70/90 % sparsity, runs `prune run` (calibrating on Examples/digits-cnn/calib.safetensors where the scorer
reads statistics) and evaluates the pruned model on Examples/digits-cnn/test.safetensors with onnxruntime.
Prints a Markdown table. Stand-in for `prune eval` until that command is on this branch.

Needs PyPI onnxruntime, safetensors, numpy.  Run from the repository root after `swift build`:
  python Scripts/calibration/accuracy_table.py [path/to/prune]
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file

EXAMPLE = "Examples/digits-cnn"
PRUNE = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/prune"
SPARSITIES = [0.5, 0.7, 0.9]
RUNS = [
    ("magnitude", "layer"), ("magnitude", "global"),
    ("energy", "layer"), ("energy", "global"),
    ("activation", "layer"), ("activation", "global"), ("activation", "row"),
]


def accuracy(model_path, test):
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: test["input"]})[0]
    return float((logits.argmax(1) == test["labels"].astype(np.int64)).mean())


def main():
    test = load_file(os.path.join(EXAMPLE, "test.safetensors"))
    model = os.path.join(EXAMPLE, "model.onnx")
    dense = accuracy(model, test)
    with tempfile.TemporaryDirectory() as work:
        stats = os.path.join(work, "stats.safetensors")
        subprocess.run([PRUNE, "run", model, "--calibration", os.path.join(EXAMPLE, "calib.safetensors"),
                        "--save-stats", stats, "--scorer", "activation", "--selector", "row:sparsity=0.1",
                        "-o", os.path.join(work, "warmup.onnx")], check=True, capture_output=True)
        rows = []
        for scorer, selector in RUNS:
            cells = []
            for s in SPARSITIES:
                out = os.path.join(work, f"{scorer}-{selector}-{s}.onnx")
                data = ["--stats", stats] if scorer in ("energy", "activation") else []
                subprocess.run([PRUNE, "run", model, *data, "--scorer", scorer, "--selector",
                                f"{selector}:sparsity={s}", "-o", out], check=True, capture_output=True)
                cells.append(f"{100 * accuracy(out, test):.1f} %")
            data_note = " (calibrated)" if scorer in ("energy", "activation") else ""
            rows.append(f"| `{scorer}`{data_note} | `{selector}` | " + " | ".join(cells) + " |")
    print(f"dense accuracy: {100 * dense:.1f} % on {len(test['labels'])} test images\n")
    print("| scorer | selector | " + " | ".join(f"{int(100 * s)} %" for s in SPARSITIES) + " |")
    print("|---|---|" + "---|" * len(SPARSITIES))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
