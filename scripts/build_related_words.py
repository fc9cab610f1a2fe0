"""Build the related-words table recall uses to widen a query's words.

    .venv/bin/python scripts/build_related_words.py [--threshold 0.5] [--per-word 3]

Every whole English word of the shipped model's tokenizer vocabulary (letters only, three
or more, not a stopword: about 21,000, less the words below) is embedded alone with the shipped
all-MiniLM-L6-v2 (`OnnxEmbedder`), and each keeps its nearest other words by cosine, at
most `--per-word` of them, each at least `--threshold` similar and none with the same
stem as the word (the stemmer already joins those). "martial" gets karate, kung and ryu;
"bought" gets purchased and buy; "pottery" gets porcelain, ceramics and carvings.

Words that say when (months, weekdays, "yesterday", "week") and general-purpose words
("any", "all", "thing", "really") are left out on both sides: "July" must not find June,
nor "yesterday" today, and "any" relates to everything.

Runs offline in about a minute on 2 cores. Writes
`twin_core/memory/weights/related-words/related-words.tsv.gz` (one line per word: the
word, then `neighbour:cosine` fields, tab-separated) with a NOTICE and the model's
licence beside it. See `twin_core.memory.related` for how recall reads it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from twin_core.memory.embed import DEFAULT_MODEL_DIR, OnnxEmbedder  # noqa: E402
from twin_core.memory.related import DEFAULT_TABLE  # noqa: E402
from twin_core.memory.text import STOPWORDS, stem  # noqa: E402

NOTICE = """# Related words

`related-words.tsv.gz` is derived from **sentence-transformers/all-MiniLM-L6-v2**
(Apache License 2.0, text in `LICENSE` beside this file; attribution in
`../all-minilm-l6-v2-int8/NOTICE.md`). It lists, for each whole word of that model's
tokenizer vocabulary, the words the shipped int8 model places nearest to it, with their
cosine similarity. Made by `scripts/build_related_words.py` (threshold {threshold},
at most {per_word} per word, {pairs} pairs over {words} words).
"""


# Words that say when: widening them would find the wrong moment ("July" -> June).
TIME_WORDS = frozenset(
    """january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday
    thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun today
    tonight tomorrow yesterday morning afternoon evening night noon midnight week weeks
    weekend weekends weekday weekdays month months year years day days hour hours minute
    minutes second seconds decade decades ago now later soon recently lately earlier
    before after since until past future annual annually daily weekly monthly yearly
    spring summer autumn fall winter""".split()  # noqa: SIM905
)
# General-purpose words: related to everything, so widening them only adds noise.
GENERAL_WORDS = frozenset(
    """any all some every each either neither both many much more most few less least
    other others another such only own same else ever never always often sometimes
    again once twice still yet already even anyway maybe perhaps really quite rather
    almost enough one two three first last next new old get got gets getting make
    made makes making take took takes taking say said says saying tell told thing
    things something anything everything nothing someone anyone everyone nobody
    somebody anybody way ways lot lots kind kinds sort sorts bit yeah yep yup nope
    okay hey hello oh ah um lol haha hah hmm wow well like just good great nice cool
    sure thanks thank please sorry""".split()  # noqa: SIM905
)
LEFT_OUT = STOPWORDS | TIME_WORDS | GENERAL_WORDS


def vocabulary(model_dir: Path) -> list[str]:
    raw = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    words = {
        token
        for token in raw["model"]["vocab"]
        if token.isascii() and token.isalpha() and len(token) > 2 and token not in LEFT_OUT
    }
    return sorted(words)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--per-word", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_TABLE)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    words = vocabulary(DEFAULT_MODEL_DIR)
    embedder = OnnxEmbedder()
    vectors = np.asarray(embedder.embed(words), dtype=np.float32)
    print(f"embedded {len(words)} words in {time.perf_counter() - started:.0f} s")
    stems = [stem(word) for word in words]
    lines: list[str] = []
    pairs = 0
    block = 2_048
    for low in range(0, len(words), block):
        similarity = vectors[low : low + block] @ vectors.T
        for row, scores in enumerate(similarity, start=low):
            order = np.argsort(-scores)[: args.per_word + 16]
            kept: list[str] = []
            seen = {stems[row]}
            for column in order:
                score = float(scores[column])
                if score < args.threshold:
                    break
                if stems[column] in seen:
                    continue
                seen.add(stems[column])
                kept.append(f"{words[column]}:{score:.2f}")
                if len(kept) >= args.per_word:
                    break
            if kept:
                lines.append("\t".join([words[row], *kept]))
                pairs += len(kept)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same table gives the same bytes, so rebuilding changes nothing in git.
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(("\n".join(lines) + "\n").encode("utf-8"))
    shutil.copyfile(DEFAULT_MODEL_DIR / "LICENSE", args.out.parent / "LICENSE")
    (args.out.parent / "NOTICE.md").write_text(
        NOTICE.format(
            threshold=args.threshold, per_word=args.per_word, pairs=pairs, words=len(lines)
        ),
        encoding="utf-8",
    )
    print(
        f"{len(lines)} words with {pairs} related words -> {args.out} "
        f"({args.out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
