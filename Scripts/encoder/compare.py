"""Issue 7's encoder target in one command: Wanda + mask against the same selection + reconstruct.

On all-MiniLM-L6-v2 (Docs/Encoder.md), 50 % unstructured sparsity chosen per output row (`row:sparsity=0.5`)
in all 36 linear weights, calibrated on 64 sequences of 64 tokens, this runs

  magnitude   --scorer magnitude  --selector row:sparsity=S --rewriter mask          (reference)
  wanda       --scorer activation --selector row:sparsity=S --rewriter mask          (the baseline)
  reconstruct --scorer activation --selector row:sparsity=S --rewriter reconstruct   (the candidate)

times each `prune run` (wall clock, calibration included), evaluates each pruned model with `prune eval
--reference` on the 512 held-out sentences and prints the mean cosine similarity of its sentence embeddings to
the dense model's, and the candidate's gain over the baseline. The target: gain >= 0.05, and the reconstruct
run under 60 s on 2 cores. A method whose `prune run` fails (e.g. `reconstruct` before it accepts element
selections) is reported with the CLI's error and the others still run.

Missing pieces are made first: the Python venv (Scripts/encoder/setup-venv.sh), the model and data
(Scripts/encoder/make_minilm.py into .cache/encoder), and the release `prune` (swift build -c release).

Standard library only; from the repository root:
  python3 Scripts/encoder/compare.py [--json] [--sparsity 0.5] [--methods wanda,reconstruct]
      [--reconstruct reconstruct:lambda=0.01] [--prune PATH] [--no-build]
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CACHE = os.path.join(ROOT, ".cache", "encoder")
MODEL = os.path.join(CACHE, "minilm.onnx")
CALIB = os.path.join(CACHE, "calib")
EVAL = os.path.join(CACHE, "eval")
RUNS = os.path.join(CACHE, "runs")
VENV = os.path.join(ROOT, os.environ.get("ENCODER_VENV", ".venv-encoder"))  # relative to the checkout, as in setup-venv.sh
GAIN_TARGET = 0.05
TIME_TARGET = 60.0


def log(message):
    print(message, file=sys.stderr, flush=True)


def ensure_inputs(prune, build):
    if not os.path.exists(os.path.join(CACHE, "build.json")) or not os.path.exists(MODEL):
        log(f"making the model and data in {CACHE} ...")
        subprocess.run(["bash", os.path.join(ROOT, "Scripts", "encoder", "setup-venv.sh")], check=True)
        subprocess.run([os.path.join(VENV, "bin", "python"), os.path.join(ROOT, "Scripts", "encoder", "make_minilm.py"),
                        "--out", CACHE], check=True, stdout=sys.stderr)
    if not os.path.exists(prune):
        if not build:
            sys.exit(f"{prune} does not exist (and --no-build was given)")
        log("building prune (release) ...")
        subprocess.run(["swift", "build", "-c", "release", "--product", "prune"], cwd=ROOT, check=True,
                       stdout=sys.stderr)


def methods(sparsity, reconstruct, selector=None):
    selector = selector or f"row:sparsity={sparsity:g}"
    return {
        "magnitude": ["--scorer", "magnitude", "--selector", selector, "--rewriter", "mask"],
        "wanda": ["--scorer", "activation", "--selector", selector, "--rewriter", "mask"],
        "reconstruct": ["--scorer", "activation", "--selector", selector, "--rewriter", reconstruct],
    }


def run_method(prune, name, arguments):
    output = os.path.join(RUNS, f"{name}.onnx")
    report = os.path.join(RUNS, f"{name}.report.json")
    command = [prune, "run", MODEL, "-o", output, "--calibration", CALIB, *arguments, "--force", "--report", report]
    row = {"method": name, "command": " ".join(["prune", "run", os.path.relpath(MODEL, ROOT), "-o",
                                                 os.path.relpath(output, ROOT), "--calibration",
                                                 os.path.relpath(CALIB, ROOT), *arguments]),
           "meanCosine": None, "maxAbsDifference": None, "top1": None, "runSeconds": None, "error": None}
    log(f"{name}: prune run {' '.join(arguments)}")
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        row["error"] = lines[-1] if lines else f"prune run exited with {result.returncode}"
        log(f"{name}: {row['error']}")
        return row
    row["runSeconds"] = round(elapsed, 2)
    try:
        with open(report) as handle:
            stages = json.load(handle).get("stages", [])
        fitted = [entry for stage in stages for entry in (stage.get("reconstruction") or [])]
        if fitted:
            row["reconstruction"] = fitted
    except (OSError, ValueError):
        pass
    log(f"{name}: prune eval ({row['runSeconds']} s to prune)")
    evaluation = subprocess.run([prune, "eval", output, "--data", EVAL, "--reference", MODEL, "--json"],
                                capture_output=True, text=True)
    if evaluation.returncode != 0:
        row["error"] = "prune eval: " + evaluation.stderr.strip()
        return row
    agreement = json.loads(evaluation.stdout)["agreement"]
    row["meanCosine"] = agreement["meanCosine"]
    row["maxAbsDifference"] = agreement["maxAbsDifference"]
    return row


def fmt(value, digits=4):
    return "—" if value is None else f"{value:.{digits}f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--sparsity", type=float, default=0.5)
    parser.add_argument("--methods", default="magnitude,wanda,reconstruct")
    parser.add_argument("--reconstruct", default="reconstruct", help="the candidate's rewriter spec")
    parser.add_argument("--selector", help="selector spec instead of row:sparsity=SPARSITY (e.g. nm:n=2,m=4)")
    parser.add_argument("--prune", default=os.path.join(ROOT, ".build", "release", "prune"))
    parser.add_argument("--no-build", action="store_true", help="never run swift build")
    args = parser.parse_args()

    ensure_inputs(args.prune, not args.no_build)
    os.makedirs(RUNS, exist_ok=True)
    table = methods(args.sparsity, args.reconstruct, args.selector)
    chosen = [name.strip() for name in args.methods.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in table]
    if unknown:
        sys.exit(f"unknown method(s) {unknown}; choose from {list(table)}")
    rows = [run_method(args.prune, name, table[name]) for name in chosen]
    by_name = {row["method"]: row for row in rows}
    baseline, candidate = by_name.get("wanda"), by_name.get("reconstruct")
    gain = None
    if baseline and candidate and baseline["meanCosine"] is not None and candidate["meanCosine"] is not None:
        gain = candidate["meanCosine"] - baseline["meanCosine"]
    for row in rows:
        if baseline and baseline["meanCosine"] is not None and row["meanCosine"] is not None:
            row["gainOverWanda"] = row["meanCosine"] - baseline["meanCosine"]
        else:
            row["gainOverWanda"] = None
    with open(os.path.join(CACHE, "build.json")) as handle:
        build = json.load(handle)
    summary = {
        "model": os.path.relpath(MODEL, ROOT), "calibration": os.path.relpath(CALIB, ROOT),
        "eval": os.path.relpath(EVAL, ROOT), "evalSamples": build["eval"]["sentences"],
        "sparsity": args.sparsity, "rows": rows,
        "target": {
            "gain": gain, "gainTarget": GAIN_TARGET, "gainMet": None if gain is None else gain >= GAIN_TARGET,
            "reconstructSeconds": candidate["runSeconds"] if candidate else None, "secondsTarget": TIME_TARGET,
            "timeMet": None if not candidate or candidate["runSeconds"] is None
            else candidate["runSeconds"] < TIME_TARGET,
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
        return
    print(f"all-MiniLM-L6-v2, {args.sparsity:.0%} per output row, {summary['evalSamples']} eval sentences, "
          f"64 x 64-token calibration sequences")
    print()
    print("| method | mean cosine to dense | max abs diff | top-1 agreement | `prune run` wall time | vs Wanda |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        if row["error"]:
            print(f"| {row['method']} | error: {row['error']} | | n/a | | |")
            continue
        gain_text = "—" if row["gainOverWanda"] is None else f"{row['gainOverWanda']:+.4f}"
        print(f"| {row['method']} | {fmt(row['meanCosine'])} | {fmt(row['maxAbsDifference'])} | n/a | "
              f"{row['runSeconds']:.2f} s | {gain_text} |")
    target = summary["target"]
    print()
    if gain is None:
        print("target: not measurable (wanda or reconstruct missing or failed)")
    else:
        print(f"target: reconstruct - wanda = {gain:+.4f} (need >= +{GAIN_TARGET}) "
              f"{'MET' if target['gainMet'] else 'NOT MET'}; reconstruct run {target['reconstructSeconds']:.2f} s "
              f"(need < {TIME_TARGET:.0f} s) {'MET' if target['timeMet'] else 'NOT MET'}")


if __name__ == "__main__":
    main()
