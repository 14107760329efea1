#!/usr/bin/env python3
"""Writes a tiny Llama decoder with grouped-query attention, for the test that checks how the analysis refuses it.

transformers' own LlamaForCausalLM from a config (random init, torch.manual_seed(0)): 1 layer, hidden 16, 4 query
heads of 4 sharing 2 K/V heads (num_key_value_heads=2, so `repeat_kv` repeats each K/V head twice with
Unsqueeze → Expand → Reshape), SwiGLU feed-forward of 24, vocabulary 16, rotary embeddings, eager attention.
Exported with torch.onnx.export's TorchScript exporter (dynamo=False), no KV cache, dynamic batch and sequence.

tiny_llama_gqa.io.safetensors holds input_ids, attention_mask (int64 [2, 6], the second sequence padded after 4
tokens) and dense (float32 [2, 6, 16]: the torch model's logits).

Run from the repository root with a venv holding torch, transformers (5.x), onnx, onnxruntime
(bash Scripts/setup-torch.sh makes one; add `pip install transformers`):
  .venv-torch/bin/python Tests/PruneStructureTests/Fixtures/transformers/make_tiny_llama_gqa.py
"""
import json
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


def main():
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=16, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=16,
                         bos_token_id=0, eos_token_id=0, pad_token_id=0, use_cache=False,
                         attn_implementation="eager")
    model = Logits(LlamaForCausalLM(config).eval()).eval()
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
    write_safetensors(os.path.join(HERE, "tiny_llama_gqa.io.safetensors"), {
        "input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy(), "dense": dense}, np)
    print(json.dumps({"bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
