#!/usr/bin/env python3
"""Checks a head-dimension removal of tiny_bert against the dense model with the same dims dropped.

usage: head_dims_reference.py DENSE.onnx PRUNED.onnx INPUTS.safetensors

Selects, independently of PruneKit, what `--head-dims --scorer magnitude:p=2 --selector
layer:sparsity=0.5,rounding=floor-keep --ignore intermediate` removes: in every layer, Q/K dim j scores
sqrt(sum_h Wq[:, h*d+j]^2 + Wk[:, h*d+j]^2), V/O dim j sqrt(sum_h Wv[:, h*d+j]^2 + Wo[h*d+j, :]^2); the d/2 lowest go.
The reference is the DENSE model run by ONNX Runtime with those dims' Q columns and bias entries zeroed (term j of
Q.K^T then vanishes; the 1/sqrt(d) scale is the dense one) and their V columns and bias entries zeroed (context dim j
is 0, so Wo's rows j read nothing). Prints the pruned Q/V weight shapes and the largest difference; exits 1 above 1e-5.
"""
import json
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

D, HEADS = 8, 4


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    types = {"I64": np.int64, "F32": np.float32}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=types[info["dtype"]]).reshape(info["shape"])
    return out


def weight_of(model, node_name):
    inits = {t.name: t for t in model.graph.initializer}
    node = next(n for n in model.graph.node if n.name == node_name)
    return node.input[1], numpy_helper.to_array(inits[node.input[1]])


def bias_of(model, add_name):
    inits = {t.name: t for t in model.graph.initializer}
    node = next(n for n in model.graph.node if n.name == add_name)
    name = next(i for i in node.input if i in inits)
    return name, numpy_helper.to_array(inits[name])


def main():
    dense_path, pruned_path, io_path = sys.argv[1:4]
    dense = onnx.load(dense_path)
    changed = {}
    for layer in range(2):
        p = f"/blocks.{layer}"
        (qn, wq), (kn, wk), (vn, wv), (on, wo) = (
            weight_of(dense, f"{p}/{m}/MatMul") for m in ("query", "key", "value", "attention_output"))
        qb, kb, vb = (bias_of(dense, f"{p}/{m}/Add") for m in ("query", "key", "value"))
        cols = lambda w, j: w[:, [h * D + j for h in range(HEADS)]]
        qk = np.array([np.sqrt((cols(wq, j) ** 2).sum() + (cols(wk, j) ** 2).sum()) for j in range(D)])
        vo = np.array([np.sqrt((cols(wv, j) ** 2).sum() + (wo[[h * D + j for h in range(HEADS)], :] ** 2).sum())
                       for j in range(D)])
        for scores, (wname, w), (bname, b) in ((qk, (qn, wq), qb), (vo, (vn, wv), vb)):
            drop = np.argsort(scores, kind="stable")[: D // 2]
            idx = [h * D + j for h in range(HEADS) for j in drop]
            w = w.copy(); w[:, idx] = 0; changed[wname] = w
            b = b.copy(); b[idx] = 0; changed[bname] = b
            print(f"layer {layer}: dropped dims {sorted(drop.tolist())}")
    for t in dense.graph.initializer:
        if t.name in changed:
            t.CopyFrom(numpy_helper.from_array(changed[t.name].astype(np.float32), t.name))
    io = read_safetensors(io_path)
    feeds = {"input_ids": io["input_ids"], "attention_mask": io["attention_mask"]}
    reference = ort.InferenceSession(dense.SerializeToString()).run(None, feeds)[0]
    pruned = onnx.load(pruned_path)
    for layer in range(2):
        print(f"layer {layer}: pruned query {weight_of(pruned, f'/blocks.{layer}/query/MatMul')[1].shape}, "
              f"value {weight_of(pruned, f'/blocks.{layer}/value/MatMul')[1].shape}, "
              f"output {weight_of(pruned, f'/blocks.{layer}/attention_output/MatMul')[1].shape}")
    output = ort.InferenceSession(pruned_path).run(None, feeds)[0]
    dense_out = ort.InferenceSession(dense_path).run(None, feeds)[0]
    diff = float(np.abs(output - reference).max())
    print(f"max |pruned - reference| = {diff:.3g}; removal changes the output by {float(np.abs(dense_out - reference).max()):.3g}")
    sys.exit(0 if diff <= 1e-5 else 1)


if __name__ == "__main__":
    main()
