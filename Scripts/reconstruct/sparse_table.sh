#!/usr/bin/env bash
# Accuracy of the bundled digits CNN after element pruning with Wanda scores: `mask` against `reconstruct` (the
# OBS sweep) and its variants, on the 540 test images, calibrated on the 64 images of calib.safetensors.
# Prints a Markdown table (Docs/Reconstruct.md). Usage: bash Scripts/reconstruct/sparse_table.sh [PRUNE]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ $# -ge 1 ]]; then
    prune="$1"
else
    swift build --product prune >&2
    prune="$(swift build --show-bin-path)/prune"
fi
example=Examples/digits-cnn
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rewriters=(mask reconstruct reconstruct:holdout=0 reconstruct:bn=false reconstruct:mask=fixed reconstruct:fit=exact reconstruct:choose=block)
accuracy() {
    "$prune" eval "$1" --data "$example/test.safetensors" --labels labels --json |
        python3 -c 'import json, sys; print("%.4f" % json.load(sys.stdin)["accuracy"]["value"])'
}
header="| selector |"
rule="|---|"
for rewriter in "${rewriters[@]}"; do header+=" \`$rewriter\` |"; rule+="---|"; done
echo "$header"
echo "$rule"
for selector in row:sparsity=0.5 row:sparsity=0.7 row:sparsity=0.8 nm:n=2,m=4 nm:n=1,m=4; do
    line="| \`$selector\` |"
    for rewriter in "${rewriters[@]}"; do
        "$prune" run "$example/model.onnx" -o "$work/out.onnx" --force --calibration "$example/calib.safetensors" \
            --scorer activation --selector "$selector" --rewriter "$rewriter" >/dev/null
        line+=" $(accuracy "$work/out.onnx") |"
    done
    echo "$line"
done
