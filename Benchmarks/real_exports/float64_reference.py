"""How far float32 runtimes are from the exact result on one exported model: a float64 reference.

`prune eval` compares PruneKit's interpreter with ONNX Runtime; both compute in float32. On a freshly initialised
deep network whose logits span many orders of magnitude (inception_v3: 1e8 to 1.4e12) the smaller logits come out of
large cancelling sums, so two correct float32 runtimes disagree there by more than 1e-4 of the value. This script
runs the exported file in float64 (PyTorch's functional ops, node by node, the weights widened from the file's
float32) and compares with it: ONNX Runtime with all graph optimisations (its default), ONNX Runtime with none, and
PruneKit's interpreter (`prune eval --reference` against a model returning the float64 result).

    .venv-torch/bin/python Benchmarks/real_exports/float64_reference.py inception_v3 --prune .build/release/prune

Differences are per element, |a - b| / max(1, |b|), the rule `prune eval` reports as maxRelativeDifference.
Covers the operators of the convolutional corpus models; any other operator stops the script naming it.
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
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

from common import read_safetensors


def attributes(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def padded(x, pads, value=0.0):
    """x padded by ONNX `pads` ([begin..., end...] over the spatial axes) with `value`."""
    half = len(pads) // 2
    torch_pads = [p for axis in reversed(range(half)) for p in (pads[axis], pads[axis + half])]
    return F.pad(x, torch_pads, value=value) if any(pads) else x


def run_float64(model, feeds):
    """The model's first output computed in float64, node by node."""
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float64)) for t in model.graph.initializer}
    env.update({name: torch.from_numpy(value.astype(np.float64)) for name, value in feeds.items()})
    for node in model.graph.node:
        a = attributes(node)
        x = [env[name] if name else None for name in node.input]
        op = node.op_type
        rank = x[0].dim() - 2 if x and x[0] is not None else 0
        pads = list(a.get("pads", [0] * 2 * rank))
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            sys.exit(f"node '{node.name}' ({op}): auto_pad is not covered")
        if op == "Conv":
            conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]
            y = conv(padded(x[0], pads), x[1], x[2] if len(x) > 2 else None, stride=a.get("strides", 1),
                     dilation=a.get("dilations", 1), groups=a.get("group", 1))
        elif op == "MaxPool":
            pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[rank]
            y = pool(padded(x[0], pads, -float("inf")), a["kernel_shape"], a.get("strides", 1), dilation=a.get("dilations", 1),
                     ceil_mode=bool(a.get("ceil_mode", 0)))
        elif op == "AveragePool":
            symmetric = pads[:rank] == pads[rank:]
            if not symmetric:
                sys.exit(f"node '{node.name}' (AveragePool): asymmetric pads are not covered")
            pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[rank]
            y = pool(x[0], a["kernel_shape"], a.get("strides", 1), pads[:rank], ceil_mode=bool(a.get("ceil_mode", 0)),
                     count_include_pad=bool(a.get("count_include_pad", 0)))
        elif op == "GlobalAveragePool":
            y = x[0].mean(dim=tuple(range(2, x[0].dim())), keepdim=True)
        elif op == "Relu":
            y = F.relu(x[0])
        elif op == "Sigmoid":
            y = torch.sigmoid(x[0])
        elif op == "HardSigmoid":
            y = torch.clamp(a.get("alpha", 0.2) * x[0] + a.get("beta", 0.5), 0, 1)
        elif op == "HardSwish":
            y = x[0] * torch.clamp(x[0] / 6 + 0.5, 0, 1)
        elif op == "Clip":
            y = torch.clamp(x[0], x[1].item() if len(x) > 1 and x[1] is not None else None,
                            x[2].item() if len(x) > 2 and x[2] is not None else None)
        elif op in ("Add", "Mul", "Sub", "Div"):
            y = {"Add": torch.add, "Mul": torch.mul, "Sub": torch.sub, "Div": torch.div}[op](x[0], x[1])
        elif op == "Concat":
            y = torch.cat(x, a["axis"])
        elif op == "Flatten":
            axis = a.get("axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:axis])), -1)
        elif op == "Identity":
            y = x[0]
        elif op == "Gemm":
            left = x[0].T if a.get("transA", 0) else x[0]
            right = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (left @ right)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        elif op == "MatMul":
            y = x[0] @ x[1]
        else:
            sys.exit(f"node '{node.name}': operator {op} is not covered by the float64 reference")
        env[node.output[0]] = y
    return env[model.graph.output[0].name].numpy()


def differences(values, reference):
    diff = np.abs(values.astype(np.float64) - reference)
    return float(diff.max()), float((diff / np.maximum(1, np.abs(reference))).max())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", help="a model name under --work (its model.onnx and input.safetensors)")
    parser.add_argument("--work", default=".cache/real_exports")
    parser.add_argument("--prune", default=".build/release/prune")
    args = parser.parse_args()
    work = os.path.join(args.work, args.model)
    model = onnx.load(os.path.join(work, "model.onnx"))
    feeds = read_safetensors(os.path.join(work, "input.safetensors"))
    truth = run_float64(model, feeds)
    print(f"{args.model}: |y| of the float64 result from {np.abs(truth).min():.3g} to {np.abs(truth).max():.3g}")

    outputs = {}
    for label, level in [("ONNX Runtime, all graph optimisations", "ORT_ENABLE_ALL"),
                         ("ONNX Runtime, no graph optimisation", "ORT_DISABLE_ALL")]:
        options = ort.SessionOptions()
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
        session = ort.InferenceSession(os.path.join(work, "model.onnx"), options, providers=["CPUExecutionProvider"])
        outputs[label] = session.run(None, feeds)[0]
    ort_default, ort_plain = outputs

    rows = [(label, *differences(values, truth)) for label, values in outputs.items()]
    rows.append(("PruneKit interpreter (prune eval)", *prune_eval_against(args.prune, work, model, truth)))
    print("| float32 runtime | max abs diff to float64 | max diff / max(1, |y|) |")
    print("|---|---|---|")
    for label, absolute, relative in rows:
        print(f"| {label} | {absolute:.3g} | {relative:.2g} |")

    reference = outputs[ort_default].astype(np.float64)
    print(f"\nAgainst {ort_default} (the reference `prune eval` uses):")
    print(f"- {ort_plain}: max abs {differences(outputs[ort_plain], reference)[0]:.3g}, "
          f"relative {differences(outputs[ort_plain], reference)[1]:.2g}")
    absolute, relative = prune_eval_against(args.prune, work, model, reference)
    print(f"- PruneKit interpreter: max abs {absolute:.3g}, relative {relative:.2g}")


def prune_eval_against(prune, work, model, values):
    """`prune eval`'s max abs and relative difference of the model against a model returning `values`."""
    output = model.graph.output[0]
    constant = helper.make_node("Constant", [], [output.name], value=numpy_helper.from_array(values.astype(np.float32)))
    graph = helper.make_graph([constant], "fixed_output", list(model.graph.input), [output])
    reference = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    reference.ir_version = model.ir_version
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "reference.onnx")
        onnx.save(reference, path)
        result = subprocess.run([prune, "eval", os.path.join(work, "model.onnx"), "--data",
                                 os.path.join(work, "input.safetensors"), "--batch", str(values.shape[0]),
                                 "--reference", path, "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"prune eval failed: {result.stderr.strip()}")
    agreement = json.loads(result.stdout)["agreement"]
    # A float64 reference is rounded to float32 here (relative 6e-8), far below what is measured.
    return agreement["maxAbsDifference"], agreement["maxRelativeDifference"]


if __name__ == "__main__":
    main()
