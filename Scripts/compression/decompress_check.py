#!/usr/bin/env python3
"""Decompresses a compressed-tensors sparse checkpoint with the library's own code and compares it to a dense one.

Usage: decompress_check.py COMPRESSED_DIR DENSE.safetensors

COMPRESSED_DIR holds model.safetensors and the config.json PruneKit wrote. The library's ModelCompressor reads the
sparsity_config from config.json and its sparsity compressor decompresses every compressed weight; every tensor of
DENSE must come back bit for bit (compressed ones decompressed, the others as stored). Prints one JSON line:
{"format": ..., "decompressed": N, "tensors": M, "mismatches": [...]}; exits 1 on any mismatch.
"""
import json
import os
import sys

import torch
from compressed_tensors.compressors import ModelCompressor
from safetensors.torch import load_file


def main() -> int:
    directory, dense_path = sys.argv[1], sys.argv[2]
    with open(os.path.join(directory, "config.json")) as handle:
        config = json.load(handle)
    compressor = ModelCompressor.from_compression_config(config["quantization_config"])
    sparsity = compressor.sparsity_compressor
    restored = dict(sparsity.decompress(os.path.join(directory, "model.safetensors")))
    compressed_names = {
        name for name in restored if name.endswith(".weight") and name[: -len(".weight")] in sparsity.config.targets
    }
    dense = load_file(dense_path)
    mismatches = []
    for name, expected in dense.items():
        got = restored.get(name)
        if got is None:
            mismatches.append(f"{name}: missing")
        elif got.dtype != expected.dtype or list(got.shape) != list(expected.shape):
            mismatches.append(f"{name}: {got.dtype} {list(got.shape)} vs {expected.dtype} {list(expected.shape)}")
        elif not torch.equal(got, expected):
            mismatches.append(f"{name}: values differ (max {float((got.float() - expected.float()).abs().max())})")
    extra = sorted(set(restored) - set(dense))
    mismatches += [f"{name}: not in the dense file" for name in extra]
    print(json.dumps({
        "format": sparsity.config.format, "decompressed": len(compressed_names), "tensors": len(dense),
        "mismatches": mismatches,
    }))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
