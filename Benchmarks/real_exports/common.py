"""What the real-export benchmark's scripts share: the model list, the classifiers, safetensors I/O."""
import json
import struct

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

DTYPES = {"F32": "<f4", "I64": "<i8", "I32": "<i4", "F64": "<f8", "U8": "u1", "BOOL": "?", "F16": "<f2"}


def write_safetensors(path, tensors):
    """Writes NumPy arrays (by name) as a safetensors file."""
    names = {np.dtype(v): k for k, v in DTYPES.items()}
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        shape = list(np.shape(array))  # before ascontiguousarray, which turns a 0-d array into shape [1]
        array = np.ascontiguousarray(array)
        blob = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """The tensors of a safetensors file, by name."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        a, b = entry["data_offsets"]
        out[name] = np.frombuffer(data[8 + length + a:8 + length + b], dtype=DTYPES[entry["dtype"]]).reshape(
            entry["shape"])
    return out


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
