#!/usr/bin/env python3
"""Runs an ONNX model in ONNX Runtime on inputs from a file and writes its outputs: the independent reference
the interoperability tests compare PruneKit's interpreter with.

Usage: ort_run.py MODEL.onnx INPUTS OUTPUTS.safetensors [--threads N] [--check]
  INPUTS   a .safetensors file whose tensor names match the graph inputs (other tensors are ignored), or a
           .npy file for a model with exactly one input.
  OUTPUTS  written as safetensors, one tensor per graph output, by output name.
  --check  first run onnx.checker.check_model(MODEL, full_check=True).
Needs only numpy, onnx and onnxruntime (safetensors is read and written here, not through the safetensors
package). Exits 0 on success, 1 on a failure (one line on stderr), 2 on bad usage or missing packages.
"""
import json
import struct
import sys

DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
          "BOOL": "?", "F16": "<f2"}


def read_safetensors(path, np):
    """The tensors of a safetensors file, by name, as NumPy arrays."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[start + begin:start + end], dtype=DTYPES[entry["dtype"]])
        tensors[name] = array.reshape(entry["shape"])
    return tensors


def write_safetensors(path, tensors, np):
    """Writes arrays (by name) as a safetensors file."""
    names = {np.dtype(v): k for k, v in DTYPES.items()}
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        shape = list(np.shape(array))  # before ascontiguousarray, which turns a 0-d array into shape [1]
        array = np.ascontiguousarray(array)
        blob = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    threads = 1
    if "--threads" in argv:
        threads = int(argv[argv.index("--threads") + 1])
        args.remove(str(threads))
    if len(args) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    model_path, inputs_path, outputs_path = args
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
    except ImportError as error:
        print(f"missing Python package: {error} (pip install onnx onnxruntime numpy)", file=sys.stderr)
        return 2
    try:
        if "--check" in argv:
            onnx.checker.check_model(model_path, full_check=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        if inputs_path.endswith(".npy"):
            if len(names) != 1:
                raise ValueError(f"a .npy file feeds one input; the model has {names}")
            feeds = {names[0]: np.load(inputs_path)}
        else:
            tensors = read_safetensors(inputs_path, np)
            missing = [n for n in names if n not in tensors]
            if missing:
                raise ValueError(f"{inputs_path} has no tensor for graph inputs {missing}")
            feeds = {n: tensors[n] for n in names}
        outputs = session.run(None, feeds)
        write_safetensors(outputs_path, {o.name: v for o, v in zip(session.get_outputs(), outputs)}, np)
    except Exception as error:  # reported as one line; the caller shows it
        print(f"{model_path}: {type(error).__name__}: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
