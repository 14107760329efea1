"""Accuracy of the bundled digits CNN after unstructured pruning, measured with `prune eval`.

For each scorer (magnitude, energy, activation) and selector (layer, global; row for activation = Wanda) at
50/70/90 % sparsity, runs `prune run` (the data-aware scorers read statistics calibrated once on
Examples/digits-cnn/calib.safetensors and saved with --save-stats) and evaluates the pruned model on
Examples/digits-cnn/test.safetensors with `prune eval --labels labels --json`. Prints a Markdown table.

Standard library only.  Run from the repository root after `swift build -c release --product prune`:
  python3 Scripts/calibration/accuracy_table.py [path/to/prune]     # default .build/release/prune
"""
import json
import os
import subprocess
import sys
import tempfile

EXAMPLE = "Examples/digits-cnn"
PRUNE = sys.argv[1] if len(sys.argv) > 1 else ".build/release/prune"
SPARSITIES = [0.5, 0.7, 0.9]
RUNS = [
    ("magnitude", "layer"), ("magnitude", "global"),
    ("energy", "layer"), ("energy", "global"),
    ("activation", "layer"), ("activation", "global"), ("activation", "row"),
]
TEST = os.path.join(EXAMPLE, "test.safetensors")


def prune(*arguments):
    return subprocess.run([PRUNE, *arguments], check=True, capture_output=True, text=True).stdout


def accuracy(model_path):
    """(correct, total) of `prune eval` on the bundled test set."""
    report = json.loads(prune("eval", model_path, "--data", TEST, "--labels", "labels", "--json"))
    return report["accuracy"]["correct"], report["accuracy"]["total"]


def percent(result):
    correct, total = result
    return f"{100 * correct / total:.1f} %"


def main():
    model = os.path.join(EXAMPLE, "model.onnx")
    dense = accuracy(model)
    with tempfile.TemporaryDirectory() as work:
        stats = os.path.join(work, "stats.safetensors")
        prune("run", model, "--calibration", os.path.join(EXAMPLE, "calib.safetensors"), "--save-stats", stats,
              "--scorer", "activation", "--selector", "row:sparsity=0.1", "-o", os.path.join(work, "warmup.onnx"))
        rows = []
        for scorer, selector in RUNS:
            cells = []
            for s in SPARSITIES:
                out = os.path.join(work, f"{scorer}-{selector}-{s}.onnx")
                data = ["--stats", stats] if scorer in ("energy", "activation") else []
                prune("run", model, *data, "--scorer", scorer, "--selector", f"{selector}:sparsity={s}", "-o", out)
                cells.append(percent(accuracy(out)))
            data_note = " (calibrated)" if scorer in ("energy", "activation") else ""
            rows.append(f"| `{scorer}`{data_note} | `{selector}` | " + " | ".join(cells) + " |")
    print(f"dense accuracy: {percent(dense)} ({dense[0]}/{dense[1]} test images)\n")
    print("| scorer | selector | " + " | ".join(f"{int(100 * s)} %" for s in SPARSITIES) + " |")
    print("|---|---|" + "---|" * len(SPARSITIES))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
