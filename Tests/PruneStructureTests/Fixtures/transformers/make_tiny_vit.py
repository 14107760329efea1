#!/usr/bin/env python3
"""Writes the tiny ViT VisionTransformerTests runs on, with the same head, neuron and hidden-width removal in PyTorch.

The model is torchvision's own VisionTransformer (random init): image 32, patch 8 (16 patches and the class token),
2 layers, hidden 32, 4 heads of 8, MLP 64, 10 classes. Its attention is nn.MultiheadAttention, whose fused in_proj
the TorchScript exporter writes as Reshape [s, b, 3E] -> [s, b, 3, E] -> Unsqueeze -> Transpose -> Squeeze ->
Gather 0/1/2, each head split then merged into the batch axis ([s, b*h, d]). The batch is 3, so the batch (3) and
the head count (4) differ and the heads' positions k*h + u in that axis are told apart. Seeded (torch.manual_seed(0)),
then random LayerNorm scales and biases, class token, position embedding and biases, so every slice matters and no
two initializers are equal (the exporter would de-duplicate them). Exported with torch.onnx.export's TorchScript
exporter (dynamo=False), otherwise its defaults.

tiny_vit.io.safetensors holds:
  input    float32 [3, 3, 32, 32]
  output   float32 [3, 10]: the torch model's logits
  heads    float32 [3, 10]: the logits after, in every layer, the 2 heads and 32 MLP neurons with the smallest
           magnitude:p=2 group scores are removed (what `--scorer magnitude:p=2 --selector
           layer:sparsity=0.5,rounding=floor-keep --rewriter remove` selects without --include-hidden-width): head u
           scores the sum of squares of its 8 rows in each of the Q, K and V parts of in_proj_weight and its 8 columns
           of out_proj.weight; neuron j of mlp.0.weight[j, :] and mlp.3.weight[:, j]. Done in torch by zeroing those
           rows, columns and biases (a zeroed head's values are 0, so it adds nothing; equal to removing it).
  hidden   float32 [3, 10]: the same, plus the 16 hidden-width channels with the smallest scores removed
           (--include-hidden-width): channel c scores conv_proj.weight[c], every LayerNorm scale [c] (ln_1, ln_2 of
           each layer and the final ln), in_proj_weight[:, c], out_proj.weight[c, :], mlp.0.weight[:, c],
           mlp.3.weight[c, :] and heads.head.weight[:, c]. Done in torch by building VisionTransformer(hidden 16, 2
           heads of 8, MLP 32) and copying the kept slices (class token, position embedding, LayerNorms and biases
           sliced too), so LayerNorm normalises over the 16 kept channels.

Run from the repository root with a venv holding torch, torchvision, onnx, onnxruntime (bash Scripts/setup-torch.sh):
  .venv-torch/bin/python Tests/PruneStructureTests/Fixtures/transformers/make_tiny_vit.py
"""
import os
import sys

import numpy as np
import onnxruntime as ort
import torch
from torchvision.models import vision_transformer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "Scripts"))
from ort_run import write_safetensors  # noqa: E402

IMAGE, PATCH, LAYERS, HEADS, HIDDEN, MLP, CLASSES, BATCH = 32, 8, 2, 4, 32, 64, 10, 3
SIZE = HIDDEN // HEADS


def build(hidden=HIDDEN, heads=HEADS, mlp=MLP):
    return vision_transformer.VisionTransformer(
        image_size=IMAGE, patch_size=PATCH, num_layers=LAYERS, num_heads=heads, hidden_dim=hidden, mlp_dim=mlp,
        num_classes=CLASSES).eval()


def randomise(model):
    """Random LayerNorm parameters, biases, class token, position embedding and classifier (torchvision
    initialises it to zero): every slice matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 or "class_token" in name or "pos_embedding" in name:
                p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.endswith("ln_1.weight") or name.endswith(
                    "ln_2.weight") or name == "encoder.ln.weight" else 0.0))
        model.heads.head.weight.copy_(torch.randn_like(model.heads.head.weight) * 0.3)  # torchvision zeroes it


def smallest(scores, count):
    return sorted(int(i) for i in torch.argsort(scores)[:count])


def head_scores(attention):
    w, o = attention.in_proj_weight, attention.out_proj.weight
    per_row = (w ** 2).sum(1).reshape(3, HEADS, SIZE).sum((0, 2))
    return per_row + (o ** 2).sum(0).reshape(HEADS, SIZE).sum(1)


def removed_heads_and_neurons(model):
    """{layer: (heads, neurons)} that magnitude:p=2 with layer:sparsity=0.5,rounding=floor-keep removes."""
    result = {}
    for i, layer in enumerate(model.encoder.layers):
        neurons = (layer.mlp[0].weight ** 2).sum(1) + (layer.mlp[3].weight ** 2).sum(0)
        result[i] = (smallest(head_scores(layer.self_attention), HEADS // 2), smallest(neurons, MLP // 2))
    return result


def hidden_scores(model):
    s = (model.conv_proj.weight ** 2).sum((1, 2, 3)) + model.encoder.ln.weight ** 2
    s = s + (model.heads.head.weight ** 2).sum(0)
    for layer in model.encoder.layers:
        s = s + layer.ln_1.weight ** 2 + layer.ln_2.weight ** 2
        s = s + (layer.self_attention.in_proj_weight ** 2).sum(0) + (layer.self_attention.out_proj.weight ** 2).sum(1)
        s = s + (layer.mlp[0].weight ** 2).sum(0) + (layer.mlp[3].weight ** 2).sum(1)
    return s


def zeroed(model, removed):
    """A copy with the removed heads' in_proj rows and biases, out_proj columns, and neurons zeroed."""
    copy = build()
    copy.load_state_dict(model.state_dict())
    with torch.no_grad():
        for i, layer in enumerate(copy.encoder.layers):
            heads, neurons = removed[i]
            for h in heads:
                for part in range(3):
                    rows = slice(part * HIDDEN + h * SIZE, part * HIDDEN + (h + 1) * SIZE)
                    layer.self_attention.in_proj_weight[rows] = 0
                    layer.self_attention.in_proj_bias[rows] = 0
                layer.self_attention.out_proj.weight[:, h * SIZE:(h + 1) * SIZE] = 0
            layer.mlp[0].weight[neurons] = 0
            layer.mlp[0].bias[neurons] = 0
            layer.mlp[3].weight[:, neurons] = 0
    return copy


def sliced(model, removed, hidden_removed):
    """VisionTransformer(hidden 16, 2 heads, MLP 32) holding the kept slices of `model`."""
    keep = [c for c in range(HIDDEN) if c not in hidden_removed]
    small = build(hidden=len(keep), heads=HEADS // 2, mlp=MLP // 2)
    with torch.no_grad():
        small.conv_proj.weight.copy_(model.conv_proj.weight[keep])
        small.conv_proj.bias.copy_(model.conv_proj.bias[keep])
        small.class_token.copy_(model.class_token[..., keep])
        small.encoder.pos_embedding.copy_(model.encoder.pos_embedding[..., keep])
        small.encoder.ln.weight.copy_(model.encoder.ln.weight[keep])
        small.encoder.ln.bias.copy_(model.encoder.ln.bias[keep])
        small.heads.head.weight.copy_(model.heads.head.weight[:, keep])
        small.heads.head.bias.copy_(model.heads.head.bias)
        for i, (big, little) in enumerate(zip(model.encoder.layers, small.encoder.layers)):
            heads, neurons = removed[i]
            features = [h * SIZE + j for h in range(HEADS) if h not in heads for j in range(SIZE)]
            rows = [part * HIDDEN + f for part in range(3) for f in features]
            kept_neurons = [j for j in range(MLP) if j not in neurons]
            for ln in ("ln_1", "ln_2"):
                getattr(little, ln).weight.copy_(getattr(big, ln).weight[keep])
                getattr(little, ln).bias.copy_(getattr(big, ln).bias[keep])
            a, b = big.self_attention, little.self_attention
            b.in_proj_weight.copy_(a.in_proj_weight[rows][:, keep])
            b.in_proj_bias.copy_(a.in_proj_bias[rows])
            b.out_proj.weight.copy_(a.out_proj.weight[keep][:, features])
            b.out_proj.bias.copy_(a.out_proj.bias[keep])
            little.mlp[0].weight.copy_(big.mlp[0].weight[kept_neurons][:, keep])
            little.mlp[0].bias.copy_(big.mlp[0].bias[kept_neurons])
            little.mlp[3].weight.copy_(big.mlp[3].weight[keep][:, kept_neurons])
            little.mlp[3].bias.copy_(big.mlp[3].bias[keep])
    return small


def main():
    torch.manual_seed(0)
    model = build()
    randomise(model)
    x = torch.randn(BATCH, 3, IMAGE, IMAGE)
    path = os.path.join(HERE, "tiny_vit.onnx")
    torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"], dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    output = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
    removed = removed_heads_and_neurons(model)
    hidden_removed = smallest(hidden_scores(model), HIDDEN // 2)
    with torch.no_grad():
        dense = model(x).numpy()
        heads = zeroed(model, removed)(x).numpy()
        hidden = sliced(model, removed, hidden_removed)(x).numpy()
    assert np.abs(output - dense).max() < 1e-4, "ONNX Runtime disagrees with torch"
    write_safetensors(os.path.join(HERE, "tiny_vit.io.safetensors"), {
        "input": x.numpy(), "output": output, "heads": heads, "hidden": hidden}, np)
    size = os.path.getsize(path)
    assert size < 300_000, f"tiny_vit.onnx is {size} bytes"
    print(f"tiny_vit.onnx: {size} bytes; removed heads/neurons {removed}; hidden channels {hidden_removed}")
    print(f"max |heads - dense| {np.abs(heads - dense).max():.3g}, max |hidden - dense| {np.abs(hidden - dense).max():.3g}")


if __name__ == "__main__":
    main()
