"""Writes calibration batches for the runtime benchmark models as safetensors, for `calibration-bench`.

Reads /tmp/rtbench/{cnn,bert}_data/input_*.pb (made by Scripts/runtime-bench/make_models.py) and writes
/tmp/rtbench/{cnn,bert}_calib.safetensors with one tensor per graph input. Needs PyPI onnx, safetensors, numpy.
"""
import glob
import os

import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file

for name in ["cnn", "bert"]:
    graph = onnx.load(f"/tmp/rtbench/{name}.onnx").graph
    files = sorted(glob.glob(f"/tmp/rtbench/{name}_data/input_*.pb"))
    tensors = {}
    for graph_input, path in zip(graph.input, files):
        proto = onnx.TensorProto()
        proto.ParseFromString(open(path, "rb").read())
        tensors[graph_input.name] = numpy_helper.to_array(proto)
    save_file(tensors, f"/tmp/rtbench/{name}_calib.safetensors")
    print(name, {k: v.shape for k, v in tensors.items()})
