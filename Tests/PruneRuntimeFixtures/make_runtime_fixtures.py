"""Builds tiny ONNX graphs for the runtime's control-flow, resampling, padding and recurrent kernels and records
ONNX Runtime's outputs next to them, in the layout of ONNX's backend node tests:
<case>/model.onnx and <case>/test_data_set_0/{input,output}_<i>.pb.

Run with the repo's venv (bash Scripts/setup-python.sh):  .venv/bin/python Tests/PruneRuntimeFixtures/make_runtime_fixtures.py
Tests/PruneRuntimeTests/RuntimeFixtureTests.swift compares the interpreter against the recorded outputs.
"""
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261203)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def value(name, dtype=TensorProto.FLOAT, shape=None):
    return helper.make_tensor_value_info(name, dtype, shape)


def save(case, nodes, outputs, feeds, initializers=(), opset=17):
    graph = helper.make_graph(
        nodes, case, [value(n, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape)) for n, a in feeds.items()],
        [value(n, shape=None) if isinstance(n, str) else n for n in outputs],
        initializer=[numpy_helper.from_array(a, n) for n, a in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    results = session.run(None, feeds)
    folder = os.path.join(ROOT, case)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "test_data_set_0"))
    onnx.save(model, os.path.join(folder, "model.onnx"))
    for i, (name, array) in enumerate(feeds.items()):
        onnx.save_tensor(numpy_helper.from_array(array, name), os.path.join(folder, "test_data_set_0", f"input_{i}.pb"))
    for i, (output, array) in enumerate(zip(session.get_outputs(), results)):
        onnx.save_tensor(numpy_helper.from_array(array, output.name),
                         os.path.join(folder, "test_data_set_0", f"output_{i}.pb"))


def resize_cases():
    x = rand(1, 2, 4, 5)
    scales = np.array([1, 1, 2, 2], np.float32)
    for transform in ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric"]:
        for mode in ["linear", "nearest", "cubic"]:
            for direction, s in [("up", scales), ("down", np.array([1, 1, 0.6, 0.5], np.float32))]:
                attributes = dict(mode=mode, coordinate_transformation_mode=transform)
                if mode == "nearest":
                    attributes["nearest_mode"] = "floor" if transform == "asymmetric" else "round_prefer_ceil"
                node = helper.make_node("Resize", ["x", "", "scales"], ["y"], **attributes)
                save(f"resize_{mode}_{transform}_{direction}", [node], ["y"], {"x": x},
                     initializers=[("scales", s)], opset=19)
    # sizes instead of scales, exclude_outside for cubic, axes (opset 18), tf_half_pixel_for_nn.
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="cubic", exclude_outside=1,
                            cubic_coeff_a=-0.5)
    save("resize_cubic_sizes_exclude_outside", [node], ["y"], {"x": x},
         initializers=[("sizes", np.array([1, 2, 7, 3], np.int64))], opset=13)
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear", axes=[3, 2])
    save("resize_linear_axes", [node], ["y"], {"x": x}, initializers=[("sizes", np.array([9, 3], np.int64))], opset=18)
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest",
                            coordinate_transformation_mode="tf_half_pixel_for_nn")
    save("resize_nearest_tf_half_pixel_for_nn", [node], ["y"], {"x": x}, initializers=[("scales", scales)], opset=13)
    node = helper.make_node("Resize", ["x", "scales"], ["y"], mode="nearest")
    save("resize_opset10_nearest", [node], ["y"], {"x": x}, initializers=[("scales", scales)], opset=10)
    node = helper.make_node("Upsample", ["x", "scales"], ["y"], mode="linear")
    save("upsample_opset9_linear", [node], ["y"], {"x": x}, initializers=[("scales", scales)], opset=9)


def pad_cases():
    x = rand(2, 3, 4, 5)
    for mode in ["constant", "reflect", "edge", "wrap"]:
        node = helper.make_node("Pad", ["x", "pads", "value"], ["y"], mode=mode)
        pads = np.array([0, 1, 2, -1, 0, 0, 3, 2], np.int64)
        save(f"pad_{mode}", [node], ["y"], {"x": x},
             initializers=[("pads", pads), ("value", np.array(1.5, np.float32))], opset=19)
    node = helper.make_node("Pad", ["x", "pads", "", "axes"], ["y"], mode="reflect")
    save("pad_reflect_axes", [node], ["y"], {"x": x},
         initializers=[("pads", np.array([2, 1, 3, -1], np.int64)), ("axes", np.array([-1, 2], np.int64))], opset=18)
    node = helper.make_node("Pad", ["x"], ["y"], mode="constant", pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.25)
    save("pad_opset2_attribute", [node], ["y"], {"x": x}, opset=2)


def conv_transpose_cases():
    x = rand(2, 4, 5, 6)
    w = rand(4, 3, 3, 2)
    b = rand(6)
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], group=2, strides=[2, 3], pads=[1, 0, 0, 1],
                            dilations=[2, 1], output_padding=[1, 2])
    save("conv_transpose_group_strides_pads", [node], ["y"], {"x": x}, initializers=[("w", w), ("b", b)])
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], group=2, strides=[2, 2], output_shape=[10, 11])
    save("conv_transpose_output_shape", [node], ["y"], {"x": x}, initializers=[("w", w)])
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], group=2, strides=[2, 2], auto_pad="SAME_UPPER")
    save("conv_transpose_same_upper", [node], ["y"], {"x": x}, initializers=[("w", w)])
    x1 = rand(1, 3, 7)
    w1 = rand(3, 2, 4)
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[3], pads=[1, 2])
    save("conv_transpose_1d", [node], ["y"], {"x": x1}, initializers=[("w", w1)])


def control_flow_cases():
    x = rand(3, 4)
    outer_w = rand(3, 4)
    # If whose branches read outer-scope values (an initializer and a node output), one branch nesting another If.
    then_graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["t"]), helper.make_node("Relu", ["t"], ["then_out"])],
        "then", [], [value("then_out")])
    inner_then = helper.make_graph([helper.make_node("Mul", ["doubled", "w"], ["inner_out"])], "inner_then", [],
                                   [value("inner_out")])
    inner_else = helper.make_graph([helper.make_node("Sub", ["x", "doubled"], ["inner_out2"])], "inner_else", [],
                                   [value("inner_out2")])
    else_graph = helper.make_graph(
        [helper.make_node("Less", ["s", "zero"], ["c2"]),
         helper.make_node("If", ["c2"], ["else_out"], then_branch=inner_then, else_branch=inner_else)],
        "else", [], [value("else_out")])
    nodes = [
        helper.make_node("Add", ["x", "x"], ["doubled"]),
        helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["c"]),
        helper.make_node("If", ["c"], ["y"], then_branch=then_graph, else_branch=else_graph),
    ]
    for sign in ["positive", "negative"]:
        data = np.abs(x) if sign == "positive" else -np.abs(x)
        save(f"if_outer_scope_{sign}", nodes, ["y"], {"x": data},
             initializers=[("w", outer_w), ("zero", np.array(0, np.float32))])
    # A Conv → BatchNormalization chain (which the interpreter fuses) whose Conv output a branch reads.
    image = rand(1, 2, 5, 5)
    branch = helper.make_graph([helper.make_node("Add", ["conv", "bn"], ["sum"])], "branch", [], [value("sum")])
    other = helper.make_graph([helper.make_node("Identity", ["bn"], ["same"])], "other", [], [value("same")])
    nodes = [
        helper.make_node("Conv", ["image", "cw"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["conv", "gamma", "beta", "mean", "var"], ["bn"]),
        helper.make_node("ReduceSum", ["image"], ["total"], keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["positive"]),
        helper.make_node("If", ["positive"], ["y"], then_branch=branch, else_branch=other),
    ]
    save("if_reads_fused_conv_output", nodes, ["y"], {"image": np.abs(image)},
         initializers=[("cw", rand(3, 2, 3, 3)), ("gamma", rand(3)), ("beta", rand(3)), ("mean", rand(3)),
                       ("var", np.abs(rand(3)) + 0.5), ("zero", np.array(0, np.float32))])
    # Loop: a trip count and a condition input, one carried value, one scan output, an outer-scope read.
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "x"], ["acc_out"]),
         helper.make_node("Cast", ["i"], ["fi"], to=TensorProto.FLOAT),
         helper.make_node("Mul", ["acc_out", "fi"], ["scan"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body", [value("i", TensorProto.INT64, []), value("cond_in", TensorProto.BOOL, []), value("acc_in")],
        [value("cond_out", TensorProto.BOOL, []), value("acc_out"), value("scan")])
    node = helper.make_node("Loop", ["trip", "cond", "x"], ["final", "scans"], body=body)
    save("loop_carried_and_scan", [node], ["final", "scans"], {"x": x},
         initializers=[("trip", np.array(3, np.int64)), ("cond", np.array(True))])


def lstm_cases():
    steps, batch, inputs, hidden = 5, 3, 4, 6
    for direction, dirs in [("forward", 1), ("reverse", 1), ("bidirectional", 2)]:
        x = rand(steps, batch, inputs)
        w = rand(dirs, 4 * hidden, inputs) * 0.5
        r = rand(dirs, 4 * hidden, hidden) * 0.5
        b = rand(dirs, 8 * hidden) * 0.5
        h0 = rand(dirs, batch, hidden)
        c0 = rand(dirs, batch, hidden)
        node = helper.make_node("LSTM", ["x", "w", "r", "b", "", "h0", "c0"], ["y", "yh", "yc"], direction=direction,
                                hidden_size=hidden)
        save(f"lstm_{direction}_states", [node], ["y", "yh", "yc"], {"x": x},
             initializers=[("w", w), ("r", r), ("b", b), ("h0", h0), ("c0", c0)])
        node = helper.make_node("LSTM", ["x", "w", "r"], ["y", "yh"], direction=direction, hidden_size=hidden)
        save(f"lstm_{direction}_plain", [node], ["y", "yh"], {"x": x}, initializers=[("w", w), ("r", r)])
        lengths = np.array([5, 2, 4], np.int32)
        p = rand(dirs, 3 * hidden) * 0.5
        node = helper.make_node("LSTM", ["x", "w", "r", "b", "lens", "", "", "p"], ["y", "yh", "yc"],
                                direction=direction, hidden_size=hidden)
        save(f"lstm_{direction}_lengths_peepholes", [node], ["y", "yh", "yc"], {"x": x},
             initializers=[("w", w), ("r", r), ("b", b), ("lens", lengths), ("p", p)])


def gru_cases():
    steps, batch, inputs, hidden = 4, 3, 5, 4
    for direction, dirs in [("forward", 1), ("reverse", 1), ("bidirectional", 2)]:
        for reset in [0, 1]:
            x = rand(steps, batch, inputs)
            w = rand(dirs, 3 * hidden, inputs) * 0.5
            r = rand(dirs, 3 * hidden, hidden) * 0.5
            b = rand(dirs, 6 * hidden) * 0.5
            h0 = rand(dirs, batch, hidden)
            lengths = np.array([4, 1, 3], np.int32)
            node = helper.make_node("GRU", ["x", "w", "r", "b", "lens", "h0"], ["y", "yh"], direction=direction,
                                    hidden_size=hidden, linear_before_reset=reset)
            save(f"gru_{direction}_reset{reset}", [node], ["y", "yh"], {"x": x},
                 initializers=[("w", w), ("r", r), ("b", b), ("lens", lengths), ("h0", h0)])


def einsum_cases():
    forms = {
        "attention_scores": ("bhid,bhjd->bhij", [(2, 3, 4, 5), (2, 3, 6, 5)]),
        "attention_values": ("bhij,bhjd->bhid", [(2, 3, 4, 6), (2, 3, 6, 5)]),
        "batched_matmul": ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        "outer_product": ("i,j->ij", [(3,), (4,)]),
        "inner_product": ("i,i", [(5,), (5,)]),
        "implicit_output": ("ij,jk", [(3, 4), (4, 2)]),
        "sum_only_operand": ("bik,kj->bj", [(2, 3, 4), (4, 5)]),
        "transpose": ("ijk->kji", [(2, 3, 4)]),
        "reduce": ("ijk->j", [(2, 3, 4)]),
    }
    for name, (equation, shapes) in forms.items():
        names = [f"x{i}" for i in range(len(shapes))]
        save(f"einsum_{name}", [helper.make_node("Einsum", names, ["y"], equation=equation)], ["y"],
             {n: rand(*s) for n, s in zip(names, shapes)})


def variadic_cases():
    for exclusive, reverse in [(0, 0), (1, 1)]:
        save(f"cumsum_float_exclusive{exclusive}_reverse{reverse}",
             [helper.make_node("CumSum", ["x", "axis"], ["y"], exclusive=exclusive, reverse=reverse)], ["y"],
             {"x": rand(3, 4, 5)}, initializers=[("axis", np.array(-2, np.int64))])
    save("mish_opset18", [helper.make_node("Mish", ["x"], ["y"])], ["y"], {"x": rand(3, 7) * 4}, opset=18)
    a, b, c = rand(2, 3, 4), rand(3, 1), rand(4)
    for op in ["Max", "Min", "Sum", "Mean"]:
        save(f"{op.lower()}_three_broadcast", [helper.make_node(op, ["a", "b", "c"], ["y"])], ["y"],
             {"a": a, "b": b, "c": c})


if __name__ == "__main__":
    resize_cases()
    pad_cases()
    conv_transpose_cases()
    control_flow_cases()
    lstm_cases()
    gru_cases()
    einsum_cases()
    variadic_cases()
    print("wrote", len([d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d))]), "cases under", ROOT)
