#!/usr/bin/env python3
"""Train the bundled example CNN on scikit-learn's digits (8x8 images, no download).

Model (PyTorch names):
  conv1 Conv2d(1->16, 3, pad 1) -> bn1 BatchNorm2d(16) -> ReLU
  conv2 Conv2d(16->32, 3, pad 1) -> bn2 BatchNorm2d(32) -> ReLU -> MaxPool2d(2)
  Flatten -> fc1 Linear(32*4*4 -> 64) -> ReLU -> fc2 Linear(64 -> 10)
Inputs: pixel values 0..16 divided by 16.0, shape [N,1,8,8].
Split: stratified, 30 % test, random_state=0 (the same split as digits-mlp).

Writes next to this file:
  model.safetensors  the full state_dict (weights, biases, BN weight/bias/running_mean/running_var
                     as F32, BN num_batches_tracked as I64)
  test.safetensors   input [N,1,8,8] f32 (scaled as in training), labels [N] i64
  calib.safetensors  input [64,1,8,8] f32: the first 64 images of the shuffled training split
  model.onnx         opset 17, input "input" [batch,1,8,8], output "logits" [batch,10], dynamic batch.
                     Graph: Conv, BatchNormalization, Relu, MaxPool, Flatten, Gemm. BN is kept as its
                     own node (not folded into the conv) so structured pruning sees Conv->BN coupling.

Run from anywhere:
  .venv-torch/bin/python Examples/digits-cnn/train.py
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import save_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
HERE = os.path.dirname(os.path.abspath(__file__))


class CNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))
        x = torch.relu(self.fc1(self.flatten(x)))
        return self.fc2(x)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # same float summation order on every machine
    torch.use_deterministic_algorithms(True)


def load_split():
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # [1797, 1, 8, 8], values in [0, 1]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.3, stratify=y, random_state=SEED)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def onnx_accuracy(path: str, x: np.ndarray, y: np.ndarray, ref_logits: np.ndarray) -> tuple[float, float] | None:
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed; skipped the ONNX check")
        return None
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits = sess.run(["logits"], {"input": x})[0]
    one = sess.run(["logits"], {"input": x[:1]})[0]  # dynamic batch: batch of 1 works too
    assert one.shape == (1, 10)
    return float((logits.argmax(1) == y).mean()), float(np.abs(logits - ref_logits).max())


def main() -> None:
    seed_everything(SEED)
    x_train, x_test, y_train, y_test = load_split()
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    xv, yv = torch.from_numpy(x_test), torch.from_numpy(y_test)

    model = CNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(30):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 32):
            idx = perm[i : i + 32]
            if len(idx) < 2:  # BatchNorm needs more than one sample per batch in training
                continue
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1:3d}  train acc {accuracy(model, xt, yt):.4f}  test acc {accuracy(model, xv, yv):.4f}")

    model.eval()
    test_acc = accuracy(model, xv, yv)
    print(f"test accuracy (torch): {test_acc:.4f}  ({int(round(test_acc * len(yv)))}/{len(yv)})")
    assert test_acc > 0.95, "the example CNN should reach > 95 % test accuracy"

    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(HERE, "model.safetensors"))
    save_file({"input": xv.contiguous(), "labels": yv.contiguous()}, os.path.join(HERE, "test.safetensors"))
    save_file({"input": xt[:64].contiguous()}, os.path.join(HERE, "calib.safetensors"))

    onnx_path = os.path.join(HERE, "model.onnx")
    torch.onnx.export(
        model,
        (xv[:1],),
        onnx_path,
        dynamo=False,  # classic TorchScript exporter: plain Conv/BN/Relu/MaxPool/Flatten/Gemm
        opset_version=17,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        # PRESERVE (with the model in eval mode) keeps BatchNormalization as its own node; EVAL would let
        # the exporter fold it into the preceding Conv (and rename the initializers onnx::Conv_NN).
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,  # nothing to fold here; also silences the exporter's PRESERVE warning
    )
    import onnx

    ops = sorted({n.op_type for n in onnx.load(onnx_path).graph.node})
    print("ONNX ops:", ", ".join(ops))
    with torch.no_grad():
        ref = model(xv).numpy()
    res = onnx_accuracy(onnx_path, x_test, y_test, ref)
    if res is not None:
        print(f"test accuracy (onnxruntime): {res[0]:.4f}  max |logit diff| vs torch: {res[1]:.2e}")
    for name in ("model.safetensors", "test.safetensors", "calib.safetensors", "model.onnx"):
        print(f"wrote {name}: {os.path.getsize(os.path.join(HERE, name))} bytes")


if __name__ == "__main__":
    main()
