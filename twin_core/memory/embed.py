"""Text embeddings: one `Embedder` protocol, the shipped offline model and the ways up.

The default, `OnnxEmbedder`, runs all-MiniLM-L6-v2 quantized to int8 (shipped in
`models/all-minilm-l6-v2-int8`, made by `scripts/export_minilm.py`) with onnxruntime and
tokenizers on the CPU: no torch, no network. `LiteLLMEmbedder` reaches any embedding
model litellm knows; `SentenceTransformerEmbedder` (extra `gpu`, sentence-transformers) runs a
model on a GPU; `Model2VecEmbedder` (extra `model2vec`) runs a static model distilled
from the same weights (`models/all-minilm-l6-v2-static-int8`), 50x faster and weaker.
`make_embedder(spec)` builds one from a configuration string.

Every embedder returns float32 rows of unit length, one per input text in input order,
and computes each distinct text once: chats repeat themselves ("ok", "haha").
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

Vectors = NDArray[np.float32]
"""Shape (n, dimension), float32, each row L2-normalized."""

MODELS = Path(__file__).resolve().parent / "weights"
DEFAULT_MODEL_DIR = MODELS / "all-minilm-l6-v2-int8"
STATIC_MODEL_DIR = MODELS / "all-minilm-l6-v2-static-int8"
"""all-MiniLM-L6-v2 distilled to a static model by `scripts/distill_static.py`."""
DEFAULT_SPEC = "onnx"


class EmbedderError(RuntimeError):
    """An embedder that cannot be built or cannot answer; the message says what to do."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors.

    `name` identifies the model and everything that changes its vectors: a vector index
    records it, and refuses to mix vectors of two embedders. `embed` is synchronous and
    CPU- or network-bound: async code calls `aembed`, which never blocks the event loop.
    """

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...

    async def aembed(self, texts: Sequence[str]) -> Vectors: ...


def normalize_rows(matrix: NDArray[Any]) -> Vectors:
    """float32 rows of unit length; an all-zero row stays zero instead of becoming NaN."""
    out = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    result: Vectors = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return result


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of texts, not one string")
    return list(texts)


class _ShortTextCache:
    """Vectors of recently seen short texts ("ok", "haha", "lol"), which make up a large
    share of any chat and would otherwise be embedded again in every batch."""

    def __init__(self, capacity: int, max_chars: int = 32) -> None:
        self.capacity = capacity
        self.max_chars = max_chars
        self._items: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Vectors | None:
        with self._lock:
            row = self._items.get(text)
            if row is not None:
                self._items.move_to_end(text)
            return row

    def put(self, text: str, row: Vectors) -> None:
        if self.capacity <= 0 or len(text) > self.max_chars:
            return
        with self._lock:
            self._items[text] = row
            self._items.move_to_end(text)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


def embed_distinct(
    texts: Sequence[str],
    dimension: int,
    compute: Callable[[list[str]], Vectors],
    cache: _ShortTextCache | None = None,
) -> Vectors:
    """Embed each distinct text once (and short texts seen lately not at all), then lay
    the rows out in input order."""
    texts = _check_texts(texts)
    out = np.empty((len(texts), dimension), dtype=np.float32)
    if not texts:
        return out
    positions: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        positions.setdefault(text, []).append(i)
    missing: list[str] = []
    for text, where in positions.items():
        row = cache.get(text) if cache is not None else None
        if row is None:
            missing.append(text)
        else:
            out[where] = row
    if missing:
        computed = compute(missing)
        if computed.shape != (len(missing), dimension):
            raise EmbedderError(
                f"the model returned shape {computed.shape} for {len(missing)} texts; "
                f"expected ({len(missing)}, {dimension})"
            )
        for text, row in zip(missing, computed, strict=True):
            out[positions[text]] = row
            if cache is not None:
                cache.put(text, row.copy())
    return out


def _default_threads() -> int:
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    # Past four threads a model this small gains little, and the bot has other work.
    return max(1, min(4, available))


@dataclass(frozen=True, slots=True)
class OnnxModelInfo:
    """What `embedder.json` beside a shipped model says about it."""

    name: str
    dimension: int
    max_length: int
    inputs: tuple[str, ...]
    fingerprint: str
    """Identifies the model's vectors (see scripts/export_minilm.py); it names the
    embedder, so a vector index notices when the model changes."""

    @classmethod
    def read(cls, model_dir: Path) -> OnnxModelInfo:
        path = model_dir / "embedder.json"
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
            return cls(
                name=str(raw["name"]),
                dimension=int(raw["dimension"]),
                max_length=int(raw.get("max_length", 128)),
                inputs=tuple(raw.get("inputs", ("input_ids", "attention_mask"))),
                fingerprint=str(raw.get("fingerprint") or raw["model_sha256"][:12]),
            )
        except FileNotFoundError as exc:
            raise EmbedderError(
                f"no embedding model at {model_dir} (embedder.json is missing); "
                "reinstall the twin package, or point the embedder at a folder made by "
                "scripts/export_minilm.py"
            ) from exc
        except (KeyError, ValueError, TypeError) as exc:
            raise EmbedderError(f"{path} is not a valid embedder description: {exc}") from exc


class _InProcessEmbedder(ABC):
    """What the embedders that run in this process share: each distinct text computed
    once (short ones cached when `_cache` is set), and `aembed` off the event loop."""

    _cache: _ShortTextCache | None = None

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    def _compute(self, texts: list[str]) -> Vectors: ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        return embed_distinct(texts, self.dimension, self._compute, self._cache)

    async def aembed(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embed, texts)


class OnnxEmbedder(_InProcessEmbedder):
    """A transformer encoder exported to ONNX, mean-pooled and normalized, on the CPU.

    Texts are tokenized, sorted by length and run in batches padded only to the longest
    text of each batch, so a batch of "ok"s costs what "ok"s cost. Thread-safe: one
    instance can serve the event loop and a background job at once.

    The shipped model quantizes activations per batch (dynamic int8), so a text's vector
    moves slightly with the texts it is batched with (cosine above 0.97 seen), the same
    size as the int8-vs-fp32 difference; recall is unchanged by it.
    """

    def __init__(
        self,
        model_dir: Path | str | None = None,
        *,
        threads: int | None = None,
        batch_size: int = 64,
        max_length: int | None = None,
        cache_size: int = 4096,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self.info = OnnxModelInfo.read(self.model_dir)
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self.max_length = max_length or self.info.max_length
        self.threads = threads or _default_threads()

        self._tokenizer: tokenizers.Tokenizer = Tokenizer.from_file(
            str(self.model_dir / "tokenizer.json")
        )
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_length)
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads would otherwise spin for a while after each batch, taking
        # a core from the rest of the bot for no gain on a small model.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(self.model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = frozenset(i.name for i in self._session.get_inputs())
        self._cache = _ShortTextCache(cache_size)

    @property
    def name(self) -> str:
        return f"onnx:{self.info.name}@{self.info.fingerprint}"

    @property
    def dimension(self) -> int:
        return self.info.dimension

    def _compute(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chunk = order[start : start + self.batch_size]
            width = int(lengths[chunk].max())
            ids = np.full((len(chunk), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, index in enumerate(chunk):
                token_ids = encodings[index].ids
                ids[row, : len(token_ids)] = token_ids
                mask[row, : len(token_ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(
                None, {name: value for name, value in feed.items() if name in self._inputs}
            )[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
            out[chunk] = pooled
        return normalize_rows(out)


def _import_litellm() -> Any:
    # Without this litellm fetches its model cost map from the network at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    return litellm


class LiteLLMEmbedder:
    """Any embedding model litellm can reach: `openai/text-embedding-3-small`,
    `ollama/nomic-embed-text`, a llama.cpp server, a proxy.

    The dimension is given, or learned from the model's first answer (which costs one
    call when `dimension` is read before anything was embedded).
    """

    def __init__(
        self,
        model: str,
        *,
        dimension: int | None = None,
        batch_size: int = 128,
        concurrency: int = 4,
        api_key: str | None = None,
        api_base: str | None = None,
        timeout_s: float = 60.0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if not model:
            raise ValueError("a litellm model string is needed, e.g. openai/text-embedding-3-small")
        self.model = model
        self.batch_size = batch_size
        self._dimension = dimension
        # At most this many requests in flight from `aembed`, to stay under rate limits.
        self._concurrency = max(1, concurrency)
        self._kwargs: dict[str, Any] = {"timeout": timeout_s, **(options or {})}
        if api_key is not None:
            self._kwargs["api_key"] = api_key
        if api_base is not None:
            self._kwargs["api_base"] = api_base
        self._litellm = _import_litellm()

    @property
    def name(self) -> str:
        return f"litellm:{self.model}"

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._call(["dimension probe"]).shape[1])
        return self._dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not _check_texts(texts):
            return np.empty((0, self.dimension), dtype=np.float32)
        return embed_distinct(texts, self.dimension, self._compute)

    async def aembed(self, texts: Sequence[str]) -> Vectors:
        texts = _check_texts(texts)
        if self._dimension is None:
            self._dimension = int((await self._acall(["dimension probe"])).shape[1])
        if not texts:
            return np.empty((0, self._dimension), dtype=np.float32)
        # Gather the distinct texts' vectors concurrently, batch by batch, then lay them
        # out with the same helper the synchronous path uses.
        distinct = list(dict.fromkeys(texts))
        batches = [
            distinct[i : i + self.batch_size] for i in range(0, len(distinct), self.batch_size)
        ]
        gate = asyncio.Semaphore(self._concurrency)

        async def one(batch: list[str]) -> Vectors:
            async with gate:
                return await self._acall(batch)

        rows = await asyncio.gather(*(one(batch) for batch in batches))
        table = dict(zip(distinct, np.vstack(rows), strict=True))
        return embed_distinct(
            texts, self._dimension, lambda missing: np.vstack([table[t] for t in missing])
        )

    def _compute(self, texts: list[str]) -> Vectors:
        rows = [
            self._call(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(rows)

    def _call(self, batch: list[str]) -> Vectors:
        try:
            response = self._litellm.embedding(
                model=self.model, input=_non_empty(batch), **self._kwargs
            )
        except Exception as exc:
            raise EmbedderError(f"{self.name} failed: {exc}") from exc
        return self._rows(response, len(batch))

    async def _acall(self, batch: list[str]) -> Vectors:
        try:
            response = await self._litellm.aembedding(
                model=self.model, input=_non_empty(batch), **self._kwargs
            )
        except Exception as exc:
            raise EmbedderError(f"{self.name} failed: {exc}") from exc
        return self._rows(response, len(batch))

    def _rows(self, response: Any, expected: int) -> Vectors:
        data = sorted(response.data, key=lambda item: _field(item, "index"))
        if len(data) != expected:
            raise EmbedderError(f"{self.name} returned {len(data)} vectors for {expected} texts")
        matrix = np.asarray([_field(item, "embedding") for item in data], dtype=np.float32)
        if matrix.ndim != 2 or (self._dimension is not None and matrix.shape[1] != self._dimension):
            raise EmbedderError(
                f"{self.name} returned vectors of shape {matrix.shape}; "
                f"expected dimension {self._dimension}"
            )
        return normalize_rows(matrix)


def _non_empty(batch: list[str]) -> list[str]:
    """Hosted APIs refuse an empty input string; a blank embeds as what it is."""
    return [text if text else " " for text in batch]


def _field(item: Any, key: str) -> Any:
    """litellm hands back embedding items as dicts or as objects, depending on provider."""
    return item[key] if isinstance(item, Mapping) else getattr(item, key)


def _missing_extra(package: str, extra: str, what: str) -> EmbedderError:
    return EmbedderError(
        f"{what} needs the optional package {package!r}, which is not installed: "
        f"pip install 'twin[{extra}]'"
    )


class SentenceTransformerEmbedder(_InProcessEmbedder):
    """A sentence-transformers model, for a machine with a GPU (extra `gpu`; it brings
    torch)."""

    def __init__(self, model: str, *, device: str | None = None, batch_size: int = 64) -> None:
        try:
            sentence_transformers = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise _missing_extra("sentence-transformers", "gpu", f"embedder {model!r}") from exc
        self.model = model
        self.batch_size = batch_size
        self._model: Any = sentence_transformers.SentenceTransformer(model, device=device)
        # sentence-transformers 6 renamed the method; older releases have only the old name.
        if hasattr(self._model, "get_embedding_dimension"):
            dimension = self._model.get_embedding_dimension()
        else:
            dimension = self._model.get_sentence_embedding_dimension()
        if dimension is None:
            raise EmbedderError(f"sentence-transformers model {model!r} has no fixed dimension")
        self._dimension = int(dimension)

    @property
    def name(self) -> str:
        return f"sentence-transformers:{self.model}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _compute(self, texts: list[str]) -> Vectors:
        matrix = self._model.encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
        return normalize_rows(matrix)


class Model2VecEmbedder(_InProcessEmbedder):
    """A static model (one vector per token, averaged): tens of thousands of messages per
    second on one core, for bulk imports, but weaker than a transformer on paraphrases.
    Extra `model2vec`. The default is all-MiniLM-L6-v2 distilled and shipped with the
    package (256 dimensions, int8, 8 MB)."""

    def __init__(self, model: Path | str | None = None, *, batch_size: int = 1024) -> None:
        try:
            model2vec = importlib.import_module("model2vec")
        except ImportError as exc:
            raise _missing_extra("model2vec", "model2vec", "the static embedder") from exc
        source = model if model is not None else STATIC_MODEL_DIR
        local = Path(source).is_dir()
        # A local folder is named by its own name, so moving the data folder does not
        # look like a change of model.
        self.model = Path(source).name if local else str(source)
        self.batch_size = batch_size
        self._model: Any = model2vec.StaticModel.from_pretrained(str(source))
        self._dimension = int(self._model.dim)

    @property
    def name(self) -> str:
        return f"model2vec:{self.model}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _compute(self, texts: list[str]) -> Vectors:
        return normalize_rows(self._model.encode(texts, batch_size=self.batch_size))


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
