"""A static model2vec model (extra `model2vec`): one vector per token, averaged; the
shipped one is all-MiniLM-L6-v2 distilled, 50x faster than it and weaker."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from twin_core.memory.embed.base import (
    MODELS,
    Vectors,
    _InProcessEmbedder,
    _missing_extra,
    normalize_rows,
)

STATIC_MODEL_DIR = MODELS / "all-minilm-l6-v2-static-int8"
"""all-MiniLM-L6-v2 distilled to a static model by `scripts/distill_static.py`."""


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
