#!/usr/bin/env bash
# Creates .venv (ignored by git) with the Python packages the tests use, unless it already has them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ] && .venv/bin/python -c "import numpy, onnx, onnxruntime, compressed_tensors" 2>/dev/null; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r Scripts/requirements-test.txt
