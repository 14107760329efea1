#!/usr/bin/env python3
"""Reference accuracies: the example models after PyTorch's own global magnitude pruning.

For each example (digits-mlp, digits-cnn) and each sparsity, this loads model.safetensors and runs
  prune.global_unstructured([(m, 'weight') for every Conv2d/Linear m], pruning_method=prune.L1Unstructured,
                            amount=sparsity)
which prunes every rank>=2 weight and leaves biases and BatchNorm alone. There is no fine-tuning. It then
prints the test accuracy on test.safetensors. `prune run MODEL --scorer magnitude --selector
global:sparsity=S --rewriter mask` should give the same masks and therefore the same accuracy.

  .venv-torch/bin/python Examples/torch_prune_reference.py
"""

from __future__ import annotations

import importlib.util
import os

import torch
import torch.nn as nn
import torch.nn.utils.prune as prune
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
SPARSITIES = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95]


def load_example(name: str, cls: str) -> nn.Module:
    spec = importlib.util.spec_from_file_location(f"{name}_train", os.path.join(HERE, name, "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = getattr(mod, cls)()
    model.load_state_dict(load_file(os.path.join(HERE, name, "model.safetensors")))
    return model.eval()


def main() -> None:
    torch.set_num_threads(1)
    print(f"{'model':12s} " + " ".join(f"{s:>6.2f}" for s in SPARSITIES))
    for name, cls in (("digits-mlp", "MLP"), ("digits-cnn", "CNN")):
        test = load_file(os.path.join(HERE, name, "test.safetensors"))
        accs = []
        for s in SPARSITIES:
            model = load_example(name, cls)
            params = [(m, "weight") for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
            if s > 0:
                prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=s)
            with torch.no_grad():
                acc = (model(test["input"]).argmax(1) == test["labels"]).float().mean().item()
            accs.append(acc)
        print(f"{name:12s} " + " ".join(f"{a:6.4f}" for a in accs))


if __name__ == "__main__":
    main()
