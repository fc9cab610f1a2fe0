"""Text embeddings: one `Embedder` protocol, the shipped offline model and the ways up.

The default, `OnnxEmbedder` (`onnx_model`), runs all-MiniLM-L6-v2 quantized to int8
(shipped in `weights/all-minilm-l6-v2-int8`, made by `scripts/export_minilm.py`) with
onnxruntime and tokenizers on the CPU: no torch, no network. `LiteLLMEmbedder`
(`litellm_api`) reaches any embedding model litellm knows; `SentenceTransformerEmbedder`
(`st_model`, extra `gpu`, sentence-transformers) runs a model on a GPU;
`Model2VecEmbedder` (`static_model`, extra `model2vec`) runs a static model distilled
from the same weights (`weights/all-minilm-l6-v2-static-int8`), 50x faster and weaker.
`make_embedder(spec)` builds one from a configuration string.

Every embedder returns float32 rows of unit length, one per input text in input order,
and computes each distinct text once: chats repeat themselves ("ok", "haha"). What they
share is in `base`.
"""

from __future__ import annotations

from twin_core.memory.embed.base import (
    MODELS,
    Embedder,
    EmbedderError,
    Vectors,
    embed_distinct,
    normalize_rows,
)
from twin_core.memory.embed.litellm_api import LiteLLMEmbedder
from twin_core.memory.embed.onnx_model import DEFAULT_MODEL_DIR, OnnxEmbedder, OnnxModelInfo
from twin_core.memory.embed.st_model import SentenceTransformerEmbedder
from twin_core.memory.embed.static_model import STATIC_MODEL_DIR, Model2VecEmbedder

__all__ = [
    "DEFAULT_MODEL_DIR",
    "DEFAULT_SPEC",
    "MODELS",
    "STATIC_MODEL_DIR",
    "Embedder",
    "EmbedderError",
    "LiteLLMEmbedder",
    "Model2VecEmbedder",
    "OnnxEmbedder",
    "OnnxModelInfo",
    "SentenceTransformerEmbedder",
    "Vectors",
    "embed_distinct",
    "make_embedder",
    "normalize_rows",
]

DEFAULT_SPEC = "onnx"


def make_embedder(
    spec: str = DEFAULT_SPEC,
    *,
    api_key: str | None = None,
    api_base: str | None = None,
) -> Embedder:
    """Build the embedder a configuration string names.

    * `onnx` (or empty): the shipped all-MiniLM-L6-v2 int8 model; `onnx:FOLDER` another
      folder laid out the same way (`model.onnx`, `tokenizer.json`, `embedder.json`);
    * `litellm:MODEL`, e.g. `litellm:openai/text-embedding-3-small` (`api_key` and
      `api_base` are passed on);
    * `sentence-transformers:MODEL` (or `st:MODEL`), a name or a local folder;
    * `model2vec` the shipped static model, `model2vec:MODEL` a name or a local folder.
    """
    kind, _, target = spec.strip().partition(":")
    kind = kind.lower() or "onnx"
    target = target.strip()
    if kind == "onnx":
        return OnnxEmbedder(target or None)
    if kind == "litellm":
        return LiteLLMEmbedder(target, api_key=api_key, api_base=api_base)
    if kind in ("sentence-transformers", "st"):
        if not target:
            raise EmbedderError("name the model: sentence-transformers:MODEL")
        return SentenceTransformerEmbedder(target)
    if kind == "model2vec":
        return Model2VecEmbedder(target or None)
    raise EmbedderError(
        f"unknown embedder {spec!r}; use onnx, onnx:FOLDER, litellm:MODEL, "
        "sentence-transformers:MODEL or model2vec:MODEL"
    )
