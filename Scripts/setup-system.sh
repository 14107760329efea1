#!/usr/bin/env bash
# Installs the Debian packages PruneKit needs that this machine lacks (nothing when all are present).
# Used by Scripts/demo, Scripts/test and .ci/run; needs root or sudo only when something is missing.
set -euo pipefail
# pkg-config + libffi-dev: plugin calls; gcc: test plugins built at test time; libopenblas-dev: the ONNX
# interpreter's matrix products; libonnx-testdata: ONNX's own operator tests, which the interpreter must pass.
# librsvg2-bin: rsvg-convert, which turns the SVG charts into PNG (and renders them in the tests).
packages=(pkg-config libffi-dev gcc libopenblas-dev libonnx-testdata librsvg2-bin)
# A Python that can make virtual environments, for the interoperability tests (ONNX Runtime).
if ! python3 -m venv --help >/dev/null 2>&1; then packages+=(python3 python3-venv); fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "PruneKit needs: ${missing[*]} (run as root or install sudo)" >&2; exit 1; }
  sudo=sudo
fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
