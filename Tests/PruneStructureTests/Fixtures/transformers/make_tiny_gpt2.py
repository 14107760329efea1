#!/usr/bin/env python3
"""Writes the tiny GPT-2 decoder TransformerTests runs on, with the same head and neuron removal done in PyTorch.

The model is transformers' own GPT2LMHeadModel built from a config (random init): 2 layers, n_embd 32, 4 heads of 8,
n_inner 64, vocabulary 64, 16 positions, eager attention (the causal mask and the padding mask come from
transformers' masking utilities; `attn_implementation="eager"` writes attention as MatMul/Softmax/MatMul, the
default "sdpa" writes an identity Reshape the analysis refuses, see Docs/Transformers.md). GPT-2 layers are
transformers' Conv1D (weights [in, out], exported as Reshape to rows → Gemm → Reshape back), the Q, K and V
projections are one fused `c_attn` whose output is Split in three, the head Reshapes are `view(b, s, -1, d)` (the
head count is inferred) and the activation is gelu_new (the tanh form). Seeded init (torch.manual_seed(0),
initializer_range 0.2), then per-head and per-neuron scales and random biases and LayerNorm parameters, so magnitudes
differ clearly and every bias slice matters. Exported with torch.onnx.export's TorchScript exporter (dynamo=False),
no KV cache, with dynamic batch and sequence axes.

tiny_gpt2.io.safetensors holds:
  input_ids, attention_mask   int64 [2, 7] (the second sequence padded after 5 tokens)
  dense                       float32 [2, 7, 64]: the torch model's logits
  pruned                      float32 [2, 7, 64]: the logits after, in every block, the 2 heads and 32 neurons
                              with the smallest magnitude:p=2 group scores are removed from the torch model (what
                              `--scorer magnitude:p=2 --selector layer:sparsity=0.5,rounding=floor-keep` selects):
                              head h scores sqrt of the sum of squares of its 8 columns in each of the Q, K and V
                              parts of c_attn.weight and its 8 rows of attn.c_proj.weight; neuron j of
                              c_fc.weight[:, j] and mlp.c_proj.weight[j, :]. The Conv1D weights and biases are
                              sliced, split_size and num_heads lowered (what transformers' old `prune_heads` did;
                              transformers 5 removed that method), and the model run again.

Run from the repository root with a venv holding torch, transformers (5.x), onnx, onnxruntime
(bash Scripts/setup-torch.sh makes one; add `pip install transformers`):
  .venv-torch/bin/python Tests/PruneStructureTests/Fixtures/transformers/make_tiny_gpt2.py
"""
import json
import math
import os
import sys

import numpy as np
import onnxruntime as ort
import torch
from torch import nn
from transformers import GPT2Config, GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "Scripts"))
from ort_run import write_safetensors  # noqa: E402

HIDDEN, HEADS, FFN, LAYERS, VOCAB, POSITIONS = 32, 4, 64, 2, 64, 16


class Logits(nn.Module):
    """The language model's logits for (input_ids, attention_mask), without a KV cache."""

    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt

    def forward(self, input_ids, attention_mask):
        return self.gpt(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


def smallest(scores, count):
    return sorted(range(len(scores)), key=lambda i: scores[i])[:count]


def conv1d_columns(layer, keep):
    """Keeps output features `keep` of a transformers Conv1D (weight [in, out])."""
    layer.weight = nn.Parameter(layer.weight[:, keep].clone())
    layer.bias = nn.Parameter(layer.bias[keep].clone())
    layer.nf = len(keep)


@torch.no_grad()
def prune(model):
    """Removes half the heads and half the neurons of every block, by the magnitude:p=2 group scores."""
    for block in model.transformer.h:
        attn, mlp = block.attn, block.mlp
        d, width = attn.head_dim, attn.split_size
        w = attn.c_attn.weight
        head_scores = []
        for h in range(attn.num_heads):
            total = sum(float((w[:, part * width + h * d:part * width + (h + 1) * d] ** 2).sum()) for part in range(3))
            total += float((attn.c_proj.weight[h * d:(h + 1) * d, :] ** 2).sum())
            head_scores.append(math.sqrt(total))
        gone = set(smallest(head_scores, attn.num_heads - attn.num_heads // 2))
        kept = [c for h in range(attn.num_heads) if h not in gone for c in range(h * d, (h + 1) * d)]
        conv1d_columns(attn.c_attn, [part * width + c for part in range(3) for c in kept])
        attn.c_proj.weight = nn.Parameter(attn.c_proj.weight[kept, :].clone())
        attn.num_heads -= len(gone)
        attn.split_size = len(kept)
        neuron_scores = [math.sqrt(float((mlp.c_fc.weight[:, j] ** 2).sum() + (mlp.c_proj.weight[j, :] ** 2).sum()))
                         for j in range(FFN)]
        gone = set(smallest(neuron_scores, FFN - FFN // 2))
        keep = [j for j in range(FFN) if j not in gone]
        conv1d_columns(mlp.c_fc, keep)
        mlp.c_proj.weight = nn.Parameter(mlp.c_proj.weight[keep, :].clone())


def main():
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=VOCAB, n_positions=POSITIONS, n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS,
                        n_inner=FFN, activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
                        attn_pdrop=0.0, initializer_range=0.2, bos_token_id=0, eos_token_id=0, use_cache=False,
                        attn_implementation="eager")
    gpt = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, parameter in gpt.named_parameters():
            if name.endswith(".bias") or "ln_" in name:
                parameter.copy_(torch.randn_like(parameter) * 0.1 + (1.0 if name.endswith("ln_1.weight")
                                or name.endswith("ln_2.weight") or name.endswith("ln_f.weight") else 0.0))
        for block in gpt.transformer.h:
            d, width = block.attn.head_dim, block.attn.split_size
            for h in range(HEADS):
                scale = 0.5 + torch.rand(1).item() * 1.5
                for part in range(3):
                    block.attn.c_attn.weight[:, part * width + h * d:part * width + (h + 1) * d] *= scale
                block.attn.c_proj.weight[h * d:(h + 1) * d, :] *= scale
            block.mlp.c_fc.weight.mul_(0.5 + torch.rand(1, FFN) * 1.5)
    model = Logits(gpt).eval()
    input_ids = torch.randint(0, VOCAB, (2, 7))
    attention_mask = torch.ones(2, 7, dtype=torch.int64)
    attention_mask[1, 5:] = 0
    path = os.path.join(HERE, "tiny_gpt2.onnx")
    torch.onnx.export(model, (input_ids, attention_mask), path, input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], dynamo=False,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"}})
    with torch.no_grad():
        dense = model(input_ids, attention_mask).numpy()
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        ort_dense = session.run(None, {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})[0]
        assert np.abs(ort_dense - dense).max() < 1e-5, np.abs(ort_dense - dense).max()
        prune(gpt)
        pruned = model(input_ids, attention_mask).numpy()
    write_safetensors(os.path.join(HERE, "tiny_gpt2.io.safetensors"), {
        "input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy(), "dense": dense,
        "pruned": pruned}, np)
    print(json.dumps({"dense_vs_pruned_max": float(np.abs(dense - pruned).max()),
                      "bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
