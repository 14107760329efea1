"""A PyTorch reference for issue 7: keep a pruned model's masks, re-fit the surviving weights by least squares.

Not PruneKit code: an independent estimate of what `--rewriter reconstruct` on element selections can reach on
this encoder, and a check for its numbers. It takes the masks of a pruned ONNX model (default: the Wanda model
compare.py writes, .cache/encoder/runs/wanda.onnx), and, layer by layer in graph order, solves for every output
unit u of every linear weight (ONNX layout [in, out]) with kept inputs S_u

    min ||X_p[:, S_u] w - X_d W0[:, u]||^2 + lam ||w - W0[S_u, u]||^2,   lam = damp * mean diag(X_p^T X_p)

X_p: the layer's input in the model pruned and re-fitted so far, X_d: its input in the dense model, both over all
calibration tokens (64 x 64). That is the exact optimum for a fixed mask that SparseGPT's OBS sweep approximates
(SparseGPT targets X_p W0 instead of the dense output; --target pruned does that). Then it writes the re-fitted
model and reports the mean cosine of its eval embeddings (ONNX Runtime) to the dense model's.

  .venv-encoder/bin/python Scripts/encoder/reference_reconstruct.py [--masks PRUNED.onnx] [--damp 0.01]
      [--target dense|pruned] [-o OUT.onnx]
"""
import argparse
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from safetensors.numpy import load_file

import make_minilm

ROOT = make_minilm.ROOT
CACHE = os.path.join(ROOT, ".cache", "encoder")
NAMES = ["query", "key", "value", "attention_output", "intermediate", "output"]
STAGES = [["query", "key", "value"], ["attention_output"], ["intermediate"], ["output"]]


def read_batches(directory):
    return [load_file(os.path.join(directory, name)) for name in sorted(os.listdir(directory))
            if name.endswith(".safetensors")]


def capture_inputs(block_forward, block, names, hidden, masks):
    """Inputs of the named linears of `block` when it runs on each batch's `hidden`, as [tokens, in] float64."""
    seen = {name: [] for name in names}
    hooks = [getattr(block, name).register_forward_hook(
        lambda module, inputs, output, name=name: seen[name].append(inputs[0].reshape(-1, inputs[0].shape[-1])
                                                                      .double()))
        for name in names]
    outputs = [block_forward(block, x, m) for x, m in zip(hidden, masks)]
    for hook in hooks:
        hook.remove()
    return {name: torch.cat(values) for name, values in seen.items()}, outputs


def fit(w0, keep, xp, xd, damp, target):
    """Re-fitted [in, out] weight; keep[i, u] says whether weight (i, u) survives."""
    h = xp.T @ xp
    cross = xp.T @ (xd if target == "dense" else xp)
    lam = damp * float(torch.diagonal(h).mean())
    w0 = w0.double()
    rhs_full = cross @ w0 + lam * w0                       # [in, out]
    out = torch.zeros_like(w0)
    kept = int(keep[:, 0].sum())
    if not bool((keep.sum(0) == kept).all()):
        raise ValueError("expected the same number of kept inputs per output unit (row selection)")
    index = torch.argsort((~keep).to(torch.int8), dim=0, stable=True)[:kept].T   # [out, kept] kept input ids
    eye = torch.eye(kept, dtype=torch.float64)
    for start in range(0, w0.shape[1], 64):
        rows = index[start:start + 64]                    # [c, kept]
        hss = h[rows.unsqueeze(2), rows.unsqueeze(1)] + lam * eye
        units = torch.arange(start, start + rows.shape[0])
        rhs = rhs_full[rows, units.unsqueeze(1)]          # [c, kept]
        factor = torch.linalg.cholesky(hss)
        solution = torch.cholesky_solve(rhs.unsqueeze(2), factor).squeeze(2)
        out[rows, units.unsqueeze(1)] = solution
    return out


def relative_error(xp, w, xd, w0):
    y = xd @ w0.double()
    return float(((xp @ w.double() - y) ** 2).sum() / (y ** 2).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--masks", default=os.path.join(CACHE, "runs", "wanda.onnx"))
    parser.add_argument("--damp", type=float, default=0.01)
    parser.add_argument("--target", choices=["dense", "pruned"], default="dense")
    parser.add_argument("-o", "--output", default=os.path.join(CACHE, "runs", "reference-reconstruct.onnx"))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    started = time.time()

    _, _, config, state, _, _ = make_minilm.load_package()
    dense = make_minilm.MiniLMEncoder(state, config).eval()
    pruned = make_minilm.MiniLMEncoder(state, config).eval()
    model = onnx.load(args.masks)
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    calib = read_batches(os.path.join(CACHE, "calib"))

    def embed(encoder, batch):
        ids = torch.from_numpy(batch["input_ids"])
        x = encoder.embedding_norm(torch.nn.functional.embedding(ids, encoder.word)
                                   + encoder.position[:ids.shape[1]].unsqueeze(0) + encoder.type0)
        return x

    def additive(batch):
        m = torch.from_numpy(batch["attention_mask"]).float()
        return ((1.0 - m) * -10000.0).view(m.shape[0], 1, 1, m.shape[1])

    def block_forward(block, x, extra):
        batch, length, hidden = x.shape
        heads = dense.heads
        head = hidden // heads
        q = block.query(x).view(batch, length, heads, head).transpose(1, 2)
        k = block.key(x).view(batch, length, heads, head).permute(0, 2, 3, 1)
        v = block.value(x).view(batch, length, heads, head).transpose(1, 2)
        attention = torch.softmax(torch.matmul(q, k) / head ** 0.5 + extra, dim=-1)
        context = torch.matmul(attention, v).transpose(1, 2).reshape(batch, length, hidden)
        x = block.attention_norm(block.attention_output(context) + x)
        return block.output_norm(block.output(torch.nn.functional.gelu(block.intermediate(x))) + x)

    errors = []
    with torch.no_grad():
        masks = [additive(b) for b in calib]
        hidden_d = [embed(dense, b) for b in calib]
        hidden_p = [h.clone() for h in hidden_d]
        for layer, (block_d, block_p) in enumerate(zip(dense.blocks, pruned.blocks)):
            inputs_d, next_d = capture_inputs(block_forward, block_d, NAMES, hidden_d, masks)
            for stage in STAGES:
                inputs_p, _ = capture_inputs(block_forward, block_p, stage, hidden_p, masks)
                for name in stage:
                    key = f"layer{layer}.{name}.weight"
                    linear = getattr(block_p, name)
                    w0 = linear.weight.T.contiguous()          # torch [out, in] -> ONNX layout [in, out]
                    keep = torch.from_numpy(weights[key] != 0)
                    before = relative_error(inputs_p[name], w0 * keep, inputs_d[name], w0)
                    w = fit(w0, keep, inputs_p[name], inputs_d[name], args.damp, args.target)
                    after = relative_error(inputs_p[name], w, inputs_d[name], w0)
                    errors.append((key, before, after))
                    linear.weight.copy_(w.T.float())
                    weights[key] = w.float().numpy()
            _, hidden_p = capture_inputs(block_forward, block_p, [], hidden_p, masks)
            hidden_d = next_d
    fit_seconds = time.time() - started
    for key, before, after in errors:
        print(f"{key}: relative error on calibration data {before:.4f} -> {after:.4f}")

    for tensor in model.graph.initializer:
        if tensor.name in weights and tensor.name.endswith(".weight") and tensor.name.startswith("layer"):
            tensor.CopyFrom(numpy_helper.from_array(weights[tensor.name].astype(np.float32), tensor.name))
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    onnx.save(model, args.output)

    reference = ort.InferenceSession(os.path.join(CACHE, "minilm.onnx"), providers=["CPUExecutionProvider"])
    candidate = ort.InferenceSession(args.output, providers=["CPUExecutionProvider"])
    masked = ort.InferenceSession(args.masks, providers=["CPUExecutionProvider"])
    cosines = {"masks only": [], "re-fitted": []}
    for batch in read_batches(os.path.join(CACHE, "eval")):
        feed = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        d = reference.run(None, feed)[0].astype(np.float64)
        for label, session in (("masks only", masked), ("re-fitted", candidate)):
            p = session.run(None, feed)[0].astype(np.float64)
            cosines[label].extend(np.sum(d * p, 1) / (np.linalg.norm(d, axis=1) * np.linalg.norm(p, axis=1)))
    print(f"fit: {fit_seconds:.1f} s (PyTorch, {torch.get_num_threads()} threads); wrote {args.output}")
    for label, values in cosines.items():
        print(f"{label}: mean cosine to dense on {len(values)} eval sentences {np.mean(values):.4f}")


if __name__ == "__main__":
    main()
