"""The default embedder: a transformer exported to ONNX (the shipped all-MiniLM-L6-v2,
int8), run with onnxruntime and tokenizers on the CPU: no torch, no network."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twin_core.memory.embed.base import (
    MODELS,
    EmbedderError,
    Vectors,
    _InProcessEmbedder,
    _ShortTextCache,
    normalize_rows,
)

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

DEFAULT_MODEL_DIR = MODELS / "all-minilm-l6-v2-int8"


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

        # One thread per batch, batches side by side: a model this small splits badly
        # across cores (chat texts are a dozen tokens; a batch's matrices are tiny), so
        # two single-threaded runs at once do more than one run on two threads
        # (docs/BENCHMARKS.md, issue 16). The session is shared: `run` is thread-safe
        # and, with one intra-op thread, computes on the calling thread.
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(self.model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = frozenset(i.name for i in self._session.get_inputs())
        self._cache = _ShortTextCache(cache_size)
        self._pool = (
            ThreadPoolExecutor(self.threads, thread_name_prefix="embed")
            if self.threads > 1
            else None
        )

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
        chunks = [order[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]

        def run(chunk: NDArray[np.int64]) -> None:
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
            out[chunk] = (hidden * weights).sum(axis=1) / weights.sum(axis=1)

        if self._pool is None or len(chunks) == 1:
            for chunk in chunks:
                run(chunk)
        else:
            for _ in self._pool.map(run, chunks):  # raises the first failure, if any
                pass
        return normalize_rows(out)
