#!/usr/bin/env python3
"""Writes a tiny Phi-3 decoder (grouped-query attention with a fused QKV projection) and PyTorch's own removal of half
its K/V heads (each with its query heads) and half its neurons.

transformers' own Phi3ForCausalLM from a config (random init with initializer_range 0.2, torch.manual_seed(0)): 1
layer, hidden 16, 4 query heads of 4 sharing 2 K/V heads, one `qkv_proj` whose output is cut by Slice into Q (16
features), K (8) and V (8), rotary embeddings, `repeat_kv`, eager attention, the fused `gate_up_proj` (SwiGLU of 24),
vocabulary 16. Each K/V head's family (its K and V rows, its 2 query heads' Q rows and o_proj columns) is scaled by a
random factor in [0.5, 2), so the magnitude scores are far apart. Exported with torch.onnx.export's TorchScript
exporter (dynamo=False), no KV cache, dynamic batch and sequence.

tiny_phi3_gqa.io.safetensors holds
  input_ids, attention_mask   int64 [2, 6], the second sequence padded after 4 tokens
  dense                       float32 [2, 6, 16]: the torch model's logits
  pruned                      float32 [2, 6, 16]: the logits after the K/V head with the smaller magnitude:p=2
                              group score (its K and V rows of qkv_proj, the Q rows of its 2 query heads, their o_proj
                              columns) and the 12 neurons with the smallest scores (gate and up rows of gate_up_proj,
                              down_proj columns) are removed from the torch model (what `--scorer magnitude:p=2
                              --selector layer:sparsity=0.5,rounding=floor-keep` selects)

Run from the repository root with a venv holding torch, transformers (5.x), onnx, onnxruntime:
  .venv-torch/bin/python Tests/PruneStructureTests/Fixtures/transformers/make_tiny_phi3_gqa.py
"""
import copy
import json
import math
import os
import sys

import numpy as np
import onnxruntime as ort
import torch
from torch import nn
from transformers import Phi3Config, Phi3ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "Scripts"))
from ort_run import write_safetensors  # noqa: E402


class Logits(nn.Module):
    """The language model's logits for (input_ids, attention_mask), without a KV cache."""

    def __init__(self, phi3):
        super().__init__()
        self.phi3 = phi3

    def forward(self, input_ids, attention_mask):
        return self.phi3(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


def smallest(scores, count):
    return sorted(range(len(scores)), key=lambda i: scores[i])[:count]


def families(attn):
    """Per K/V head u: its rows of qkv_proj (Q rows of its g query heads, then its K and V rows) and o_proj columns."""
    d, g, kv = attn.head_dim, attn.num_key_value_groups, attn.num_key_value_heads
    q = kv * g * d
    for u in range(kv):
        rows = (list(range(u * g * d, (u + 1) * g * d)) + list(range(q + u * d, q + (u + 1) * d))
                + list(range(q + kv * d + u * d, q + kv * d + (u + 1) * d)))
        yield rows, list(range(u * g * d, (u + 1) * g * d))


@torch.no_grad()
def prune(phi3):
    """Removes half the K/V heads (each with its query heads) and half the neurons, by magnitude:p=2 group scores."""
    for layer in phi3.model.layers:
        attn, mlp = layer.self_attn, layer.mlp
        kv = attn.num_key_value_heads
        fams = list(families(attn))
        scores = [math.sqrt(float((attn.qkv_proj.weight[rows, :] ** 2).sum() + (attn.o_proj.weight[:, cols] ** 2).sum()))
                  for rows, cols in fams]
        gone = set(smallest(scores, kv - kv // 2))
        kept = [u for u in range(kv) if u not in gone]
        d, g = attn.head_dim, attn.num_key_value_groups
        q_rows = [r for u in kept for r in fams[u][0][:g * d]]
        k_rows = [r for u in kept for r in fams[u][0][g * d:g * d + d]]
        v_rows = [r for u in kept for r in fams[u][0][g * d + d:]]
        attn.qkv_proj.weight = nn.Parameter(attn.qkv_proj.weight[q_rows + k_rows + v_rows, :].clone())
        attn.o_proj.weight = nn.Parameter(attn.o_proj.weight[:, [c for u in kept for c in fams[u][1]]].clone())
        config = copy.copy(attn.config)
        config.num_attention_heads = len(kept) * g
        config.num_key_value_heads = len(kept)
        attn.config = config
        attn.num_key_value_heads = len(kept)
        width = mlp.down_proj.in_features
        up = mlp.gate_up_proj.weight
        neuron_scores = [math.sqrt(float((up[j, :] ** 2).sum() + (up[width + j, :] ** 2).sum()
                                         + (mlp.down_proj.weight[:, j] ** 2).sum())) for j in range(width)]
        gone = set(smallest(neuron_scores, width - width // 2))
        keep = [j for j in range(width) if j not in gone]
        mlp.gate_up_proj.weight = nn.Parameter(up[keep + [width + j for j in keep], :].clone())
        mlp.down_proj.weight = nn.Parameter(mlp.down_proj.weight[:, keep].clone())


def main():
    torch.manual_seed(0)
    config = Phi3Config(vocab_size=16, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                        num_attention_heads=4, num_key_value_heads=2, head_dim=4, max_position_embeddings=16,
                        bos_token_id=0, eos_token_id=0, pad_token_id=0, use_cache=False, initializer_range=0.2,
                        attn_implementation="eager")
    phi3 = Phi3ForCausalLM(config).eval()
    with torch.no_grad():
        for layer in phi3.model.layers:
            attn = layer.self_attn
            for rows, cols in families(attn):
                scale = 0.5 + torch.rand(1).item() * 1.5
                attn.qkv_proj.weight[rows, :] *= scale
                attn.o_proj.weight[:, cols] *= scale
    model = Logits(phi3).eval()
    input_ids = torch.randint(1, 16, (2, 6))
    attention_mask = torch.ones(2, 6, dtype=torch.int64)
    attention_mask[1, 4:] = 0
    path = os.path.join(HERE, "tiny_phi3_gqa.onnx")
    torch.onnx.export(model, (input_ids, attention_mask), path, input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], dynamo=False,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"}})
    with torch.no_grad():
        dense = model(input_ids, attention_mask).numpy()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ort_dense = session.run(None, {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})[0]
    assert np.abs(ort_dense - dense).max() < 1e-5, np.abs(ort_dense - dense).max()
    prune(phi3)
    with torch.no_grad():
        pruned = model(input_ids, attention_mask).numpy()
    write_safetensors(os.path.join(HERE, "tiny_phi3_gqa.io.safetensors"), {
        "input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy(), "dense": dense,
        "pruned": pruned}, np)
    print(json.dumps({"dense_max": float(np.abs(dense).max()), "dense_vs_pruned_max": float(np.abs(dense - pruned).max()),
                      "bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
