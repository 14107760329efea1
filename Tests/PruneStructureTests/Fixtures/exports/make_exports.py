#!/usr/bin/env python3
"""Writes the tiny real-export fixtures RealExportTests runs on: torchvision architectures at a width a CI can carry.

Each model is built from torchvision's own classes and blocks (so the exporter sees the same modules as on the full
model) with small widths, seeded (torch.manual_seed(0)) with torchvision's own initialisation, in eval mode, and
exported with torch.onnx.export's TorchScript exporter (dynamo=False) and otherwise its defaults (the default opset,
constant folding on, static shapes). Next to each NAME.onnx it writes NAME.io.safetensors holding `input` (the
example batch, seeded) and `output` (ONNX Runtime's output on it, one thread). manifest.json records, per model,
what it covers, its parameter count, and Torch-Pruning's result on the same torch model (MagnitudeImportance(p=2),
pruning ratio 0.5, the classifier ignored): how many groups it prunes and the parameter count it leaves.

Run from the repository root: .venv-torch/bin/python Tests/PruneStructureTests/Fixtures/exports/make_exports.py
(bash Scripts/setup-torch.sh creates .venv-torch). Each file stays under 300 KB, all under 5 MB.
With --kept it only writes kept.json: for every model, the output channels Torch-Pruning keeps (same pruner, same
seeded weights) in each Conv and Linear, by qualified module name, for the kept-channel parity test.
"""
import importlib
import json
import os
import sys

import numpy as np
import onnxruntime as ort
import torch
import torch_pruning as tp
from torch import nn
from torchvision.models import convnext, densenet, efficientnet, mobilenetv2, mobilenetv3, regnet, resnet
from torchvision.models import shufflenetv2, squeezenet, vision_transformer

googlenet = importlib.import_module("torchvision.models.googlenet")  # the package's `googlenet` is the builder

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = 10


class TinyResNet(nn.Module):
    """resnet18's layout (stem, BasicBlock stages with a downsampling shortcut, avgpool, fc) at widths 8-16."""

    def __init__(self, block=resnet.BasicBlock, widths=(8, 16), groups=1, width_per_group=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        layers, inplanes = [], widths[0]
        for i, planes in enumerate(widths):
            stride = 1 if i == 0 else 2
            out = planes * block.expansion
            down = None
            if stride != 1 or inplanes != out:
                down = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
            layers.append(block(inplanes, planes, stride, down, groups=groups, base_width=width_per_group))
            layers.append(block(out, planes, groups=groups, base_width=width_per_group))
            inplanes = out
        self.layers = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, CLASSES)

    def forward(self, x):
        x = self.layers(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TinyGoogLeNet(nn.Module):
    """GoogLeNet's Inception blocks (four branches concatenated, a max-pool branch) at widths 4-16."""

    def __init__(self):
        super().__init__()
        self.conv1 = googlenet.BasicConv2d(3, 16, kernel_size=3, padding=1)
        self.maxpool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = googlenet.Inception(16, 8, 8, 12, 4, 4, 4)
        self.inception3b = googlenet.Inception(28, 8, 8, 12, 4, 4, 4)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(28, CLASSES)

    def forward(self, x):
        x = self.inception3b(self.inception3a(self.maxpool(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TinySqueezeNet(nn.Module):
    """SqueezeNet 1.0's Fire modules (squeeze, then 1×1 and 3×3 expands concatenated) and conv classifier."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
            squeezenet.Fire(16, 4, 8, 8), squeezenet.Fire(16, 4, 8, 8), nn.MaxPool2d(3, 2, ceil_mode=True),
            squeezenet.Fire(16, 8, 16, 16))
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Conv2d(32, CLASSES, 1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


def tiny_efficientnet():
    setting, _ = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)
    return efficientnet.EfficientNet(setting[:4], 0.2, num_classes=CLASSES)  # the first four stages


def tiny_mobilenet_v3():
    setting, last = mobilenetv3._mobilenet_v3_conf("mobilenet_v3_large", width_mult=0.25, reduced_tail=True)
    # The first seven blocks (ReLU, squeeze-excitation, the first Hardswish) and one Hardswish block with SE.
    return mobilenetv3.MobileNetV3(setting[:7] + setting[10:11], last // 4, num_classes=CLASSES)


def tiny_regnet():
    params = regnet.BlockParams.from_init_params(depth=3, w_0=8, w_a=8.0, w_m=2.0, group_width=4, se_ratio=0.25)
    return regnet.RegNet(params, num_classes=CLASSES, stem_width=8)


def tiny_convnext():
    setting = [convnext.CNBlockConfig(16, 32, 1), convnext.CNBlockConfig(32, None, 1)]
    return convnext.ConvNeXt(setting, stochastic_depth_prob=0.0, num_classes=CLASSES)


def tiny_vit():
    return vision_transformer.VisionTransformer(
        image_size=32, patch_size=8, num_layers=1, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=CLASSES)


# name -> (builder, classifier getter, what the model covers)
MODELS = {
    "resnet18": (lambda: TinyResNet(), lambda m: m.fc, "residual Add, BatchNorm, downsampling shortcut"),
    "resnext50_32x4d": (lambda: TinyResNet(resnet.Bottleneck, (8, 16), groups=4, width_per_group=8),
                        lambda m: m.fc, "grouped Conv (group=4), Bottleneck residual Add"),
    "densenet121": (lambda: densenet.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2,
                                              num_classes=CLASSES),
                    lambda m: m.classifier, "dense Concat, BN-ReLU-Conv, transition AvgPool"),
    "googlenet": (lambda: TinyGoogLeNet(), lambda m: m.fc, "Inception Concat of four branches"),
    "squeezenet1_0": (lambda: TinySqueezeNet(), lambda m: m.classifier[1], "Fire Concat, Conv classifier"),
    "mobilenet_v2": (lambda: mobilenetv2.MobileNetV2(
        num_classes=CLASSES, width_mult=0.25,
        inverted_residual_setting=[[1, 8, 1, 1], [6, 12, 2, 2], [6, 16, 2, 2]]),
        lambda m: m.classifier[1], "depthwise Conv, inverted residual Add, ReLU6 (Clip)"),
    "mobilenet_v3_large": (tiny_mobilenet_v3, lambda m: m.classifier[3],
                           "squeeze-excitation (Hardsigmoid), Hardswish, depthwise Conv"),
    "efficientnet_b0": (tiny_efficientnet, lambda m: m.classifier[1], "squeeze-excitation (Sigmoid·Mul), SiLU"),
    "shufflenet_v2_x1_0": (lambda: shufflenetv2.ShuffleNetV2([1, 1, 1], [8, 16, 32, 64, 128], num_classes=CLASSES),
                           lambda m: m.fc, "channel shuffle (Reshape → Transpose → Reshape), Split/Slice, Concat"),
    "regnet_y_400mf": (tiny_regnet, lambda m: m.fc, "grouped Conv, squeeze-excitation, residual Add"),
    "convnext_tiny": (tiny_convnext, lambda m: m.classifier[2],
                      "LayerNorm over channels after a Transpose, layer scale, depthwise 7×7 Conv"),
    "vit_b_16": (tiny_vit, lambda m: m.heads.head, "attention (MultiheadAttention), LayerNorm, class token"),
}


def write_safetensors(path, tensors):
    """Writes float32 arrays (by name) as a safetensors file (`Scripts/ort_run.py`'s writer)."""
    sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "Scripts"))
    import ort_run  # noqa: E402 - the one safetensors writer of the repository's Python tools
    ort_run.write_safetensors(path, {k: np.asarray(v, dtype="<f4") for k, v in tensors.items()}, np)


def parameters(model):
    return sum(p.numel() for p in model.parameters())


def torch_pruning(name, example):
    """Torch-Pruning's MetaPruner at ratio 0.5 on a fresh copy: (groups pruned, parameters left)."""
    builder, classifier, _ = MODELS[name]
    torch.manual_seed(0)
    model = builder().eval()
    pruner = tp.pruner.MetaPruner(model, example, importance=tp.importance.MagnitudeImportance(p=2),
                                  pruning_ratio=0.5, ignored_layers=[classifier(model)])
    groups = 0
    for group in pruner.step(interactive=True):
        group.prune()
        groups += 1
    return groups, parameters(model)


def torch_pruning_kept(name, example):
    """Torch-Pruning's MetaPruner at ratio 0.5: {Conv/Linear module: the output channels it keeps}."""
    builder, classifier, _ = MODELS[name]
    torch.manual_seed(0)
    model = builder().eval()
    layers = {n: m for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    width = {n: (m.out_channels if isinstance(m, nn.Conv2d) else m.out_features) for n, m in layers.items()}
    names = {id(m): n for n, m in layers.items()}
    pruned = {n: set() for n in layers}
    pruner = tp.pruner.MetaPruner(model, example, importance=tp.importance.MagnitudeImportance(p=2),
                                  pruning_ratio=0.5, ignored_layers=[classifier(model)])
    out_fns = (tp.prune_conv_out_channels, tp.prune_linear_out_channels,
               getattr(tp, "prune_depthwise_conv_out_channels", None))
    for group in pruner.step(interactive=True):
        for dep, idxs in group:
            if id(dep.target.module) in names and dep.handler in out_fns:
                pruned[names[id(dep.target.module)]].update(int(i) for i in idxs)
        group.prune()
    return {n: [i for i in range(width[n]) if i not in pruned[n]] for n in layers}


def write_kept():
    kept = {}
    for name, (builder, _, _) in MODELS.items():
        torch.manual_seed(0)
        builder()
        example = torch.randn(2, 3, 32, 32)
        try:
            kept[name] = torch_pruning_kept(name, example)
        except Exception as error:  # noqa: BLE001 - recorded: Torch-Pruning itself fails on some models
            kept[name] = {"error": f"{type(error).__name__}: {error}"}
    with open(os.path.join(HERE, "kept.json"), "w") as f:
        json.dump({"torch_pruning": tp.__version__, "models": kept}, f, indent=0, sort_keys=True)
        f.write("\n")


def main():
    if "--kept" in sys.argv:
        return write_kept()
    manifest = {"torch": torch.__version__, "torch_pruning": tp.__version__, "onnxruntime": ort.__version__,
                "exporter": "torch.onnx.export(dynamo=False), defaults otherwise", "models": {}}
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    for name, (builder, _, covers) in MODELS.items():
        torch.manual_seed(0)
        model = builder().eval()
        example = torch.randn(2, 3, 32, 32)
        path = os.path.join(HERE, f"{name}.onnx")
        torch.onnx.export(model, (example,), path, input_names=["input"], output_names=["output"], dynamo=False)
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        output = session.run(None, {"input": example.numpy()})[0]
        with torch.no_grad():
            reference = model(example).numpy()
        assert np.abs(output - reference).max() < 1e-4, f"{name}: ONNX Runtime disagrees with torch"
        write_safetensors(os.path.join(HERE, f"{name}.io.safetensors"), {"input": example.numpy(), "output": output})
        groups, left = torch_pruning(name, example)
        manifest["models"][name] = {"covers": covers, "parameters": parameters(model),
                                    "torch_pruning": {"groups_pruned": groups, "parameters_left": left}}
        size = os.path.getsize(path)
        if size >= 300_000:
            raise SystemExit(f"{name}.onnx is {size} bytes (the limit is 300,000)")
        print(f"{name}: {size} bytes, {parameters(model)} parameters, Torch-Pruning pruned {groups} groups, "
              f"{left} parameters left")
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
