#!/usr/bin/env python3
"""Writes a tiny Llama decoder with grouped-query attention and PyTorch's own removal of half its heads and neurons.

transformers' own LlamaForCausalLM from a config (random init with initializer_range 0.2, torch.manual_seed(0)): 1
layer, hidden 16, 4 query heads of 4 sharing 2 K/V heads (num_key_value_heads=2, so `repeat_kv` repeats each K/V head
twice with Unsqueeze → Expand → Reshape), SwiGLU feed-forward of 24, vocabulary 16, rotary embeddings, eager
attention. Each K/V head's family (its K and V rows, its 2 query heads' Q rows and o_proj columns) and each neuron's
gate row are scaled by a random factor in [0.5, 2), so the magnitude scores are far apart. Exported with
torch.onnx.export's TorchScript exporter (dynamo=False), no KV cache, dynamic batch and sequence.

tiny_llama_gqa.io.safetensors holds
  input_ids, attention_mask   int64 [2, 6], the second sequence padded after 4 tokens
  dense                       float32 [2, 6, 16]: the torch model's logits
  pruned                      float32 [2, 6, 16]: the logits after the K/V head with the smaller magnitude:p=2
                              group score (its K and V rows, the Q rows of its 2 query heads, their o_proj columns)
                              and the 12 neurons with the smallest scores (gate and up rows, down columns) are
                              removed from the torch model, which so holds 2 query heads on 1 K/V head and 12
                              neurons (what `--scorer magnitude:p=2 --selector layer:sparsity=0.5,rounding=floor-keep`
                              selects)

Run from the repository root with a venv holding torch, transformers (5.x), onnx, onnxruntime
(bash Scripts/setup-torch.sh makes one; add `pip install transformers`):
  .venv-torch/bin/python Tests/PruneStructureTests/Fixtures/transformers/make_tiny_llama_gqa.py
"""
import json
import math
import os
import sys

import numpy as np
import onnxruntime as ort
import torch
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "Scripts"))
from ort_run import write_safetensors  # noqa: E402


class Logits(nn.Module):
    """The language model's logits for (input_ids, attention_mask), without a KV cache."""

    def __init__(self, llama):
        super().__init__()
        self.llama = llama

    def forward(self, input_ids, attention_mask):
        return self.llama(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


def smallest(scores, count):
    return sorted(range(len(scores)), key=lambda i: scores[i])[:count]


def keep_rows(layer, rows):
    layer.weight = nn.Parameter(layer.weight[rows, :].clone())
    layer.out_features = len(rows)


@torch.no_grad()
def prune(llama):
    """Removes half the K/V heads (each with its query heads) and half the neurons, by magnitude:p=2 group scores."""
    for layer in llama.model.layers:
        attn, mlp = layer.self_attn, layer.mlp
        d, g = attn.head_dim, attn.num_key_value_groups
        kv = attn.k_proj.out_features // d
        scores = []
        for u in range(kv):
            total = float((attn.q_proj.weight[u * g * d:(u + 1) * g * d, :] ** 2).sum())
            total += float((attn.k_proj.weight[u * d:(u + 1) * d, :] ** 2).sum())
            total += float((attn.v_proj.weight[u * d:(u + 1) * d, :] ** 2).sum())
            total += float((attn.o_proj.weight[:, u * g * d:(u + 1) * g * d] ** 2).sum())
            scores.append(math.sqrt(total))
        gone = set(smallest(scores, kv - kv // 2))
        kept = [u for u in range(kv) if u not in gone]
        keep_rows(attn.q_proj, [c for u in kept for c in range(u * g * d, (u + 1) * g * d)])
        keep_rows(attn.k_proj, [c for u in kept for c in range(u * d, (u + 1) * d)])
        keep_rows(attn.v_proj, [c for u in kept for c in range(u * d, (u + 1) * d)])
        columns = [c for u in kept for c in range(u * g * d, (u + 1) * g * d)]
        attn.o_proj.weight = nn.Parameter(attn.o_proj.weight[:, columns].clone())
        attn.o_proj.in_features = len(columns)
        width = mlp.gate_proj.out_features
        neuron_scores = [math.sqrt(float((mlp.gate_proj.weight[j, :] ** 2).sum() + (mlp.up_proj.weight[j, :] ** 2).sum()
                                         + (mlp.down_proj.weight[:, j] ** 2).sum())) for j in range(width)]
        gone = set(smallest(neuron_scores, width - width // 2))
        keep = [j for j in range(width) if j not in gone]
        keep_rows(mlp.gate_proj, keep)
        keep_rows(mlp.up_proj, keep)
        mlp.down_proj.weight = nn.Parameter(mlp.down_proj.weight[:, keep].clone())
        mlp.down_proj.in_features = len(keep)


def main():
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=16, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=16,
                         bos_token_id=0, eos_token_id=0, pad_token_id=0, use_cache=False,
                         initializer_range=0.2, attn_implementation="eager")
    llama = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for layer in llama.model.layers:
            attn = layer.self_attn
            d, g = attn.head_dim, attn.num_key_value_groups
            for u in range(config.num_key_value_heads):
                scale = 0.5 + torch.rand(1).item() * 1.5
                attn.q_proj.weight[u * g * d:(u + 1) * g * d, :] *= scale
                attn.k_proj.weight[u * d:(u + 1) * d, :] *= scale
                attn.v_proj.weight[u * d:(u + 1) * d, :] *= scale
                attn.o_proj.weight[:, u * g * d:(u + 1) * g * d] *= scale
            layer.mlp.gate_proj.weight.mul_(0.5 + torch.rand(config.intermediate_size, 1) * 1.5)
    model = Logits(llama).eval()
    input_ids = torch.randint(1, 16, (2, 6))
    attention_mask = torch.ones(2, 6, dtype=torch.int64)
    attention_mask[1, 4:] = 0
    path = os.path.join(HERE, "tiny_llama_gqa.onnx")
    torch.onnx.export(model, (input_ids, attention_mask), path, input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], dynamo=False,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"}})
    with torch.no_grad():
        dense = model(input_ids, attention_mask).numpy()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ort_dense = session.run(None, {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})[0]
    assert np.abs(ort_dense - dense).max() < 1e-5, np.abs(ort_dense - dense).max()
    prune(llama)
    with torch.no_grad():
        pruned = model(input_ids, attention_mask).numpy()
    write_safetensors(os.path.join(HERE, "tiny_llama_gqa.io.safetensors"), {
        "input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy(), "dense": dense,
        "pruned": pruned}, np)
    print(json.dumps({"dense_max": float(np.abs(dense).max()), "dense_vs_pruned_max": float(np.abs(dense - pruned).max()),
                      "bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
