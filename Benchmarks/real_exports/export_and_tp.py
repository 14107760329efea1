#!/usr/bin/env python3
"""One torchvision model: export it to ONNX as a user would, and prune it with Torch-Pruning (run in .venv-torch).

Usage: export_and_tp.py MODEL WORKDIR export|tp|tp-folded
  export  seeded (torch.manual_seed(0)) torchvision weights-free model in eval mode, exported with
          torch.onnx.export(model, (x,), WORKDIR/model.onnx, dynamo=False) and its other defaults (the TorchScript
          exporter, default opset, constant folding on, static shapes); writes WORKDIR/input.safetensors (one
          seeded sample named like the graph input), WORKDIR/ort.safetensors (ONNX Runtime's output on it) and
          WORKDIR/export.json (opset, parameter count, torch versions).
  tp      Torch-Pruning on the same model: tp.pruner.MetaPruner(MagnitudeImportance(p=2), pruning_ratio=0.5,
          ignored_layers=[the final classifier]); writes WORKDIR/tp.json with the parameter counts before and after,
          the seconds spent in DependencyGraph building + pruning, and for every Conv/Linear module (qualified
          name) the output channels it kept, in original indices.
  tp-folded  the same on the weights the ONNX file holds: every BatchNorm that follows a Conv folded into it first
          (torch.fx.experimental.optimization.fuse, the folding the exporter does in eval mode), written to
          WORKDIR/tp_folded.json. Folding scales a Conv's rows by gamma/sqrt(var + eps) (1/sqrt(1 + eps) when freshly
          initialised) but not the Convs without BatchNorm (squeeze-excitation's), so on near ties the two
          references can keep different channels; this one scores exactly the numbers PruneKit reads.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import CLASSIFIERS, write_safetensors  # noqa: E402


def build(name):
    torch.manual_seed(0)
    kwargs = {"aux_logits": False, "init_weights": True} if name in ("googlenet", "inception_v3") else {}
    return torchvision.models.get_model(name, weights=None, **kwargs).eval()


def example(name):
    size = 299 if name == "inception_v3" else 224
    return torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))


def classifier(model, name):
    module = model
    for part in CLASSIFIERS[name].split("."):
        module = getattr(module, part)
    return module


def export(name, work):
    import onnx
    import onnxruntime as ort
    model, x = build(name), example(name)
    path = os.path.join(work, "model.onnx")
    torch.onnx.export(model, (x,), path, dynamo=False)
    proto = onnx.load(path)
    input_name = proto.graph.input[0].name
    write_safetensors(os.path.join(work, "input.safetensors"), {input_name: x.numpy()})
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    y = session.run(None, {input_name: x.numpy()})[0]
    write_safetensors(os.path.join(work, "ort.safetensors"), {"output": y})
    with torch.no_grad():
        torch_diff = float(np.abs(model(x).numpy() - y).max())
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    info = {"opset": opset, "input": input_name, "output": proto.graph.output[0].name, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "parameters": sum(p.numel() for p in model.parameters()),
            "ort_vs_torch_max_abs": torch_diff, "file_bytes": os.path.getsize(path)}
    with open(os.path.join(work, "export.json"), "w") as f:
        json.dump(info, f, indent=1)


def prune_tp(name, work, folded=False):
    import torch_pruning as tp
    model, x = build(name), example(name)
    if folded:
        from torch.fx.experimental.optimization import fuse
        model = fuse(model)
    before = sum(p.numel() for p in model.parameters())
    layers = {n: m for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    width = {n: (m.out_channels if isinstance(m, nn.Conv2d) else m.out_features) for n, m in layers.items()}
    names = {id(m): n for n, m in layers.items()}
    pruned = {n: set() for n in layers}
    start = time.perf_counter()
    pruner = tp.pruner.MetaPruner(model, x, importance=tp.importance.MagnitudeImportance(p=2), pruning_ratio=0.5,
                                  ignored_layers=[classifier(model, name)])
    for group in pruner.step(interactive=True):
        for dep, idxs in group:
            fn = dep.handler
            module = dep.target.module
            if id(module) in names and fn in (tp.prune_conv_out_channels, tp.prune_linear_out_channels,
                                              getattr(tp, "prune_depthwise_conv_out_channels", None)):
                pruned[names[id(module)]].update(int(i) for i in idxs)
        group.prune()
    seconds = time.perf_counter() - start
    after = sum(p.numel() for p in model.parameters())
    kept = {n: [i for i in range(width[n]) if i not in pruned[n]] for n in layers}
    with open(os.path.join(work, "tp_folded.json" if folded else "tp.json"), "w") as f:
        json.dump({"before": before, "after": after, "seconds": seconds, "kept": kept,
                   "torch_pruning": tp.__version__}, f)


if __name__ == "__main__":
    model_name, workdir, what = sys.argv[1:4]
    os.makedirs(workdir, exist_ok=True)
    if what == "export":
        export(model_name, workdir)
    else:
        prune_tp(model_name, workdir, folded=what == "tp-folded")
