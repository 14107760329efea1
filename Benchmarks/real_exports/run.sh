#!/usr/bin/env bash
# Real-export benchmark (Docs/RealExports.md): bash Benchmarks/real_exports/run.sh [MODEL...]
# Makes .venv-torch (Scripts/setup-torch.sh), builds the release binary, runs every model given (all by default,
# smallest first) into .cache/real_exports/MODEL/, then prints the Markdown table of every result there.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Scripts/setup-torch.sh
[ -x .build/release/prune ] || swift build -c release --product prune
.venv-torch/bin/python Benchmarks/real_exports/bench.py "$@"
.venv-torch/bin/python Benchmarks/real_exports/bench.py --table
