"""Extract real English sentences from Debian's package long descriptions, for the encoder benchmark.

Debian's `main/i18n/Translation-en` index holds the long description of every package: human-written English
prose about software, not text from the sentence-transformers training mix (`data_config.json` of
all-MiniLM-L6-v2: Reddit, Stack Exchange, S2ORC, MS MARCO, ...). This script splits those descriptions into
sentences and writes two disjoint, deterministic subsets:

  Examples/encoder/sentences-calib.txt        calibration text, packed into 64-token sequences by make_minilm.py
  Examples/encoder/sentences-calib-large.txt  more of the same calibration side (a superset of the file above,
                                              which is its first lines): enough for 1,024 sequences of 64
                                              tokens (Scripts/encoder/make_calibration.py)
  Examples/encoder/sentences-eval.txt         held-out evaluation sentences, one per line

A package's description goes to exactly one side (by a hash of the package name), so no sentence and no package
appears in both. Selection is by a hash of the sentence text, so the output depends only on the index contents.
The outputs are committed: other machines may carry a different index (or none), and the benchmark must not
depend on that. Regenerating needs the index, which apt fetches with

  apt-get update -o Acquire::Languages=en     # Debian images often set Acquire::Languages "none"

Standard library only (reads the .lz4 index through `apt-helper cat-file` or `lz4 -dc`):
  python3 Scripts/encoder/extract_sentences.py [--lists /var/lib/apt/lists] [--out Examples/encoder]
"""
import argparse
import glob
import hashlib
import os
import re
import subprocess
import sys

CALIB_SENTENCES = 400      # ~8,000 tokens: make_minilm.py needs 64 x 62 = 3,968 for 64 sequences of 64 tokens
LARGE_CALIB_SENTENCES = 3600   # ~70,000 tokens: 1,024 x 62 = 63,488 for 1,024 sequences of 64 tokens
EVAL_SENTENCES = 512
MIN_WORDS, MAX_WORDS = 8, 40
NEAR_DUPLICATE = 0.7       # Jaccard overlap of word sets above which a calibration sentence copies an eval one
SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[A-Z])")
# Boilerplate lines repeated across hundreds of packages say little about the encoder; skip them.
BOILERPLATE = re.compile(
    r"^(This|The) (package|metapackage|dummy package|transitional package)|"
    r"transitional|dummy package|can safely be removed|debugging symbols|development files|"
    r"Homepage:|https?://|www\.|@",
    re.IGNORECASE)


def read_index(path):
    for command in (["/usr/lib/apt/apt-helper", "cat-file", path], ["lz4", "-dc", path]):
        try:
            return subprocess.run(command, check=True, capture_output=True).stdout.decode("utf-8", "replace")
        except (OSError, subprocess.CalledProcessError):
            continue
    if path.endswith(".lz4"):
        sys.exit(f"cannot decompress {path}: need apt-helper or lz4")
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def descriptions(text):
    """(package, long description as one string) for every stanza."""
    for stanza in text.split("\n\n"):
        package, lines, in_description = None, [], False
        for line in stanza.split("\n"):
            if line.startswith("Package: "):
                package = line[len("Package: "):].strip()
            elif line.startswith("Description-en: "):
                in_description = True
            elif in_description and line.startswith(" "):
                body = line[1:]
                lines.append("\n" if body.strip() == "." else body.strip())
            else:
                in_description = False
        if package and lines:
            yield package, " ".join(lines)


def sentences(description):
    for paragraph in description.split("\n"):
        paragraph = re.sub(r"\s+", " ", paragraph).strip()
        if not paragraph:
            continue
        for sentence in SENTENCE_END.split(paragraph):
            sentence = sentence.strip()
            words = sentence.split()
            if not (MIN_WORDS <= len(words) <= MAX_WORDS):
                continue
            if not sentence[0].isupper() or not sentence.endswith("."):
                continue
            if not sentence.isascii() or BOILERPLATE.search(sentence):
                continue
            if sum(ch.isalpha() for ch in sentence) < 0.75 * len(sentence):   # lists, versions, code
                continue
            if any(mark in sentence for mark in ("*", " - ", "|", "{", "}", "<", ">", "=", "::")):
                continue
            yield sentence


def words(sentence):
    return frozenset(re.findall(r"[a-z0-9]+", sentence.lower()))


def near_duplicates(candidates, held_out, threshold=NEAR_DUPLICATE):
    """The candidates whose word set overlaps some held-out sentence's by Jaccard >= threshold.

    Sibling packages on the two sides can carry near-copies of one description ("the default GNU C cross-compiler"
    / "GNU C++ cross-compiler"); such a sentence would leak an evaluation sentence into the calibration data."""
    index = {}
    held = [words(sentence) for sentence in held_out]
    for position, ws in enumerate(held):
        for word in ws:
            index.setdefault(word, []).append(position)
    found = set()
    for sentence in candidates:
        ws = words(sentence)
        shared = {}
        for word in ws:
            for position in index.get(word, ()):
                shared[position] = shared.get(position, 0) + 1
        if any(count / len(ws | held[position]) >= threshold for position, count in shared.items()):
            found.add(sentence)
    return found


def digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lists", default="/var/lib/apt/lists")
    parser.add_argument("--out", default="Examples/encoder")
    args = parser.parse_args()

    indexes = sorted(glob.glob(os.path.join(args.lists, "*_debian_dists_*_main_i18n_Translation-en*")))
    indexes = [path for path in indexes if "security" not in path and "updates" not in path]
    if not indexes:
        sys.exit(f"no main Translation-en index under {args.lists}: run apt-get update -o Acquire::Languages=en")
    seen, sides = set(), {"calib": [], "eval": []}
    for index in indexes:
        for package, description in descriptions(read_index(index)):
            side = "calib" if int(digest("side:" + package), 16) % 2 == 0 else "eval"
            for sentence in sentences(description):
                key = sentence.lower()
                if key in seen:          # the same sentence in two packages' descriptions: keep the first only
                    continue
                seen.add(key)
                sides[side].append(sentence)
    evaluation = sorted(sides["eval"], key=digest)[:EVAL_SENTENCES]
    calib = sorted(sides["calib"], key=digest)
    # The small file predates the near-copy filter and stays as it was, so earlier measurements reproduce.
    leaks = near_duplicates(calib, evaluation)
    chosen = {
        "calib": calib[:CALIB_SENTENCES],
        "calib-large": [sentence for sentence in calib if sentence not in leaks][:LARGE_CALIB_SENTENCES],
        "eval": evaluation,
    }
    assert not set(map(str.lower, chosen["calib-large"])) & set(map(str.lower, chosen["eval"]))
    os.makedirs(args.out, exist_ok=True)
    for side, rows in chosen.items():
        path = os.path.join(args.out, f"sentences-{side}.txt")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(rows) + "\n")
        print(f"{path}: {len(rows)} sentences (of {len(sides[side.split('-')[0]])} candidates)")
    print(f"{len(leaks)} calibration candidates nearly copy an eval sentence: left out of sentences-calib-large.txt "
          f"({len(leaks & set(chosen['calib']))} of them are in sentences-calib.txt)")
    print("source:", ", ".join(os.path.basename(path) for path in indexes))


if __name__ == "__main__":
    main()
