"""What an int8 embedding table costs ONNX Runtime per run, in the three forms a lookup can take.

One Gather of a [32, 47] batch of token ids from a [30522, 384] table (all-MiniLM-L6-v2's word embedding size;
random values, so no model is needed):
  dense      Gather(table f32, ids)
  gathered   Gather(table int8, ids) → Cast → Mul by Gather(scales [V, 1], ids)   (what quantize:embeddings=int8 writes)
  gathered4  Gather(table uint8 [V, D/2], ids) → Cast → nibbles split (Div, Floor, Mul, Sub), Concat, Sub 8 → Mul by
             the gathered scales                                                    (quantize:embeddings=int4)
  whole      DequantizeLinear(table int8, scales, axis 0) → Gather                 (the plain QDQ form)
ONNX Runtime does not constant-fold DequantizeLinear, so "whole" dequantises all 30,522 rows on every run.
(gathered4's scales are the int8 ones: only the time is compared.) Runs are interleaved (dense, gathered, …) so that load on a shared machine hits all three alike;
the medians and the ratios to dense are printed.

  python Benchmarks/quantization/embedding_lookup.py [--repeat 50] [--threads 1]
"""
import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

VOCABULARY, WIDTH = 30522, 384


def model(form, table, levels, scales):
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "sequence"])
    out = helper.make_tensor_value_info("rows", TensorProto.FLOAT, ["batch", "sequence", WIDTH])
    if form == "dense":
        inits = [numpy_helper.from_array(table, "table")]
        nodes = [helper.make_node("Gather", ["table", "ids"], ["rows"])]
    elif form == "gathered4":
        half = WIDTH // 2
        q4 = np.clip(np.round(table / (np.abs(table).max(axis=1) / 7)[:, None]), -8, 7).astype(np.int16) + 8
        packed = (q4[:, :half] | (q4[:, half:] << 4)).astype(np.uint8)
        inits = [numpy_helper.from_array(packed, "q"), numpy_helper.from_array(scales[:, None], "s"),
                 numpy_helper.from_array(np.array(16, np.float32), "c16"),
                 numpy_helper.from_array(np.array(8, np.float32), "c8")]
        nodes = [
            helper.make_node("Gather", ["q", "ids"], ["rq"]),
            helper.make_node("Gather", ["s", "ids"], ["rs"]),
            helper.make_node("Cast", ["rq"], ["rf"], to=TensorProto.FLOAT),
            helper.make_node("Div", ["rf", "c16"], ["d"]),
            helper.make_node("Floor", ["d"], ["hi"]),
            helper.make_node("Mul", ["hi", "c16"], ["hi16"]),
            helper.make_node("Sub", ["rf", "hi16"], ["lo"]),
            helper.make_node("Concat", ["lo", "hi"], ["u"], axis=-1),
            helper.make_node("Sub", ["u", "c8"], ["l"]),
            helper.make_node("Mul", ["l", "rs"], ["rows"]),
        ]
    elif form == "gathered":
        inits = [numpy_helper.from_array(levels, "q"), numpy_helper.from_array(scales[:, None], "s")]
        nodes = [
            helper.make_node("Gather", ["q", "ids"], ["rq"]),
            helper.make_node("Gather", ["s", "ids"], ["rs"]),
            helper.make_node("Cast", ["rq"], ["rf"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["rf", "rs"], ["rows"]),
        ]
    else:
        inits = [numpy_helper.from_array(levels, "q"), numpy_helper.from_array(scales, "s")]
        nodes = [
            helper.make_node("DequantizeLinear", ["q", "s"], ["table"], axis=0),
            helper.make_node("Gather", ["table", "ids"], ["rows"]),
        ]
    graph = helper.make_graph(nodes, form, [ids], [out], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    table = (rng.standard_normal((VOCABULARY, WIDTH)) * 0.05).astype(np.float32)
    scales = (np.abs(table).max(axis=1) / 127).astype(np.float32)
    levels = np.clip(np.round(table / scales[:, None]), -128, 127).astype(np.int8)
    feed = {"ids": rng.integers(0, VOCABULARY, size=(32, 47)).astype(np.int64)}
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    forms = ["dense", "gathered", "gathered4", "whole"]
    sessions = {f: ort.InferenceSession(model(f, table, levels, scales), options, providers=["CPUExecutionProvider"])
                for f in forms}
    outputs = {f: s.run(None, feed)[0] for f, s in sessions.items()}
    assert np.array_equal(outputs["gathered"], outputs["whole"]), "the two int8 forms must agree exactly"
    times = {f: [] for f in forms}
    for _ in range(args.repeat):
        for form in forms:
            start = time.perf_counter()
            sessions[form].run(None, feed)
            times[form].append((time.perf_counter() - start) * 1000)
    dense = statistics.median(times["dense"])
    for form in forms:
        median = statistics.median(times[form])
        print(f"{form:9s} {median:8.3f} ms  ({median / dense:6.1f}× dense)")
    print(f"max |int8 − f32| over the gathered rows: {np.abs(outputs['gathered'] - outputs['dense']).max():.2e}")


if __name__ == "__main__":
    main()
