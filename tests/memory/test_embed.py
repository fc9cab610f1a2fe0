from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin_core.memory.embed import (
    DEFAULT_MODEL_DIR,
    STATIC_MODEL_DIR,
    Embedder,
    EmbedderError,
    LiteLLMEmbedder,
    Model2VecEmbedder,
    OnnxEmbedder,
    embed_distinct,
    make_embedder,
)

CHAT = [
    "ok",
    "haha",
    "what time is dinner tomorrow?",
    "ok",
    "my sister is moving to Lisbon in March",
    "haha",
    "",
    "Привет, как дела? 🙂",
]


@pytest.fixture(scope="module")
def onnx() -> OnnxEmbedder:
    return OnnxEmbedder()


def cosine(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return float(np.dot(a, b))


def test_the_shipped_model_is_complete_and_licensed() -> None:
    names = {p.name for p in DEFAULT_MODEL_DIR.iterdir()}
    assert {"model.onnx", "tokenizer.json", "embedder.json", "LICENSE", "NOTICE.md"} <= names
    assert "Apache License" in (DEFAULT_MODEL_DIR / "LICENSE").read_text()
    static = {p.name for p in STATIC_MODEL_DIR.iterdir()}
    assert {"model.safetensors", "tokenizer.json", "config.json", "LICENSE", "NOTICE.md"} <= static


def test_onnx_rows_are_unit_float32_in_input_order(onnx: OnnxEmbedder) -> None:
    vectors = onnx.embed(CHAT)
    assert isinstance(onnx, Embedder)
    assert onnx.dimension == 384
    assert onnx.name.startswith("onnx:all-minilm-l6-v2-int8@")
    assert vectors.shape == (len(CHAT), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Repeated texts get the very same row, and order follows the input.
    np.testing.assert_array_equal(vectors[0], vectors[3])
    np.testing.assert_array_equal(vectors[1], vectors[5])
    alone = onnx.embed([CHAT[4]])[0]
    assert cosine(alone, vectors[4]) > 0.95


def test_onnx_vectors_barely_depend_on_batching(onnx: OnnxEmbedder) -> None:
    # Dynamic int8 quantization scales activations per batch, so a text's vector moves a
    # little with its batch-mates: as much as int8 differs from fp32, no more.
    texts = [f"{text} number {i}" for i, text in enumerate(CHAT * 3)]
    one_by_one = OnnxEmbedder(batch_size=1, cache_size=0).embed(texts)
    batched = onnx.embed(texts)
    assert float((one_by_one * batched).sum(axis=1).min()) > 0.95


def test_onnx_finds_meaning_not_just_words(onnx: OnnxEmbedder) -> None:
    query, paraphrase, unrelated = onnx.embed(
        [
            "when are we having dinner tomorrow?",
            "what time is supper tomorrow evening",
            "my car broke down on the highway",
        ]
    )
    assert cosine(query, paraphrase) > cosine(query, unrelated) + 0.3


def test_onnx_takes_empty_and_huge_input(onnx: OnnxEmbedder) -> None:
    assert onnx.embed([]).shape == (0, 384)
    huge = onnx.embed(["word " * 10_000])
    assert huge.shape == (1, 384)
    assert np.isfinite(huge).all()


def test_a_single_string_is_refused(onnx: OnnxEmbedder) -> None:
    with pytest.raises(TypeError, match="sequence of texts"):
        onnx.embed("ok")


async def test_aembed_gives_what_embed_gives(onnx: OnnxEmbedder) -> None:
    np.testing.assert_array_equal(await onnx.aembed(CHAT), onnx.embed(CHAT))


def test_each_distinct_text_is_computed_once() -> None:
    seen: list[list[str]] = []

    def compute(texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        seen.append(texts)
        return np.ones((len(texts), 2), dtype=np.float32)

    out = embed_distinct(["ok", "haha", "ok", "ok", "lol"], 2, compute)
    assert seen == [["ok", "haha", "lol"]]
    assert out.shape == (5, 2)


def test_short_texts_seen_lately_are_not_computed_again(onnx: OnnxEmbedder) -> None:
    embedder = OnnxEmbedder(cache_size=16)
    first = embedder.embed(["ok", "a longer message that is not cached because of its length"])
    # The cache lives in the embedder: the same vector comes back, bit for bit.
    np.testing.assert_array_equal(embedder.embed(["ok"])[0], first[0])


def test_a_missing_model_folder_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="reinstall"):
        OnnxEmbedder(tmp_path)


def test_make_embedder_names() -> None:
    assert isinstance(make_embedder(), OnnxEmbedder)
    assert isinstance(make_embedder(f"onnx:{DEFAULT_MODEL_DIR}"), OnnxEmbedder)
    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec:x")
    with pytest.raises(EmbedderError, match="name the model"):
        make_embedder("sentence-transformers:")


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None,
    reason="sentence-transformers is installed here",
)
def test_sentence_transformers_missing_says_which_extra() -> None:
    with pytest.raises(EmbedderError, match=r"pip install 'twin\[gpu\]'"):
        make_embedder("sentence-transformers:all-MiniLM-L6-v2")


@pytest.mark.skipif(
    importlib.util.find_spec("model2vec") is not None, reason="model2vec is installed here"
)
def test_model2vec_missing_says_which_extra() -> None:
    with pytest.raises(EmbedderError, match=r"pip install 'twin\[model2vec\]'"):
        make_embedder("model2vec")


@pytest.mark.skipif(
    importlib.util.find_spec("model2vec") is None, reason="the model2vec extra is not installed"
)
def test_the_shipped_static_model() -> None:
    embedder = make_embedder("model2vec")
    assert isinstance(embedder, Model2VecEmbedder)
    assert embedder.name == "model2vec:all-minilm-l6-v2-static-int8"
    assert embedder.dimension == 256
    vectors = embedder.embed(CHAT)
    assert vectors.shape == (len(CHAT), 256)
    assert vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    # Text made only of unknown tokens has no vector to average: it stays zero.
    np.testing.assert_allclose(norms[norms > 0], 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[3])
    query, paraphrase, unrelated = embedder.embed(
        [
            "when are we having dinner tomorrow?",
            "what time is supper tomorrow evening",
            "my car broke down on the highway",
        ]
    )
    assert cosine(query, paraphrase) > cosine(query, unrelated)


# litellm, with a provider served by local code: a fake embedding service at litellm's
# own provider seam, recording what it was asked.

FAKE_PROVIDER = "twinfakeembed"
FAKE_DIMENSION = 8


def fake_vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    # Deliberately not normalized: the embedder must normalize whatever it gets.
    return [float(b) + 1.0 for b in digest[:FAKE_DIMENSION]]


@pytest.fixture
def fake_embedding_service() -> Iterator[list[list[str]]]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm
    from litellm.llms.custom_llm import CustomLLM
    from litellm.types.utils import EmbeddingResponse

    calls: list[list[str]] = []

    class FakeEmbeddings(CustomLLM):
        def _answer(self, model: str, texts: list[str]) -> EmbeddingResponse:
            calls.append(list(texts))
            if any("explode" in t for t in texts):
                raise ValueError("the service is down")
            data = [
                {"object": "embedding", "index": i, "embedding": fake_vector(t)}
                for i, t in reversed(list(enumerate(texts)))  # out of order on purpose
            ]
            return EmbeddingResponse(model=model, data=data)

        def embedding(self, model: str, input: list[str], *args: Any, **kwargs: Any) -> Any:
            return self._answer(model, input)

        async def aembedding(self, model: str, input: list[str], *args: Any, **kwargs: Any) -> Any:
            return self._answer(model, input)

    entry: Any = {"provider": FAKE_PROVIDER, "custom_handler": FakeEmbeddings()}
    litellm.custom_provider_map.append(entry)
    try:
        yield calls
    finally:
        litellm.custom_provider_map.remove(entry)


def expected(texts: list[str]) -> np.ndarray[Any, Any]:
    raw = np.asarray([fake_vector(t) for t in texts], dtype=np.float32)
    unit: np.ndarray[Any, Any] = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    return unit


def test_litellm_embedder(fake_embedding_service: list[list[str]]) -> None:
    embedder = make_embedder(f"litellm:{FAKE_PROVIDER}/model")
    assert isinstance(embedder, LiteLLMEmbedder)
    assert embedder.name == f"litellm:{FAKE_PROVIDER}/model"
    assert embedder.dimension == FAKE_DIMENSION  # learned with one probe call
    fake_embedding_service.clear()
    vectors = embedder.embed(CHAT)
    sent = [text or " " for text in dict.fromkeys(CHAT)]  # APIs refuse ""
    np.testing.assert_allclose(vectors, expected([t or " " for t in CHAT]), rtol=1e-6)
    assert fake_embedding_service == [sent]


def test_litellm_embedder_batches(fake_embedding_service: list[list[str]]) -> None:
    embedder = LiteLLMEmbedder(f"{FAKE_PROVIDER}/model", dimension=FAKE_DIMENSION, batch_size=3)
    texts = [f"message {i}" for i in range(7)]
    np.testing.assert_allclose(embedder.embed(texts), expected(texts), rtol=1e-6)
    assert [len(c) for c in fake_embedding_service] == [3, 3, 1]


async def test_litellm_embedder_async(fake_embedding_service: list[list[str]]) -> None:
    embedder = LiteLLMEmbedder(f"{FAKE_PROVIDER}/model", batch_size=2)
    vectors = await embedder.aembed(CHAT)
    np.testing.assert_allclose(vectors, expected([t or " " for t in CHAT]), rtol=1e-6)
    asked = [t for call in fake_embedding_service[1:] for t in call]  # after the probe
    assert sorted(asked) == sorted({t or " " for t in CHAT})


def test_litellm_failure_names_the_model(fake_embedding_service: list[list[str]]) -> None:
    embedder = LiteLLMEmbedder(f"{FAKE_PROVIDER}/model", dimension=FAKE_DIMENSION)
    with pytest.raises(EmbedderError, match=f"litellm:{FAKE_PROVIDER}/model failed"):
        embedder.embed(["please explode"])


def test_onnx_batches_run_side_by_side_give_the_sequential_vectors() -> None:
    texts = [f"note {i} about {'lunch ' * (i % 9)}the garden" for i in range(300)]
    side_by_side = OnnxEmbedder(threads=2, batch_size=16, cache_size=0)
    one_by_one = OnnxEmbedder(threads=1, batch_size=16, cache_size=0)
    assert side_by_side._pool is not None and one_by_one._pool is None
    np.testing.assert_array_equal(side_by_side.embed(texts), one_by_one.embed(texts))
