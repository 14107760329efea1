#!/usr/bin/env python3
"""Writes the "same"-padding fixture SamePaddingExportTests runs on: a tiny EfficientNet-Lite-style network whose
convolutions pad like TensorFlow's "SAME", the way efficientnet-lite-pytorch's Conv2dStaticSamePadding does it.

That class computes the pads from a fixed image size and applies `nn.ZeroPad2d((left, right, top, bottom))` before
`F.conv2d` (with asymmetric pads when the padding is odd, e.g. (0, 1, 0, 1) for a stride-2 3×3 on an even input).
torch.onnx.export's TorchScript exporter writes that ZeroPad2d as a `Pad` whose pads come from a sub-graph —
ConstantOfShape → Concat → Reshape [-1, 2] → Slice (step −1) → Transpose → Reshape [-1] → Cast — which its
constant folding leaves alone (Slice with a step other than 1), exactly as on the pretrained EfficientNet-Lite0
from PyPI.

The architecture (widths tiny, input 1×3×16×16, ReLU6, BatchNorm folded by the exporter):
  stem      SameConv 3→8 k3 s2                              (pads 0,1,0,1)
  block 1   depthwise SameConv 8 k3 s1, project 1×1 8→8     (no skip: expand ratio 1, as EfficientNet's first block)
  block 2   expand 1×1 8→16, depthwise SameConv 16 k5 s2, project 1×1 16→12   (pads 1,2,1,2)
  block 3   expand 1×1 12→24, depthwise SameConv 24 k3 s1, project 1×1 24→12, + block 2's output (skip)
  head      1×1 12→32, global average pool, flatten, Linear 32→10

Hand-derived channel groups: stem (8, with block 1's depthwise), block 1 project (8), block 2 expand (16, with its
depthwise), block 2 project + block 3 project (12, tied by the skip Add), block 3 expand (24, with its depthwise),
head (32, into the Linear's inputs), and the Linear's outputs (10, a graph output: not prunable) — 7 groups,
6 prunable. BatchNorm statistics are seeded random so the exporter de-duplicates no tensor.

Writes model.onnx and io.safetensors (`input`, seeded, and `output`, ONNX Runtime's output on it, one thread).
Run from the repository root: .venv-torch/bin/python Tests/PruneStructureTests/Fixtures/samepad/make_samepad.py
"""
import math
import os
import sys

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = 16


class SameConv(nn.Conv2d):
    """efficientnet-lite-pytorch's Conv2dStaticSamePadding: TensorFlow "SAME" pads for a fixed image size, applied
    by nn.ZeroPad2d before the convolution."""

    def __init__(self, cin, cout, kernel, stride=1, groups=1, image=IMAGE):
        super().__init__(cin, cout, kernel, stride, groups=groups, bias=False)
        out = math.ceil(image / stride)
        pad = max((out - 1) * stride + kernel - image, 0)
        self.static_padding = nn.ZeroPad2d((pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))

    def forward(self, x):
        return F.conv2d(self.static_padding(x), self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


def bn_act(channels, act=True):
    layers = [nn.BatchNorm2d(channels)]
    if act:
        layers.append(nn.ReLU6())
    return layers


class TinyLite(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(SameConv(3, 8, 3, 2), *bn_act(8))                      # 16 → 8
        self.block1 = nn.Sequential(SameConv(8, 8, 3, 1, groups=8, image=8), *bn_act(8),
                                    nn.Conv2d(8, 8, 1, bias=False), *bn_act(8, act=False))
        self.block2 = nn.Sequential(nn.Conv2d(8, 16, 1, bias=False), *bn_act(16),
                                    SameConv(16, 16, 5, 2, groups=16, image=8), *bn_act(16),  # 8 → 4
                                    nn.Conv2d(16, 12, 1, bias=False), *bn_act(12, act=False))
        self.block3 = nn.Sequential(nn.Conv2d(12, 24, 1, bias=False), *bn_act(24),
                                    SameConv(24, 24, 3, 1, groups=24, image=4), *bn_act(24),
                                    nn.Conv2d(24, 12, 1, bias=False), *bn_act(12, act=False))
        self.head = nn.Sequential(nn.Conv2d(12, 32, 1, bias=False), *bn_act(32))
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        x = x + self.block3(x)
        x = F.adaptive_avg_pool2d(self.head(x), 1).flatten(1)
        return self.fc(x)


def main():
    torch.manual_seed(0)
    model = TinyLite()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            module.weight.data = torch.rand(n) + 0.5
            module.bias.data = torch.randn(n) * 0.1
            module.running_mean = torch.randn(n) * 0.1
            module.running_var = torch.rand(n) + 0.5
    model.eval()
    example = torch.randn(1, 3, IMAGE, IMAGE)
    path = os.path.join(HERE, "model.onnx")
    torch.onnx.export(model, example, path, input_names=["input"], output_names=["output"], dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    output = session.run(None, {"input": example.numpy()})[0]
    with torch.no_grad():
        assert np.allclose(output, model(example).numpy(), atol=1e-5), "ONNX Runtime differs from PyTorch"
    sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "Scripts"))
    import ort_run  # noqa: E402 - the one safetensors writer of the repository's Python tools
    ort_run.write_safetensors(os.path.join(HERE, "io.safetensors"),
                              {"input": example.numpy().astype("<f4"), "output": output.astype("<f4")}, np)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
