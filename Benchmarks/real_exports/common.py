"""What the real-export benchmark's scripts share: the model list, the classifiers, safetensors I/O."""
import os
import sys

import numpy as np

# Smaller models first (the machine's 2 cores are shared).
MODELS = ["squeezenet1_0", "shufflenet_v2_x1_0", "mnasnet1_0", "mobilenet_v2", "regnet_y_400mf", "mobilenet_v3_large",
          "efficientnet_b0", "googlenet", "resnet18", "densenet121", "efficientnet_v2_s", "resnet50",
          "inception_v3", "resnext50_32x4d", "convnext_tiny", "alexnet", "wide_resnet50_2", "vit_b_16", "vgg16_bn"]

# The final classifier of each model (qualified module name), which both pruners leave alone.
CLASSIFIERS = {
    "resnet18": "fc", "resnet50": "fc", "resnext50_32x4d": "fc", "wide_resnet50_2": "fc", "googlenet": "fc",
    "inception_v3": "fc", "regnet_y_400mf": "fc", "shufflenet_v2_x1_0": "fc", "densenet121": "classifier",
    "mobilenet_v2": "classifier.1", "mnasnet1_0": "classifier.1", "efficientnet_b0": "classifier.1",
    "efficientnet_v2_s": "classifier.1", "mobilenet_v3_large": "classifier.3", "squeezenet1_0": "classifier.1",
    "convnext_tiny": "classifier.2", "vgg16_bn": "classifier.6", "alexnet": "classifier.6", "vit_b_16": "heads.head",
}

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Scripts"))
import ort_run  # noqa: E402 - the one safetensors reader and writer of the repository's Python tools


def write_safetensors(path, tensors):
    """Writes NumPy arrays (by name) as a safetensors file (`Scripts/ort_run.py`'s writer)."""
    ort_run.write_safetensors(path, tensors, np)


def read_safetensors(path):
    """The tensors of a safetensors file, by name (`Scripts/ort_run.py`'s reader)."""
    return ort_run.read_safetensors(path, np)


def module_of_node(node_name):
    """The torch module's qualified name from a TorchScript-exported node name.

    Each scope part is the child's name as its parent's sequential names it ('/layer1/layer1.0/conv1/Conv',
    '/features/features.1/conv/conv.0/conv.0.0/Conv'): a part that extends the previous part by '.NAME' adds NAME.
    """
    parts = [p for p in node_name.split("/") if p][:-1]
    qualified, previous = "", ""
    for part in parts:
        if previous and part.startswith(previous + "."):
            qualified += part[len(previous):]
        else:
            qualified = f"{qualified}.{part}" if qualified else part
        previous = part
    return qualified


def refusal_reasons(groups):
    """Refused groups of `prune inspect --groups --json`, counted by reason with the node's name left out."""
    import re
    reasons = {}
    for group in groups:
        if group.get("prunable"):
            continue
        text = group.get("excluded", "?")
        text = re.sub(r"node '[^']*' ", "", text)
        text = re.sub(r"'[^']*'", "'…'", text)
        reasons[text] = reasons.get(text, 0) + 1
    return reasons
