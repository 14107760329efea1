#!/usr/bin/env bash
# Creates .venv (ignored by git) with the Python packages the tests use, unless it already has them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ] && .venv/bin/python -c "import numpy, onnx, onnxruntime, compressed_tensors" 2>/dev/null; then
  exit 0
fi
echo "creating .venv for the interoperability tests; installing from PyPI: $(grep -v '^#' Scripts/requirements-test.txt | tr '\n' ' ')" >&2
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install --progress-bar off -r Scripts/requirements-test.txt >&2
