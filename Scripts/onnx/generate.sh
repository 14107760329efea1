#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/onnx.pb.swift from Scripts/onnx/onnx.proto (ONNX 1.23.2, IR version 14,
# taken from the PyPI `onnx` wheel: `pip download --no-deps onnx==1.23.2`, file onnx/onnx.proto).
# Needs `protoc` (Debian: protobuf-compiler) and builds protoc-gen-swift from the mirrored swift-protobuf 1.39.0.
# The output is committed; run this only when moving to a newer onnx.proto.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v protoc >/dev/null || { echo "install protoc: apt-get install protobuf-compiler" >&2; exit 1; }
git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf "$work/swift-protobuf"
(cd "$work/swift-protobuf" && swift build -c release --product protoc-gen-swift)
protoc --plugin=protoc-gen-swift="$work/swift-protobuf/.build/release/protoc-gen-swift" \
  --swift_out="$work" --swift_opt=Visibility=Package -I "$here" "$here/onnx.proto"
cp "$work/onnx.pb.swift" "$root/Sources/ONNXProto/onnx.pb.swift"
echo "wrote Sources/ONNXProto/onnx.pb.swift"
