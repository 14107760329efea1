#!/usr/bin/env python3
"""Writes the tiny BERT-like encoder TransformerTests runs on, with PyTorch's own head and neuron removal recorded.

The module is written out like Scripts/encoder/make_minilm.py's (embeddings, post-LN layers, masked mean pooling),
at hidden 32, 4 heads of 8, feed-forward 64, 2 layers; layer 0 uses erf-GELU and layer 1 tanh-GELU, so both forms
exporters write are covered. Seeded init (torch.manual_seed(0)) with per-head and per-neuron scales so magnitudes
differ clearly. Exported with torch.onnx.export's TorchScript exporter (dynamo=False) and its defaults otherwise,
with dynamic batch and sequence axes (the shapes of the head Reshapes are computed from Shape, as on MiniLM).

tiny_bert.io.safetensors holds:
  input_ids, attention_mask   int64 [2, 7] (the second sequence padded after 4 tokens)
  dense                       float32 [2, 32]: the torch module's output
  pruned                      float32 [2, 32]: the output after PyTorch removes, in every layer, the 2 heads and 32
                              neurons with the smallest magnitude:p=2 group scores (what
                              `--scorer magnitude:p=2 --selector layer:sparsity=0.5,rounding=floor-keep` selects):
                              head h scores sqrt(sum of Wq[:, h]^2 + Wk[:, h]^2 + Wv[:, h]^2 + Wo[h, :]^2) over its 8
                              columns/rows, neuron j sqrt(W1[:, j]^2 + W2[j, :]^2); the module's Linear layers are
                              sliced and its head count lowered, then run again.

Run from the repository root with a venv holding torch, onnx, onnxruntime (bash Scripts/setup-torch.sh makes one):
  .venv-torch/bin/python Tests/PruneStructureTests/Fixtures/transformers/make_tiny_bert.py
"""
import json
import math
import os
import struct
import sys

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "Scripts"))
from ort_run import write_safetensors  # noqa: E402

HIDDEN, HEADS, FFN, LAYERS, VOCAB, POSITIONS = 32, 4, 64, 2, 50, 16


class Block(nn.Module):
    def __init__(self, gelu):
        super().__init__()
        self.heads = HEADS
        self.head_size = HIDDEN // HEADS
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.attention_output = nn.Linear(HIDDEN, HIDDEN)
        self.attention_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.intermediate = nn.Linear(HIDDEN, FFN)
        self.output = nn.Linear(FFN, HIDDEN)
        self.output_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.gelu = gelu

    def split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_size).transpose(1, 2)

    def forward(self, x, mask):
        b, s, _ = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_size) + mask
        context = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2)
        context = context.reshape(b, s, self.heads * self.head_size)
        x = self.attention_norm(self.attention_output(context) + x)
        hidden = self.intermediate(x)
        if self.gelu == "erf":
            hidden = 0.5 * hidden * (1.0 + torch.erf(hidden / math.sqrt(2.0)))
        else:
            hidden = 0.5 * hidden * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (hidden + 0.044715 * hidden ** 3)))
        return self.output_norm(self.output(hidden) + x)


class TinyBert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(POSITIONS, HIDDEN)
        self.embedding_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.blocks = nn.ModuleList([Block("erf"), Block("tanh")])

    def forward(self, input_ids, attention_mask):
        s = input_ids.shape[1]
        x = self.word(input_ids) + self.position.weight[:s].unsqueeze(0)
        x = self.embedding_norm(x)
        mask = (1.0 - attention_mask.to(torch.float32))[:, None, None, :] * -10000.0
        for block in self.blocks:
            x = block(x, mask)
        weights = attention_mask.to(torch.float32).unsqueeze(-1)
        return (x * weights).sum(1) / weights.sum(1)


def smallest(scores, count):
    return sorted(range(len(scores)), key=lambda i: scores[i])[:count]


@torch.no_grad()
def prune(model):
    """Removes half the heads and half the neurons of every block, by the magnitude:p=2 group scores."""
    for block in model.blocks:
        d = block.head_size
        head_scores = []
        for h in range(block.heads):
            cols = slice(h * d, (h + 1) * d)
            total = sum(float((layer.weight[cols, :] ** 2).sum()) for layer in (block.query, block.key, block.value))
            total += float((block.attention_output.weight[:, cols] ** 2).sum())
            head_scores.append(math.sqrt(total))
        gone = set(smallest(head_scores, block.heads - block.heads // 2))
        keep = [c for h in range(block.heads) if h not in gone for c in range(h * d, (h + 1) * d)]
        for layer in (block.query, block.key, block.value):
            layer.weight = nn.Parameter(layer.weight[keep, :])
            layer.bias = nn.Parameter(layer.bias[keep])
        block.attention_output.weight = nn.Parameter(block.attention_output.weight[:, keep])
        block.heads -= len(gone)
        neuron_scores = [math.sqrt(float((block.intermediate.weight[j, :] ** 2).sum() + (block.output.weight[:, j] ** 2).sum()))
                         for j in range(block.intermediate.out_features)]
        gone = set(smallest(neuron_scores, FFN - FFN // 2))
        keep = [j for j in range(FFN) if j not in gone]
        block.intermediate.weight = nn.Parameter(block.intermediate.weight[keep, :])
        block.intermediate.bias = nn.Parameter(block.intermediate.bias[keep])
        block.output.weight = nn.Parameter(block.output.weight[:, keep])


def main():
    torch.manual_seed(0)
    model = TinyBert().eval()
    with torch.no_grad():
        for block in model.blocks:
            d = block.head_size
            for h in range(HEADS):
                scale = 0.5 + torch.rand(1).item() * 1.5
                for layer in (block.query, block.key, block.value):
                    layer.weight[h * d:(h + 1) * d, :] *= scale
                block.attention_output.weight[:, h * d:(h + 1) * d] *= scale
            block.intermediate.weight.mul_(0.5 + torch.rand(FFN, 1) * 1.5)
    input_ids = torch.randint(1, VOCAB, (2, 7))
    attention_mask = torch.ones(2, 7, dtype=torch.int64)
    attention_mask[1, 4:] = 0
    path = os.path.join(HERE, "tiny_bert.onnx")
    torch.onnx.export(model, (input_ids, attention_mask), path, input_names=["input_ids", "attention_mask"],
                      output_names=["embedding"], dynamo=False,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"}})
    with torch.no_grad():
        dense = model(input_ids, attention_mask).numpy()
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        ort_dense = session.run(None, {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})[0]
        assert np.abs(ort_dense - dense).max() < 1e-5, np.abs(ort_dense - dense).max()
        prune(model)
        pruned = model(input_ids, attention_mask).numpy()
    write_safetensors(os.path.join(HERE, "tiny_bert.io.safetensors"), {
        "input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy(), "dense": dense,
        "pruned": pruned}, np)
    print(json.dumps({"dense_vs_pruned_max": float(np.abs(dense - pruned).max()),
                      "bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
