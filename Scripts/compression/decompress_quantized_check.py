#!/usr/bin/env python3
"""Loads a compressed-tensors quantised checkpoint with the library's own ModelCompressor and compares the weights.

Usage: decompress_quantized_check.py COMPRESSED_DIR EXPECTED.safetensors [--steps S]

COMPRESSED_DIR holds model.safetensors and the config.json PruneKit wrote (int-quantized or pack-quantized, optionally
with a sparsity_config). A torch model with one Linear per quantised or sparse module (shapes from the file) is built,
and `ModelCompressor.from_compression_config(config).decompress(dir, model)` — the path transformers takes for
`run_compressed=False` — loads it: quantisation schemes are attached by the config's targets/ignore, sparse weights
decompressed, quantised ones dequantised. Every tensor of EXPECTED must come back: quantised weights within S
quantisation steps (S = 0: bit for bit; a step is max|expected| over the scale's row or group / (2^(bits-1) - 1);
with a sparsity_config the library loads the scales and returns the weights as float16, which adds up to
2 * (2^(bits-1) - 1) * 2^-11 steps),
zeros of EXPECTED as exact zeros, all other tensors bit for bit. Prints one JSON line
{"format": ..., "sparsity": ..., "quantized": N, "tensors": M, "max_steps": x, "mismatches": [...]}; exits 1 on any
mismatch.
"""
import argparse
import json
import os
import sys

import torch
from compressed_tensors.compressors import ModelCompressor
from safetensors import safe_open
from safetensors.torch import load_file


def module_shapes(path, config):
    """Module name -> (out, in, has_bias) for every Linear the compressed file stores a weight for."""
    with safe_open(path, framework="pt") as handle:
        names = set(handle.keys())
        tensors = {name: handle.get_tensor(name) for name in names}
    shapes = {}
    for name, value in tensors.items():
        for suffix in (".weight_shape", ".shape"):
            if name.endswith(suffix):
                rows, cols = (int(v) for v in value.flatten().tolist())
                shapes[name[: -len(suffix)]] = (rows, cols)
        if name.endswith(".weight_scale") and name[: -len("_scale")] in tensors:
            shapes[name[: -len(".weight_scale")]] = tuple(tensors[name[: -len("_scale")]].shape)
    dense = {name: value for name, value in tensors.items() if not any(
        name.startswith(module + ".") for module in shapes)}
    return shapes, {module: f"{module}.bias" in names for module in shapes}, dense


def skeleton(shapes, biases, dense):
    model = torch.nn.Module()

    def place(path, module):
        parent = model
        parts = path.split(".")
        for part in parts[:-1]:
            if not hasattr(parent, part):
                parent.add_module(part, torch.nn.Module())
            parent = getattr(parent, part)
        if hasattr(parent, parts[-1]):
            return getattr(parent, parts[-1])
        parent.add_module(parts[-1], module)
        return module

    for module, (rows, cols) in shapes.items():
        place(module, torch.nn.Linear(cols, rows, bias=biases[module]))
    for name, value in dense.items():
        owner, _, leaf = name.rpartition(".")
        holder = place(owner, torch.nn.Module()) if owner else model
        holder.register_parameter(leaf, torch.nn.Parameter(torch.zeros_like(value), requires_grad=False))
    return model


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("expected")
    parser.add_argument("--steps", type=float, default=0.0)
    args = parser.parse_args()
    with open(os.path.join(args.directory, "config.json")) as handle:
        config = json.load(handle)["quantization_config"]
    path = os.path.join(args.directory, "model.safetensors")
    shapes, biases, dense = module_shapes(path, config)
    model = skeleton(shapes, biases, dense)
    compressor = ModelCompressor.from_compression_config(config)
    compressor.decompress(path, model)
    restored = {name: value.detach() for name, value in model.state_dict().items()}
    # Tensors the compressors leave alone (biases, norms) are loaded as stored, as transformers loads them.
    modules = set(config["config_groups"]["group_0"]["targets"]) | set(shapes)
    with safe_open(path, framework="pt") as handle:
        restored.update({
            name: handle.get_tensor(name) for name in handle.keys()
            if name in restored and name.rpartition(".")[0] not in modules or name.endswith(".bias")})
    weights = config["config_groups"]["group_0"]["weights"]
    bits, group = weights["num_bits"], weights["group_size"]
    sparsity = config.get("sparsity_config") or {}
    # With a sparsity config the sparse decompressor first puts the int8 levels into the module, so
    # initialize_module_for_quantization creates the scale parameter as float16: the float32 scales are rounded to
    # it on load and the weights come back as float16 (compressed-tensors 0.14.0.1). Each rounding adds up to 2^-11
    # of the value, at most (2^(bits-1) - 1) steps.
    slack = 2 * (2 ** (bits - 1) - 1) * 2.0 ** -11 if sparsity else 0.0
    quantized = {module + ".weight" for module in config["config_groups"]["group_0"]["targets"]}
    expected = load_file(args.expected)
    mismatches, worst = [], 0.0
    for name, want in expected.items():
        got = restored.get(name)
        if got is None:
            mismatches.append(f"{name}: missing")
            continue
        if list(got.shape) != list(want.shape):
            mismatches.append(f"{name}: shape {list(got.shape)} vs {list(want.shape)}")
            continue
        if name not in quantized:
            if got.dtype != want.dtype or not torch.equal(got, want):
                mismatches.append(f"{name}: differs from the expected tensor")
            continue
        rows, cols = want.shape
        blocks = want.abs().reshape(rows, -1, group if group else cols).amax(dim=2, keepdim=True)
        step = (blocks / (2 ** (bits - 1) - 1)).expand(rows, -1, group if group else cols).reshape(rows, cols)
        error = (got.float() - want.float()).abs()
        steps = torch.where(step > 0, error / step.clamp_min(1e-30), error * float("inf"))
        steps = torch.nan_to_num(steps, nan=0.0)
        worst = max(worst, float(steps.max()))
        if float(steps.max()) > args.steps + slack + 1e-4:
            mismatches.append(f"{name}: {float(steps.max()):.4f} steps off (allowed {args.steps + slack:.4f})")
        if bool(((want == 0) & (got != 0)).any()):
            mismatches.append(f"{name}: a zero came back non-zero")
    print(json.dumps({
        "format": config["format"], "sparsity": sparsity.get("format"), "quantized": len(quantized),
        "tensors": len(expected), "max_steps": round(worst, 6), "mismatches": mismatches,
    }))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
