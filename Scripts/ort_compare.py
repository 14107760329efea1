#!/usr/bin/env python3
"""Runs pairs of ONNX models in ONNX Runtime on the same random inputs and compares their outputs.

Usage: ort_compare.py REFERENCE.onnx CANDIDATE.onnx [REFERENCE.onnx CANDIDATE.onnx ...] [--tolerance T]
Inputs are made from REFERENCE's declared inputs (onnx_check.py's rule: symbolic dimensions taken as 1; floats
standard normal, integers in [0, 3), bools random; seed 0). Every output of REFERENCE must appear in CANDIDATE
with the same shape and values within T (default 1e-5, relative above 1). Prints "OK CANDIDATE",
"SKIP CANDIDATE: why" (ONNX Runtime cannot load the reference) or "FAIL CANDIDATE: why" per pair; exits 0 when all pairs agree, 1 otherwise, 2 on bad usage or missing packages.
Used by the tests to show that PruneKit's load-time canonicalisation changes no output.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv):
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
        from onnx_check import random_input
    except ImportError as error:
        print(f"missing package: {error}", file=sys.stderr)
        return 2
    tolerance = 1e-5
    if "--tolerance" in argv:
        position = argv.index("--tolerance")
        tolerance = float(argv[position + 1])
        argv = argv[:position] + argv[position + 2:]
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    for reference, candidate in zip(argv[0::2], argv[1::2]):
        try:
            model = onnx.load(reference)
            initializers = {t.name for t in model.graph.initializer}
            rng = np.random.default_rng(0)
            feeds = {i.name: random_input(i, rng, np) for i in model.graph.input if i.name not in initializers}
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            options.log_severity_level = 3
            try:
                want = ort.InferenceSession(reference, options, providers=["CPUExecutionProvider"])
            except Exception as error:  # noqa: BLE001 - the reference itself is outside ONNX Runtime's support
                print(f"SKIP {candidate}: the reference does not load in ONNX Runtime: {str(error).splitlines()[0]}")
                continue
            got = ort.InferenceSession(candidate, options, providers=["CPUExecutionProvider"])
            names = [o.name for o in want.get_outputs()]
            expected = dict(zip(names, want.run(names, feeds)))
            actual = dict(zip(names, got.run(names, feeds)))
            for name in names:
                a, b = np.asarray(actual[name]), np.asarray(expected[name])
                if a.shape != b.shape:
                    raise ValueError(f"output '{name}' has shape {a.shape}, expected {b.shape}")
                if a.dtype.kind in "fc":
                    scale = np.maximum(1.0, np.abs(b))
                    worst = float(np.max(np.abs(a - b) / scale)) if a.size else 0.0
                    if not worst <= tolerance:
                        raise ValueError(f"output '{name}' differs by {worst:g} (tolerance {tolerance:g})")
                elif not np.array_equal(a, b):
                    raise ValueError(f"output '{name}' differs")
            print(f"OK {candidate}")
        except Exception as error:  # noqa: BLE001 - one line per failing pair
            failed = True
            print(f"FAIL {candidate}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
