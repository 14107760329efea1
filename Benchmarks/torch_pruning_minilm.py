#!/usr/bin/env python3
"""Torch-Pruning's Hugging Face BERT pruning on all-MiniLM-L6-v2, exported to ONNX like our dense model.

The baseline issue 15 asks for beside PruneKit's head and neuron removal (Docs/Transformers.md): Torch-Pruning
(1.6) prunes the sentence-transformers model's BertModel in PyTorch the way its own example does
(examples/transformers/prune_hf_bert.py: MetaPruner, MagnitudeImportance(p=2, group_reduction="mean"), `num_heads`
of every Q/K/V Linear, prune_num_heads=True, prune_head_dims=False), with no fine-tuning. The pruned weights are
then exported through the same explicit module as the dense model (Scripts/encoder/make_minilm.py: the
sentence-transformers pipeline, mean pooling and L2 normalisation), so the ONNX graphs differ only in the widths.

Configurations (NAME=what):
  heads-0.25, heads-0.5    a quarter / half of the heads of every layer (local ranking: 3 / 6 of 12 per layer)
  heads-global-0.25, ...   the same share of all heads ranked across layers (`global_pruning=True`, as the example)
  ffn-0.25, ffn-0.5        a quarter / half of the feed-forward neurons of every layer (intermediate.dense outputs)
Heads-only runs leave the feed-forward layers and the hidden width alone (they are `ignored_layers`), FFN-only
runs leave the attention and the hidden width alone; the example prunes the hidden width too, which our table
does not (PruneKit refuses it).

For each configuration it writes OUT/tp-NAME.onnx and prints the parameters and the largest difference between
the pruned PyTorch model (SentenceTransformer with the pruned BertModel) and ONNX Runtime on the pruned file over
the eval batches. Cosine and latency come from Benchmarks/transformer_bench.py on the written files.

Needs the encoder venv (Scripts/encoder/setup-venv.sh installs torch-pruning too) and the model and data from
Scripts/encoder/make_minilm.py (.cache/encoder):
  .venv-encoder/bin/python Benchmarks/torch_pruning_minilm.py --out .cache/encoder/runs/tp [--configs heads-0.25,ffn-0.5]
"""
import argparse
import glob
import json
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "Scripts", "encoder"))
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
import make_minilm  # noqa: E402  (sets HF_HUB_OFFLINE before transformers loads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

CONFIGS = ["heads-0.25", "heads-0.5", "heads-global-0.25", "heads-global-0.5", "ffn-0.25", "ffn-0.5"]


def parse(name):
    """(kind, global ranking, ratio) of a configuration name."""
    parts = name.split("-")
    try:
        ratio = float(parts[-1])
    except ValueError:
        ratio = -1.0
    kind, scope = parts[0], parts[1:-1]
    if kind not in ("heads", "ffn") or scope not in ([], ["global"]) or not 0 < ratio < 1:
        sys.exit(f"unknown configuration '{name}' (heads-R, heads-global-R or ffn-R with 0 < R < 1)")
    return kind, scope == ["global"], ratio


def prune(model, kind, global_ranking, ratio, example):
    """Prune `model` (a sentence-transformers BertModel) in place with Torch-Pruning's MetaPruner."""
    import torch_pruning as tp
    from transformers.models.bert.modeling_bert import BertSelfAttention

    attentions = [m for m in model.modules() if isinstance(m, BertSelfAttention)]
    num_heads = {}
    for m in attentions:
        for linear in (m.query, m.key, m.value):
            num_heads[linear] = m.num_attention_heads
    ignored = [model.pooler] if getattr(model, "pooler", None) is not None else []
    for layer in model.encoder.layer:
        # The hidden width (residual stream) is rooted at these outputs: never pruned here.
        ignored += [layer.attention.output.dense, layer.output.dense]
        if kind == "heads":
            ignored.append(layer.intermediate.dense)
        else:
            ignored += [layer.attention.self.query, layer.attention.self.key, layer.attention.self.value]
    pruner = tp.pruner.MetaPruner(
        model, example,
        global_pruning=global_ranking,
        importance=tp.importance.MagnitudeImportance(p=2, group_reduction="mean"),
        iterative_steps=1,
        pruning_ratio=ratio,
        num_heads=num_heads,
        prune_head_dims=False,
        prune_num_heads=kind == "heads",
        head_pruning_ratio=ratio if kind == "heads" else 0.0,
        output_transform=lambda out: out.last_hidden_state.sum(),
        ignored_layers=ignored,
    )
    for group in pruner.step(interactive=True):
        group.prune()
    for m in attentions:   # as the example does: the module's own head bookkeeping
        m.num_attention_heads = pruner.num_heads[m.query]
        m.attention_head_size = m.query.out_features // m.num_attention_heads
        m.all_head_size = m.query.out_features
    return [(m.num_attention_heads, layer.intermediate.dense.out_features)
            for m, layer in zip(attentions, model.encoder.layer)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="directory for tp-NAME.onnx")
    parser.add_argument("--data", default=os.path.join(ROOT, ".cache", "encoder"),
                        help="make_minilm.py's output (eval/ is read)")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--force", action="store_true", help="overwrite existing ONNX files")
    args = parser.parse_args()
    import onnxruntime as ort
    from ort_run import read_safetensors

    batches = [read_safetensors(path, np) for path in sorted(glob.glob(os.path.join(args.data, "eval", "*.safetensors")))]
    if not batches:
        sys.exit(f"no eval batches under {args.data}/eval: run Scripts/encoder/make_minilm.py first")
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    rows = []
    for name in args.configs.split(","):
        kind, global_ranking, ratio = parse(name)
        path = os.path.join(args.out, f"tp-{name}.onnx")
        if os.path.exists(path) and not args.force:
            sys.exit(f"{path} exists; --force overwrites")
        _, _, config, state, reference, _ = make_minilm.load_package()
        bert = reference[0].auto_model
        ids = torch.from_numpy(batches[0]["input_ids"][:4].copy())
        mask = torch.from_numpy(batches[0]["attention_mask"][:4].copy())
        example = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
        bert.eval()
        widths = prune(bert, kind, global_ranking, ratio, example)
        pruned_state = {k: v.detach().clone() for k, v in bert.state_dict().items()}
        encoder = make_minilm.MiniLMEncoder(pruned_state, config).eval()
        with torch.no_grad():
            theirs = np.concatenate([reference({
                "input_ids": torch.from_numpy(b["input_ids"]), "attention_mask": torch.from_numpy(b["attention_mask"]),
                "token_type_ids": torch.zeros_like(torch.from_numpy(b["input_ids"]))})["sentence_embedding"].numpy()
                for b in batches])
        make_minilm.export(encoder, (ids[:2], mask[:2]), path)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        ours = np.concatenate([session.run(None, {"input_ids": b["input_ids"], "attention_mask": b["attention_mask"]})[0]
                               for b in batches])
        difference = float(np.abs(ours - theirs).max())
        parameters = sum(int(p.numel()) for p in encoder.parameters())
        row = {"config": name, "file": path, "parameters": parameters, "max_abs_torch_vs_ort": difference,
               "heads_and_ffn_per_layer": widths}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if difference > 1e-4:
            sys.exit(f"{path}: ONNX Runtime differs from the pruned PyTorch model by {difference:.2e}")


if __name__ == "__main__":
    main()
