#!/usr/bin/env python3
"""Prepares `prune eval` of a pruned export against ONNX Runtime: the interpreter on the pruned file, not only the dense.

Usage: pruned_reference.py WORKDIR/MODEL PRUNED.onnx [--random-classifier NAME]...
  Writes WORKDIR/MODEL/ort_pruned.onnx, one Constant node returning ONNX Runtime's output of PRUNED.onnx on the
  model's input.safetensors (as bench.py's ort.onnx does for the dense model). With --random-classifier, first
  writes PRUNED.rc.onnx, a copy whose initializers NAME (repeatable) hold seeded random values, and uses that:
  torchvision zero-initialises ViT's classifier (heads.head.weight and .bias), so its logits are all 0 and any two
  runtimes agree on them. Then:
    prune eval PRUNED[.rc].onnx --data WORKDIR/MODEL/input.safetensors --batch 1 --reference WORKDIR/MODEL/ort_pruned.onnx
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import read_safetensors  # noqa: E402


def main(argv):
    args = argv[1:]
    names = []
    while "--random-classifier" in args:
        i = args.index("--random-classifier")
        names.append(args[i + 1])
        del args[i:i + 2]
    work, pruned = args
    if names:
        model = onnx.load(pruned)
        rng = np.random.default_rng(0)
        for i, t in enumerate(model.graph.initializer):
            if t.name in names:
                shape = numpy_helper.to_array(t).shape
                values = (rng.standard_normal(shape) * 0.05).astype(np.float32)
                model.graph.initializer[i].CopyFrom(numpy_helper.from_array(values, t.name))
        pruned = pruned[:-len(".onnx")] + ".rc.onnx"
        onnx.save(model, pruned)
    info = json.load(open(os.path.join(work, "export.json")))
    x = next(iter(read_safetensors(os.path.join(work, "input.safetensors")).values()))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    y = ort.InferenceSession(pruned, options, providers=["CPUExecutionProvider"]).run(None, {info["input"]: x})[0]
    header = onnx.load(pruned, load_external_data=False)
    node = helper.make_node("Constant", [], [info["output"]], value=numpy_helper.from_array(y.astype(np.float32)))
    graph = helper.make_graph([node], "ort_output", [header.graph.input[0]],
                              [helper.make_tensor_value_info(info["output"], onnx.TensorProto.FLOAT, list(y.shape))])
    out = os.path.join(work, "ort_pruned.onnx")
    onnx.save(helper.make_model(graph, opset_imports=header.opset_import), out)
    print(f"{pruned}: ONNX Runtime's output (max |y| {float(np.abs(y).max()):.3g}) in {out}")


if __name__ == "__main__":
    main(sys.argv)
