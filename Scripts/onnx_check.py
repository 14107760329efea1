#!/usr/bin/env python3
"""Checks ONNX files with ONNX's own tools: the full checker and an ONNX Runtime session run on random input.

Usage: onnx_check.py MODEL.onnx [MODEL.onnx ...]
Prints "OK <path>" for each model that passes `onnx.checker.check_model(path, full_check=True)` and runs in
`onnxruntime.InferenceSession` (CPU) on random inputs (symbolic dimensions taken as 1); prints "FAIL <path>: why"
otherwise. When `MODEL.onnx.expect.json` exists ({"inputs": {name: {"shape": [...], "values": [...]}},
"outputs": {name: [...]}, "tolerance": t}), ONNX Runtime's outputs for those inputs must match within t (relative
above 1), which is how tests compare ONNX Runtime with PruneKit's interpreter. Exits 0 when every model passed, 1 when any failed, 2 on bad usage or missing packages.
Needs: pip install onnx onnxruntime numpy
"""
import sys


def random_input(info, rng, np):
    """Random values for one graph input, from its declared element type and shape."""
    import onnx
    from onnx import helper

    tensor_type = info.type.tensor_type
    dtype = helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
    shape = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in tensor_type.shape.dim]
    if np.issubdtype(dtype, np.floating):
        return rng.standard_normal(shape).astype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 3, shape).astype(dtype)
    raise ValueError(f"input '{info.name}' has element type {onnx.TensorProto.DataType.Name(tensor_type.elem_type)}")


def check(path, np, onnx, ort):
    """Raises on the first problem with the model at `path`."""
    # A path (not a loaded model) lets the checker resolve external data and handle models over 2 GB.
    onnx.checker.check_model(path, full_check=True)
    model = onnx.load(path, load_external_data=False)
    initializers = {t.name for t in model.graph.initializer}
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: unused-initializer and old-opset warnings are not failures
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {i.name: random_input(i, rng, np) for i in model.graph.input if i.name not in initializers}
    outputs = session.run(None, feeds)
    for value, info in zip(outputs, session.get_outputs()):
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            raise ValueError(f"output '{info.name}' has non-finite values")
    compare_expected(path, session, np)


def compare_expected(path, session, np):
    """Runs the inputs of `path`.expect.json, if present, and compares the outputs it lists."""
    import json
    import os

    expect_path = path + ".expect.json"
    if not os.path.exists(expect_path):
        return
    with open(expect_path) as f:
        expect = json.load(f)
    feeds = {
        name: np.asarray(spec["values"], dtype=np.float32).reshape(spec["shape"]) for name, spec in expect["inputs"].items()
    }
    names = list(expect["outputs"])
    tolerance = float(expect.get("tolerance", 1e-4))
    for name, value in zip(names, session.run(names, feeds)):
        want = np.asarray(expect["outputs"][name], dtype=np.float32)
        got = np.asarray(value, dtype=np.float32).reshape(-1)
        if got.shape != want.shape:
            raise ValueError(f"output '{name}' has {got.size} values, expected {want.size}")
        worst = float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))) if got.size else 0.0
        if worst > tolerance:
            raise ValueError(f"output '{name}' differs from the expected values by {worst:.3g} (tolerance {tolerance})")


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
    except ImportError as error:
        print(f"missing Python package: {error} (pip install onnx onnxruntime numpy)", file=sys.stderr)
        return 2
    failed = 0
    for path in argv[1:]:
        try:
            check(path, np, onnx, ort)
            print(f"OK {path}")
        except Exception as error:  # every failure is reported, then the next model is checked
            failed += 1
            message = " ".join(str(error).split())
            print(f"FAIL {path}: {type(error).__name__}: {message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
