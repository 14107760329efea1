# Builds the PruneRuntime benchmark models (a small ResNet-style CNN and a 2-layer BERT-style encoder) with
# reference inputs/outputs from ONNX Runtime, and prints ONNX Runtime timings at 1 and 2 threads.
# Needs PyPI onnx, onnxruntime, numpy. Output goes to /tmp/rtbench; then run
#   PRUNE_RUNTIME_BENCH=/tmp/rtbench swift test -c release --disable-xctest --filter BenchmarkTests
import os; os.makedirs("/tmp/rtbench", exist_ok=True)
import numpy as np, onnx
from onnx import helper as h, TensorProto as T, numpy_helper as nh
rng = np.random.default_rng(0)
def init(name, *shape, scale=0.05):
    return nh.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

# ResNet-ish: stem conv7x7/2 -> BN -> Relu -> MaxPool -> 2 basic blocks at 64ch -> down conv 128 -> depthwise -> GAP -> Gemm
nodes, inits = [], []
def conv(x, y, cin, cout, k, s, p, g=1, bn=True, relu=True):
    w = f"{y}_w"; inits.append(init(w, cout, cin // g, k, k))
    nodes.append(h.make_node("Conv", [x, w], [y + "_c"], kernel_shape=[k, k], strides=[s, s], pads=[p]*4, group=g))
    out = y + "_c"
    if bn:
        for n, v in [("s", 1.0), ("b", 0.0), ("m", 0.0), ("v", 1.0)]:
            inits.append(nh.from_array((v + 0.1 * rng.standard_normal(cout)).astype(np.float32) if n != "v" else (1 + 0.1 * rng.random(cout)).astype(np.float32), f"{y}_{n}"))
        nodes.append(h.make_node("BatchNormalization", [out, f"{y}_s", f"{y}_b", f"{y}_m", f"{y}_v"], [y + "_bn"]))
        out = y + "_bn"
    if relu:
        nodes.append(h.make_node("Relu", [out], [y])); return y
    nodes.append(h.make_node("Identity", [out], [y])); return y
x = conv("x", "stem", 3, 64, 7, 2, 3)
nodes.append(h.make_node("MaxPool", [x], ["pool"], kernel_shape=[3, 3], strides=[2, 2], pads=[1]*4)); x = "pool"
for b in range(2):
    a = conv(x, f"b{b}a", 64, 64, 3, 1, 1)
    c = conv(a, f"b{b}c", 64, 64, 3, 1, 1, relu=False)
    nodes.append(h.make_node("Add", [c, x], [f"b{b}s"])); nodes.append(h.make_node("Relu", [f"b{b}s"], [f"b{b}"])); x = f"b{b}"
x = conv(x, "down", 64, 128, 3, 2, 1)
x = conv(x, "dw", 128, 128, 3, 1, 1, g=128)
x = conv(x, "pw", 128, 256, 1, 1, 0)
nodes.append(h.make_node("GlobalAveragePool", [x], ["gap"])); nodes.append(h.make_node("Flatten", ["gap"], ["flat"]))
inits.append(init("fc_w", 1000, 256)); inits.append(init("fc_b", 1000))
nodes.append(h.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1))
g = h.make_graph(nodes, "cnn", [h.make_tensor_value_info("x", T.FLOAT, [4, 3, 224, 224])], [h.make_tensor_value_info("logits", T.FLOAT, None)], inits)
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), "/tmp/rtbench/cnn.onnx")

# BERT-ish encoder: 2 layers, hidden 256, 4 heads, seq 128, batch 4
B, S, H, NH = 4, 128, 256, 4; D = H // NH
nodes, inits = [], []
inits.append(nh.from_array(np.array([B, S, NH, D], np.int64), "qkv_shape")); inits.append(nh.from_array(np.array([B, S, H], np.int64), "out_shape"))
inits.append(nh.from_array(np.array(np.sqrt(D), np.float32), "scale"))
inits.append(nh.from_array(np.array(np.sqrt(2.0), np.float32), "sqrt2")); inits.append(nh.from_array(np.array(1.0, np.float32), "one")); inits.append(nh.from_array(np.array(0.5, np.float32), "half"))
x = "x"
for l in range(2):
    p = f"l{l}_"
    heads = []
    for n in "qkv":
        inits.append(init(p + n + "_w", H, H)); inits.append(init(p + n + "_b", H))
        nodes += [h.make_node("MatMul", [x, p + n + "_w"], [p + n + "0"]), h.make_node("Add", [p + n + "0", p + n + "_b"], [p + n + "1"]),
                  h.make_node("Reshape", [p + n + "1", "qkv_shape"], [p + n + "2"]),
                  h.make_node("Transpose", [p + n + "2"], [p + n], perm=[0, 2, 3, 1] if n == "k" else [0, 2, 1, 3])]
    nodes += [h.make_node("MatMul", [p + "q", p + "k"], [p + "s0"]), h.make_node("Div", [p + "s0", "scale"], [p + "s1"]),
              h.make_node("Add", [p + "s1", "mask"], [p + "s2"]), h.make_node("Softmax", [p + "s2"], [p + "a"], axis=-1),
              h.make_node("MatMul", [p + "a", p + "v"], [p + "c0"]), h.make_node("Transpose", [p + "c0"], [p + "c1"], perm=[0, 2, 1, 3]),
              h.make_node("Reshape", [p + "c1", "out_shape"], [p + "c2"])]
    inits.append(init(p + "o_w", H, H)); inits.append(init(p + "o_b", H))
    inits.append(nh.from_array(np.ones(H, np.float32), p + "ln1_g")); inits.append(nh.from_array(np.zeros(H, np.float32), p + "ln1_b"))
    nodes += [h.make_node("MatMul", [p + "c2", p + "o_w"], [p + "o0"]), h.make_node("Add", [p + "o0", p + "o_b"], [p + "o1"]),
              h.make_node("Add", [p + "o1", x], [p + "r1"]), h.make_node("LayerNormalization", [p + "r1", p + "ln1_g", p + "ln1_b"], [p + "h1"], axis=-1, epsilon=1e-12)]
    inits.append(init(p + "f1_w", H, 4 * H)); inits.append(init(p + "f1_b", 4 * H)); inits.append(init(p + "f2_w", 4 * H, H)); inits.append(init(p + "f2_b", H))
    inits.append(nh.from_array(np.ones(H, np.float32), p + "ln2_g")); inits.append(nh.from_array(np.zeros(H, np.float32), p + "ln2_b"))
    nodes += [h.make_node("MatMul", [p + "h1", p + "f1_w"], [p + "f0"]), h.make_node("Add", [p + "f0", p + "f1_b"], [p + "f1"]),
              h.make_node("Div", [p + "f1", "sqrt2"], [p + "g0"]), h.make_node("Erf", [p + "g0"], [p + "g1"]), h.make_node("Add", [p + "g1", "one"], [p + "g2"]),
              h.make_node("Mul", [p + "f1", p + "g2"], [p + "g3"]), h.make_node("Mul", [p + "g3", "half"], [p + "g4"]),
              h.make_node("MatMul", [p + "g4", p + "f2_w"], [p + "f3"]), h.make_node("Add", [p + "f3", p + "f2_b"], [p + "f4"]),
              h.make_node("Add", [p + "f4", p + "h1"], [p + "r2"]), h.make_node("LayerNormalization", [p + "r2", p + "ln2_g", p + "ln2_b"], [p + "out"], axis=-1, epsilon=1e-12)]
    x = p + "out"
g = h.make_graph(nodes, "bert", [h.make_tensor_value_info("x", T.FLOAT, [B, S, H]), h.make_tensor_value_info("mask", T.FLOAT, [B, 1, 1, S])],
                 [h.make_tensor_value_info(x, T.FLOAT, None)], inits)
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), "/tmp/rtbench/bert.onnx")

import onnxruntime as ort, time, os
feeds = {"cnn": {"x": rng.standard_normal((4, 3, 224, 224)).astype(np.float32)},
         "bert": {"x": rng.standard_normal((B, S, H)).astype(np.float32), "mask": np.zeros((B, 1, 1, S), np.float32)}}
for name, feed in feeds.items():
    os.makedirs(f"/tmp/rtbench/{name}_data", exist_ok=True)
    for i, (k, v) in enumerate(feed.items()):
        t = nh.from_array(v, k); open(f"/tmp/rtbench/{name}_data/input_{i}.pb", "wb").write(t.SerializeToString())
    for threads in (1, 2):
        so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
        s = ort.InferenceSession(f"/tmp/rtbench/{name}.onnx", so, providers=["CPUExecutionProvider"])
        out = s.run(None, feed)
        if threads == 1:
            t = nh.from_array(out[0], "out"); open(f"/tmp/rtbench/{name}_data/output_0.pb", "wb").write(t.SerializeToString())
        ts = []
        for _ in range(5):
            t0 = time.perf_counter(); s.run(None, feed); ts.append(time.perf_counter() - t0)
        print(f"ORT {name} threads={threads}: {min(ts)*1000:.1f} ms")
