#!/usr/bin/env python3
"""Real-export benchmark: torchvision classifiers exported as a user would, pruned by Torch-Pruning and by PruneKit.

Run through run.sh (which makes .venv-torch and builds the release binary). For each model, in WORKDIR/MODEL/:
  1. export_and_tp.py export   (the ONNX file, one seeded input, ONNX Runtime's output on it)
  2. export_and_tp.py tp       (Torch-Pruning MagnitudeImportance(p=2), ratio 0.5, classifier ignored)
     export_and_tp.py tp-folded (the same on the model with BatchNorm folded into its Convs, as the file holds it)
  3. prune inspect --groups --json model.onnx                  (groups and why each refused one is refused)
  4. prune run model.onnx -o removed.onnx --granularity unit --scorer magnitude:p=2
       --selector layer:sparsity=0.5,rounding=floor-keep --rewriter remove --report removed.json
       (plus OPT_IN's flags for the model: --include-hidden-width for vit_b_16, whose hidden width Torch-Pruning prunes)
     and the same with --rewriter mask -o masked.onnx (zero rows = the channels we drop, for the kept-channel match)
  5. ONNX Runtime loads and runs removed.onnx on the input
  6. prune eval model.onnx --data input.safetensors --reference ort.onnx --json, where ort.onnx is a one-node model
     returning ONNX Runtime's recorded output: the interpreter against ONNX Runtime on the dense model
Every child's wall time and peak RSS come from os.wait4. Results go to WORKDIR/MODEL/result.json; --table prints
the Markdown table of every result in WORKDIR.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import CLASSIFIERS, MODELS, module_of_node, read_safetensors, refusal_reasons  # noqa: E402

SCORER, SELECTOR = "magnitude:p=2", "layer:sparsity=0.5,rounding=floor-keep"
# Flags a model needs for a like-for-like comparison: Torch-Pruning prunes ViT's hidden width (the residual stream),
# which PruneKit offers only when asked (Docs/Transformers.md).
OPT_IN = {"vit_b_16": ["--include-hidden-width"]}
# --depthwise-exclude scores as Torch-Pruning does on depthwise models (their weights left out of a group's score).
if "--depthwise-exclude" in sys.argv:
    sys.argv.remove("--depthwise-exclude")
    SCORER = "magnitude:p=2,depthwise=exclude"


def child(cmd, log):
    with open(log, "wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    return {"rc": os.waitstatus_to_exitcode(status), "seconds": time.perf_counter() - start,
            "rss_mb": usage.ru_maxrss / 1024, "log": open(log, errors="replace").read()[-2000:]}


def first_error(log):
    lines = [l.strip() for l in log.splitlines() if l.strip()]
    errors = [l for l in lines if "rror" in l or "Fail" in l or "fail" in l]
    return (errors or lines or ["(no output)"])[-1][:300]


def float_parameters(path):
    model = onnx.load(path)
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT)


def kept_rows(path):
    """For each Conv/Gemm node with an initializer weight: the torch module and its output rows not all zero."""
    model = onnx.load(path)
    weights = {t.name: t for t in model.graph.initializer}
    result = {}
    for node in model.graph.node:
        if node.op_type in ("Conv", "Gemm") and len(node.input) > 1 and node.input[1] in weights:
            w = numpy_helper.to_array(weights[node.input[1]])
            transposed = node.op_type == "Gemm" and not any(a.name == "transB" and a.i for a in node.attribute)
            rows = w.T if transposed else w.reshape(w.shape[0], -1)
            result[module_of_node(node.name)] = [i for i in range(rows.shape[0]) if np.any(rows[i] != 0)]
    return result


def ort_reference(work, info):
    """A model that returns ONNX Runtime's recorded output, for `prune eval --reference`."""
    y = read_safetensors(os.path.join(work, "ort.safetensors"))["output"]
    dense = onnx.load(os.path.join(work, "model.onnx"), load_external_data=False)
    node = helper.make_node("Constant", [], [info["output"]], value=numpy_helper.from_array(y.astype(np.float32)))
    graph = helper.make_graph([node], "ort_output", [dense.graph.input[0]],
                              [helper.make_tensor_value_info(info["output"], onnx.TensorProto.FLOAT, list(y.shape))])
    path = os.path.join(work, "ort.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    return path


def ort_runs(path, work, info):
    import onnxruntime as ort
    x = read_safetensors(os.path.join(work, "input.safetensors"))[info["input"]]
    try:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        session.run(None, {info["input"]: x})
        return "yes", ""
    except Exception as error:  # noqa: BLE001 - the message is the result
        return "no", str(error).splitlines()[0][:300]


def mask_again(name, work, prune, python):
    """--kept-only: only the mask run again (its file gives the kept channels); the rest of the last result stays."""
    r = json.load(open(os.path.join(work, "result.json")))
    if "tp" in r and not os.path.exists(os.path.join(work, "tp_folded.json")):
        script = os.path.join(HERE, "export_and_tp.py")
        child([python, script, name, work, "tp-folded"], os.path.join(work, "tp_folded.log"))
    cmd = [prune, "run", os.path.join(work, "model.onnx"), "-o", os.path.join(work, "masked.onnx"), "--force",
           "--granularity", "unit", "--scorer", SCORER, "--selector", SELECTOR, "--rewriter", "mask",
           "--report", os.path.join(work, "masked.json")] + OPT_IN.get(name, [])
    run = child(cmd, os.path.join(work, "mask.log"))
    r["mask"] = {k: run[k] for k in ("rc", "seconds", "rss_mb")}
    if run["rc"] != 0:
        r["mask"]["error"] = first_error(run["log"])
    r["mask"]["scorer"] = SCORER
    return r


def run_model(name, work, prune, python, reuse=False):
    os.makedirs(work, exist_ok=True)
    script = os.path.join(HERE, "export_and_tp.py")
    r = {"model": name}
    previous_path = os.path.join(work, "result.json")
    previous = json.load(open(previous_path)) if reuse and os.path.exists(previous_path) else {}
    if previous.get("export") and previous.get("tp"):
        # --reuse: the export and Torch-Pruning's run are the same as last time; only PruneKit is run again.
        r["export"], r["tp"], r["tp_process"] = previous["export"], previous["tp"], previous["tp_process"]
        info = r["export"]
    else:
        ex = child([python, script, name, work, "export"], os.path.join(work, "export.log"))
        if ex["rc"] != 0:
            r["export_error"] = first_error(ex["log"])
            return r
        info = json.load(open(os.path.join(work, "export.json")))
        r["export"] = info
        tp = child([python, script, name, work, "tp"], os.path.join(work, "tp.log"))
        r["tp_process"] = {k: tp[k] for k in ("rc", "seconds", "rss_mb")}
        if tp["rc"] == 0:
            r["tp"] = json.load(open(os.path.join(work, "tp.json")))
        else:
            r["tp_error"] = first_error(tp["log"])
    if "tp" in r and not os.path.exists(os.path.join(work, "tp_folded.json")):
        child([python, script, name, work, "tp-folded"], os.path.join(work, "tp_folded.log"))
    model = os.path.join(work, "model.onnx")
    inspect = child([prune, "inspect", "--groups", "--json", model] + OPT_IN.get(name, []),
                    os.path.join(work, "inspect.log"))
    if inspect["rc"] == 0:
        groups = json.loads(open(os.path.join(work, "inspect.log")).read())
        reasons = refusal_reasons(groups)
        r["groups"] = {"total": len(groups), "prunable": sum(1 for g in groups if g.get("prunable")),
                       "refused": reasons}
    else:
        r["inspect_error"] = first_error(inspect["log"])
    for rewriter in ("remove", "mask"):
        written = {"remove": "removed", "mask": "masked"}[rewriter]
        out = os.path.join(work, f"{written}.onnx")
        cmd = [prune, "run", model, "-o", out, "--force", "--granularity", "unit", "--scorer", SCORER,
               "--selector", SELECTOR, "--rewriter", rewriter, "--report", os.path.join(work, f"{written}.json")]
        cmd += OPT_IN.get(name, [])
        run = child(cmd, os.path.join(work, f"{rewriter}.log"))
        r[rewriter] = {k: run[k] for k in ("rc", "seconds", "rss_mb")}
        r[rewriter]["scorer"] = SCORER
        if run["rc"] != 0:
            r[rewriter]["error"] = first_error(run["log"])
        elif rewriter == "remove":
            r["remove"]["ort"], r["remove"]["ort_error"] = ort_runs(out, work, info)
            r["remove"]["parameter_ratio"] = float_parameters(out) / float_parameters(model)
    ev = child([prune, "eval", model, "--data", os.path.join(work, "input.safetensors"), "--batch", "1",
                "--reference", ort_reference(work, info), "--json"], os.path.join(work, "eval.log"))
    if ev["rc"] == 0:
        agreement = json.loads(open(os.path.join(work, "eval.log")).read())["agreement"]
        r["eval"] = {"top1": agreement["top1"], "max_abs": agreement["maxAbsDifference"]}
    else:
        r["eval"] = {"error": first_error(ev["log"])}
    return r


def kept_match(workdir, name, reference="tp.json"):
    """(layers whose kept output channels equal Torch-Pruning's, layers compared), the classifier left out.

    `reference` is tp.json (Torch-Pruning on the torch model) or tp_folded.json (on its BatchNorm-folded weights)."""
    masked, tp = os.path.join(workdir, name, "masked.onnx"), os.path.join(workdir, name, reference)
    if not (os.path.exists(masked) and os.path.exists(tp)):
        return 0, 0
    ours, theirs = kept_rows(masked), json.load(open(tp))["kept"]
    compared = [m for m in ours if m in theirs and m != CLASSIFIERS[name]]
    return sum(1 for m in compared if ours[m] == theirs[m]), len(compared)


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(workdir):
    rows = ["| model | opset | groups prunable / total | refused (count: reason) | ORT runs ours | param ratio ours / TP "
            "| layers kept = TP (folded TP) | prune s / MB | TP s (prune; process) / MB | eval dense vs ORT: max abs, top-1 |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for name in MODELS:
        path = os.path.join(workdir, name, "result.json")
        if not os.path.exists(path):
            rows.append(f"| {name} | not run | | | | | | | | |")
            continue
        r = json.load(open(path))
        if "export_error" in r:
            rows.append(f"| {name} | export failed: {cell(r['export_error'])} | | | | | | | | |")
            continue
        g = r.get("groups")
        groups = f"{g['prunable']} / {g['total']}" if g else f"inspect failed: {r.get('inspect_error')}"
        refused = "; ".join(f"{n}: {k}" for k, n in sorted(g["refused"].items(), key=lambda kv: -kv[1])) if g else ""
        rem = r.get("remove", {})
        if rem.get("rc") == 0:
            ort = "yes" if rem["ort"] == "yes" else f"no: {rem['ort_error']}"
            ours = f"{rem['parameter_ratio']:.3f}"
        else:
            ort, ours = f"prune run failed (exit {rem.get('rc')}): {rem.get('error')}", "-"
        tp = r.get("tp")
        theirs = f"{tp['after'] / tp['before']:.3f}" if tp else f"TP failed: {r.get('tp_error')}"
        equal, compared = kept_match(workdir, name)
        kept = f"{equal} / {compared}" if compared else "-"
        equal_folded, compared_folded = kept_match(workdir, name, "tp_folded.json")
        if compared_folded:
            kept += f" ({equal_folded} / {compared_folded})"
        mine = f"{rem.get('seconds', 0):.1f} / {rem.get('rss_mb', 0):.0f}"
        tpp = r.get("tp_process", {})
        tptime = f"{tp['seconds']:.1f}; {tpp['seconds']:.1f} / {tpp['rss_mb']:.0f}" if tp else "-"
        ev = r.get("eval", {})
        evs = f"{ev['max_abs']:.2g}, {ev['top1']:.0f}" if "max_abs" in ev else f"fails: {ev.get('error')}"
        rows.append(f"| {name} | {r['export']['opset']} | {groups} | {cell(refused)} | {cell(ort)} | {ours} / {theirs} "
                    f"| {kept} | {mine} | {tptime} | {cell(evs)} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*")
    parser.add_argument("--work", default=".cache/real_exports")
    parser.add_argument("--prune", default=".build/release/prune")
    parser.add_argument("--table", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true",
        help="keep each model's export and Torch-Pruning result from the last run; run only PruneKit again")
    parser.add_argument(
        "--kept-only", action="store_true",
        help="run only PruneKit's mask rewrite again (the kept-channel columns); every other column stays")
    args = parser.parse_args()
    if args.table:
        print(table(args.work))
        return
    for name in args.models or MODELS:
        if name not in CLASSIFIERS:
            sys.exit(f"unknown model '{name}' (known: {', '.join(MODELS)})")
        work = os.path.join(args.work, name)
        print(f"== {name}", flush=True)
        if args.kept_only:
            result = mask_again(name, work, os.path.abspath(args.prune), sys.executable)
        else:
            result = run_model(name, work, os.path.abspath(args.prune), sys.executable, reuse=args.reuse)
        with open(os.path.join(work, "result.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(json.dumps({k: v for k, v in result.items() if k not in ("tp", "export")})[:1500], flush=True)


if __name__ == "__main__":
    main()
