#!/usr/bin/env python3
"""Writes the fixtures of SubgraphTests.swift (and records ONNX Runtime's outputs on them), with onnx.helper.

  python make_subgraph_fixtures.py      # needs numpy, onnx, onnxruntime

if_lstm.onnx: silero-vad's pattern. Input x [1, 4, 16] (N, C, L) and a bool cond; an If whose two branches each
  hold, in Constant nodes as spox writes them, Conv(4→8, k3) → Relu → Conv(8→6, k3) → Relu → Transpose [2, 0, 1] →
  LSTM (6 input features, hidden 5), and return the LSTM's last hidden state Y_h [1, 1, 5] as `output`. The
  branches have different weights (then_…, else_…).
if_lstm.then.io.safetensors / if_lstm.else.io.safetensors: x, cond (true / false) and ONNX Runtime's `output`.

layernorm_sum.onnx: magika's pattern (Keras → tf2onnx). Input x [1, 12, 4]; a Reshape whose shape is computed from
  Shape → Cast(INT32) → Slice(INT32 bounds) → Concat(INT32 constants) → Cast(INT64); Unsqueeze → Slice with INT32
  bounds → Transpose [0, 2, 1, 3] → Conv(4→6, k3×1) → Slice → Squeeze → Add bias [1, 6, 1] → Relu →
  GlobalMaxPool → Squeeze → a layer norm written out as ReduceSum · 1/6 (mean), ReduceSum(x²) · 1/6 − mean², Max(0,
  ·), Sqrt, Reciprocal, scale [1, 6], bias [1, 6] → MatMul [6, 3] + [1, 3] → `output` [1, 3].
layernorm_sum.io.safetensors: x and ONNX Runtime's `output`.

loop_conv.onnx: a Loop (3 iterations) whose body applies Conv(4→4, k3, weight in a Constant node) → Relu to the
  carried x [1, 4, 8]: a layer inside a loop body, which the analysis lists as refused.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "Scripts"))
from ort_run import write_safetensors  # noqa: E402


def constant(name, array):
    return helper.make_node("Constant", [], [name], name=name + "/Constant",
                            value=numpy_helper.from_array(array, name))


def branch(prefix, rng):
    """One If branch: Conv → Relu → Conv → Relu → Transpose → LSTM, weights in Constant nodes."""
    f = np.float32
    hidden = 5
    weights = {
        "W1": rng.normal(0, 0.5, (8, 4, 3)).astype(f), "b1": rng.normal(0, 0.1, 8).astype(f),
        "W2": rng.normal(0, 0.5, (6, 8, 3)).astype(f), "b2": rng.normal(0, 0.1, 6).astype(f),
        "lstm_W": rng.normal(0, 0.5, (1, 4 * hidden, 6)).astype(f),
        "lstm_R": rng.normal(0, 0.5, (1, 4 * hidden, hidden)).astype(f),
        "lstm_B": rng.normal(0, 0.1, (1, 8 * hidden)).astype(f),
    }
    p = prefix
    nodes = [constant(f"{p}_{k}", v) for k, v in weights.items()]
    nodes += [
        helper.make_node("Conv", ["x", f"{p}_W1", f"{p}_b1"], [f"{p}/conv1_out"], name=f"{p}/conv1", pads=[1, 1]),
        helper.make_node("Relu", [f"{p}/conv1_out"], [f"{p}/relu1_out"], name=f"{p}/relu1"),
        helper.make_node("Conv", [f"{p}/relu1_out", f"{p}_W2", f"{p}_b2"], [f"{p}/conv2_out"], name=f"{p}/conv2",
                         pads=[1, 1]),
        helper.make_node("Relu", [f"{p}/conv2_out"], [f"{p}/relu2_out"], name=f"{p}/relu2"),
        helper.make_node("Transpose", [f"{p}/relu2_out"], [f"{p}/sequence"], name=f"{p}/transpose", perm=[2, 0, 1]),
        helper.make_node("LSTM", [f"{p}/sequence", f"{p}_lstm_W", f"{p}_lstm_R", f"{p}_lstm_B"],
                         ["", f"{p}/Y_h"], name=f"{p}/lstm", hidden_size=hidden),
    ]
    return helper.make_graph(nodes, f"{p}_branch", [], [
        helper.make_tensor_value_info(f"{p}/Y_h", TensorProto.FLOAT, [1, 1, hidden])])


def if_lstm():
    rng = np.random.default_rng(11)
    then_branch = branch("then", rng)
    else_branch = branch("else", rng)
    node = helper.make_node("If", ["cond"], ["output"], name="If_0", then_branch=then_branch,
                            else_branch=else_branch)
    graph = helper.make_graph([node], "if_lstm", [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 16]),
        helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
    ], [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, 5])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(HERE, "if_lstm.onnx")
    onnx.save(model, path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = rng.normal(0, 1, (1, 4, 16)).astype(np.float32)
    for name, cond in (("then", True), ("else", False)):
        feeds = {"x": x, "cond": np.array(cond)}
        (output,) = session.run(None, feeds)
        write_safetensors(os.path.join(HERE, f"if_lstm.{name}.io.safetensors"),
                          {"x": x, "cond": feeds["cond"], "output": output}, np)


def layernorm_sum():
    rng = np.random.default_rng(12)
    f = np.float32
    i32 = np.int32
    init = [
        numpy_helper.from_array(np.array([0], i32), "slice_zero"),
        numpy_helper.from_array(np.array([1], i32), "slice_one"),
        numpy_helper.from_array(np.array([12], i32), "tokens"),
        numpy_helper.from_array(np.array([4], i32), "features"),
        numpy_helper.from_array(np.array([3], np.int64), "axis3"),
        numpy_helper.from_array(np.array([2], np.int64), "axis2"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        numpy_helper.from_array(np.zeros(4, i32), "begin"),
        numpy_helper.from_array(np.full(4, 1_000_000_000, i32), "end"),
        numpy_helper.from_array(np.array([0, 2, 1, 3], i32), "slice_axes"),
        numpy_helper.from_array(np.ones(4, i32), "slice_steps"),
        numpy_helper.from_array(rng.normal(0, 0.5, (6, 4, 3, 1)).astype(f), "conv_W"),
        numpy_helper.from_array(np.zeros(4, np.int64), "starts"),
        numpy_helper.from_array(np.array([2**31 - 1, 2**31 - 1, 2**31 - 1, 1], np.int64), "ends"),
        numpy_helper.from_array(np.arange(4, dtype=np.int64), "axes"),
        numpy_helper.from_array(rng.normal(0, 0.1, (1, 6, 1)).astype(f), "conv_bias"),
        numpy_helper.from_array(np.array(1 / 6, f), "reciprocal_count"),
        numpy_helper.from_array(np.array(0, f), "zero"),
        numpy_helper.from_array(np.array(1e-6, f), "epsilon"),
        numpy_helper.from_array(rng.normal(1, 0.1, (1, 6)).astype(f), "ln_scale"),
        numpy_helper.from_array(rng.normal(0, 0.1, (1, 6)).astype(f), "ln_bias"),
        numpy_helper.from_array(rng.normal(0, 0.5, (6, 3)).astype(f), "dense_W"),
        numpy_helper.from_array(rng.normal(0, 0.1, (1, 3)).astype(f), "dense_b"),
    ]
    n = helper.make_node
    nodes = [
        n("Shape", ["x"], ["shape"], name="shape"),
        n("Cast", ["shape"], ["shape32"], name="cast32", to=TensorProto.INT32),
        n("Slice", ["shape32", "slice_zero", "slice_one", "slice_zero"], ["batch"], name="batch"),
        n("Concat", ["batch", "tokens", "features"], ["target32"], name="target", axis=0),
        n("Cast", ["target32"], ["target64"], name="cast64", to=TensorProto.INT64),
        n("Reshape", ["x", "target64"], ["reshaped"], name="reshape"),
        n("Unsqueeze", ["reshaped", "axis3"], ["unsqueezed"], name="unsqueeze"),
        n("Slice", ["unsqueezed", "begin", "end", "slice_axes", "slice_steps"], ["sliced"], name="strided_slice"),
        n("Transpose", ["sliced"], ["nchw"], name="to_nchw", perm=[0, 2, 1, 3]),
        n("Conv", ["nchw", "conv_W"], ["conv"], name="Conv_0", kernel_shape=[3, 1]),
        n("Slice", ["conv", "starts", "ends", "axes"], ["conv_sliced"], name="strided_slice_2"),
        n("Squeeze", ["conv_sliced", "axis3"], ["conv_squeezed"], name="squeeze"),
        n("Add", ["conv_squeezed", "conv_bias"], ["biased"], name="bias"),
        n("Relu", ["biased"], ["activated"], name="relu"),
        n("GlobalMaxPool", ["activated"], ["pooled"], name="max"),
        n("Squeeze", ["pooled", "axis2"], ["h"], name="max_squeeze"),
        n("ReduceSum", ["h", "axis1"], ["sum"], name="LayerNorm/Sum", keepdims=0),
        n("Mul", ["sum", "reciprocal_count"], ["mean"], name="LayerNorm/mean"),
        n("Mul", ["h", "h"], ["square"], name="LayerNorm/Square"),
        n("ReduceSum", ["square", "axis1"], ["sum2"], name="LayerNorm/Sum_1", keepdims=0),
        n("Mul", ["sum2", "reciprocal_count"], ["mean2"], name="LayerNorm/mean2"),
        n("Mul", ["mean", "mean"], ["mean_squared"], name="LayerNorm/Square_1"),
        n("Sub", ["mean2", "mean_squared"], ["variance"], name="LayerNorm/Sub"),
        n("Max", ["zero", "variance"], ["variance_positive"], name="LayerNorm/Maximum"),
        n("Add", ["variance_positive", "epsilon"], ["variance_epsilon"], name="LayerNorm/AddV2"),
        n("Sqrt", ["variance_epsilon"], ["deviation"], name="LayerNorm/Sqrt"),
        n("Reciprocal", ["deviation"], ["inverse"], name="LayerNorm/Rsqrt"),
        n("Unsqueeze", ["inverse", "axis1"], ["inverse_column"], name="LayerNorm/inverse_column"),
        n("Unsqueeze", ["mean", "axis1"], ["mean_column"], name="LayerNorm/mean_column"),
        n("Sub", ["h", "mean_column"], ["centered"], name="LayerNorm/Sub_1"),
        n("Mul", ["centered", "inverse_column"], ["normalised"], name="LayerNorm/Mul"),
        n("Mul", ["normalised", "ln_scale"], ["scaled"], name="LayerNorm/Mul_1"),
        n("Add", ["scaled", "ln_bias"], ["ln"], name="LayerNorm/AddV2_1"),
        n("MatMul", ["ln", "dense_W"], ["dense"], name="Dense_1/MatMul"),
        n("Add", ["dense", "dense_b"], ["output"], name="Dense_1/AddV2"),
    ]
    graph = helper.make_graph(nodes, "layernorm_sum", [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 12, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(HERE, "layernorm_sum.onnx")
    onnx.save(model, path)
    x = rng.normal(0, 1, (1, 12, 4)).astype(f)
    (output,) = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    write_safetensors(os.path.join(HERE, "layernorm_sum.io.safetensors"), {"x": x, "output": output}, np)


def loop_conv():
    rng = np.random.default_rng(13)
    body = helper.make_graph([
        constant("body_W", rng.normal(0, 0.5, (4, 4, 3)).astype(np.float32)),
        helper.make_node("Conv", ["x_in", "body_W"], ["conv_out"], name="body/conv", pads=[1, 1]),
        helper.make_node("Relu", ["conv_out"], ["x_out"], name="body/relu"),
        helper.make_node("Identity", ["cond_in"], ["cond_out"], name="body/cond"),
    ], "body", [
        helper.make_tensor_value_info("iteration", TensorProto.INT64, []),
        helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
        helper.make_tensor_value_info("x_in", TensorProto.FLOAT, [1, 4, 8]),
    ], [
        helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
        helper.make_tensor_value_info("x_out", TensorProto.FLOAT, [1, 4, 8]),
    ])
    graph = helper.make_graph([
        constant("trips", np.array(3, np.int64)),
        constant("keep_going", np.array(True)),
        helper.make_node("Loop", ["trips", "keep_going", "x"], ["output"], name="Loop_0", body=body),
    ], "loop_conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, 8])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, os.path.join(HERE, "loop_conv.onnx"))


if __name__ == "__main__":
    if_lstm()
    layernorm_sum()
    loop_conv()
