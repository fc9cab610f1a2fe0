"""One contract for every VectorIndex: Qdrant Edge on a folder, and qdrant-client (in its
local mode, which speaks the server's API; no Qdrant server runs here). The queries only
the benchmarks make (benchmarks/index_queries.py) are held to it too, at the end, with
the sparse encoders kept for comparison (benchmarks/sparse_encoders.py)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from twin_core.memory.embed import OnnxEmbedder
from twin_core.memory.index import (
    Bm25Encoder,
    EdgeVectorIndex,
    Hit,
    IndexBusyError,
    IndexedMessage,
    IndexMismatchError,
    IndexMissingError,
    IndexSpec,
    QdrantServerIndex,
    Scope,
    SparseEncoder,
    SparseVector,
    VectorIndex,
    epoch_seconds,
    open_vector_index,
    token_index,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from index_queries import query_dense, query_fused, query_sparse
from sparse_encoders import EdgeBm25Encoder, make_sparse_encoder

DAY = 86_400
T0 = epoch_seconds(datetime(2024, 3, 1, tzinfo=UTC))


@dataclass(frozen=True)
class Row:
    message_id: int
    contact_id: int | None
    conversation_id: int
    channel: str
    day: int
    text: str


ROWS = [
    Row(1, 10, 100, "telegram", 0, "ok"),
    Row(2, 10, 100, "telegram", 0, "My sister is moving to Lisbon in March"),
    Row(3, 10, 100, "telegram", 1, "haha ok"),
    Row(4, 10, 100, "telegram", 2, "We adopted a puppy, her name is Biscuit"),
    Row(5, 20, 200, "whatsapp", 3, "The dentist moved my appointment to Thursday"),
    Row(6, 20, 200, "whatsapp", 4, "ok see you tonight"),
    Row(7, 20, 200, "whatsapp", 5, "I'm training for the half marathon in October"),
    Row(8, 30, 300, "slack", 6, "the quarterly report is due on Friday"),
    Row(9, 30, 300, "slack", 7, "can you review the pull request for the billing service"),
    Row(10, None, 400, "slack", 8, "deploy of the billing service finished tonight"),
    Row(11, 20, 200, "whatsapp", 9, "pizza tonight?"),
    Row(12, 20, 200, "whatsapp", 9, "tonight tonight tonight"),
]


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


@pytest.fixture(scope="module")
def sparse() -> Bm25Encoder:
    return Bm25Encoder()


@pytest.fixture(scope="module")
def spec(embedder: OnnxEmbedder, sparse: Bm25Encoder) -> IndexSpec:
    return IndexSpec.of(embedder, sparse)


@pytest.fixture(scope="module")
def messages(embedder: OnnxEmbedder, sparse: SparseEncoder) -> list[IndexedMessage]:
    texts = [r.text for r in ROWS]
    dense = embedder.embed(texts)
    return [
        IndexedMessage(
            message_id=r.message_id,
            dense=dense[i],
            sparse=s,
            conversation_id=r.conversation_id,
            channel=r.channel,
            sent_at=T0 + r.day * DAY,
            contact_id=r.contact_id,
        )
        for i, (r, s) in enumerate(zip(ROWS, sparse.encode_documents(texts), strict=True))
    ]


class Backend:
    name: str

    def open(self, spec: IndexSpec, *, create: bool = False) -> VectorIndex:
        raise NotImplementedError

    def recreate(self, spec: IndexSpec) -> VectorIndex:
        raise NotImplementedError

    def destroy(self) -> None:
        """Remove the index's storage behind its back, as an owner might."""
        raise NotImplementedError

    def shutdown(self) -> None:
        pass


class EdgeBackend(Backend):
    name = "edge"

    def __init__(self, root: Path) -> None:
        self.path = root / "vectors"

    def open(self, spec: IndexSpec, *, create: bool = False) -> VectorIndex:
        return EdgeVectorIndex.open(self.path, spec, create=create)

    def recreate(self, spec: IndexSpec) -> VectorIndex:
        return EdgeVectorIndex.recreate(self.path, spec)

    def destroy(self) -> None:
        shutil.rmtree(self.path)


class QdrantLocalBackend(Backend):
    name = "qdrant-client"

    def __init__(self, root: Path) -> None:
        self.client = QdrantClient(path=str(root / "qdrant"))

    def open(self, spec: IndexSpec, *, create: bool = False) -> VectorIndex:
        return QdrantServerIndex.open(self.client, spec, create=create)

    def recreate(self, spec: IndexSpec) -> VectorIndex:
        return QdrantServerIndex.recreate(self.client, spec)

    def destroy(self) -> None:
        self.client.delete_collection("twin_messages")

    def shutdown(self) -> None:
        self.client.close()


@pytest.fixture(params=["edge", "qdrant-client"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    made: Backend = (
        EdgeBackend(tmp_path) if request.param == "edge" else QdrantLocalBackend(tmp_path)
    )
    yield made
    made.shutdown()


@pytest.fixture
def index(
    backend: Backend, spec: IndexSpec, messages: list[IndexedMessage]
) -> Iterator[VectorIndex]:
    opened = backend.open(spec, create=True)
    opened.upsert(messages)
    opened.optimize()
    yield opened
    opened.close()


def ids(hits: list[Hit]) -> list[int]:
    return [h.message_id for h in hits]


NO_WORDS = SparseVector((), ())


def dense_hits(
    index: VectorIndex,
    vector: np.ndarray | list[float],
    *,
    scope: Scope | None = None,
    limit: int = 10,
) -> list[Hit]:
    """The dense list as recall gets it: from `query_hybrid`."""
    return index.query_hybrid(vector, NO_WORDS, scope=scope, limit=limit).dense


def test_both_implement_the_protocol(index: VectorIndex, spec: IndexSpec) -> None:
    assert isinstance(index, VectorIndex)
    assert index.spec == spec
    assert len(index.index_id) == 32


def test_upsert_is_idempotent_and_replaces(
    index: VectorIndex, messages: list[IndexedMessage]
) -> None:
    assert index.count() == len(ROWS)
    index.upsert(messages)
    assert index.count() == len(ROWS)
    assert index.count(Scope.contact(10)) == 4
    index.upsert([replace(messages[0], contact_id=30)])
    assert index.count(Scope.contact(10)) == 3
    assert index.count(Scope.contact(30)) == 3


def test_dense_query_finds_the_meaning(index: VectorIndex, embedder: OnnxEmbedder) -> None:
    (query,) = embedder.embed(["which city is her sibling relocating to?"])
    hits = dense_hits(index, query, limit=3)
    assert ids(hits)[0] == 2
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert 0.0 < scores[0] <= 1.0 + 1e-6


def test_sparse_query_is_bm25(
    index: VectorIndex, embedder: OnnxEmbedder, sparse: Bm25Encoder
) -> None:
    def words(text: str) -> list[Hit]:
        (query,) = embedder.embed([text])
        return index.query_hybrid(query, sparse.encode_query(text), limit=5).sparse

    assert ids(words("Biscuit")) == [4]
    # A rare word outweighs a common one, however often the common one is repeated.
    hits = words("pizza tonight")
    assert ids(hits)[0] == 11
    assert set(ids(hits)) == {6, 10, 11, 12}
    assert words("zebra") == []
    assert words("") == []


def test_scopes(index: VectorIndex, embedder: OnnxEmbedder) -> None:
    (query,) = embedder.embed(["billing service"])
    assert set(ids(dense_hits(index, query, scope=Scope.contact(30), limit=20))) == {8, 9}
    assert set(ids(dense_hits(index, query, scope=Scope(channels=("slack",)), limit=20))) == {
        8,
        9,
        10,
    }
    by_conversation = dense_hits(index, query, scope=Scope(conversation_ids=(100, 400)), limit=20)
    assert set(ids(by_conversation)) == {1, 2, 3, 4, 10}
    in_time = Scope(sent_from=T0 + 3 * DAY, sent_before=T0 + 6 * DAY)
    assert set(ids(dense_hits(index, query, scope=in_time, limit=20))) == {5, 6, 7}
    assert index.count(in_time) == 3
    combined = Scope(contact_ids=(20,), sent_from=T0 + 4 * DAY, exclude_message_ids=(6, 12))
    assert set(ids(dense_hits(index, query, scope=combined, limit=20))) == {7, 11}


def test_an_empty_allow_list_matches_nothing(index: VectorIndex, embedder: OnnxEmbedder) -> None:
    (query,) = embedder.embed(["ok"])
    nothing = Scope(contact_ids=())
    assert nothing.matches_nothing
    assert dense_hits(index, query, scope=nothing) == []
    assert index.count(nothing) == 0
    assert dense_hits(index, query, scope=Scope(sent_from=5, sent_before=5)) == []


def test_hybrid_returns_both_lists(
    index: VectorIndex, embedder: OnnxEmbedder, sparse: Bm25Encoder
) -> None:
    text = "when is the dentist appointment"
    (query,) = embedder.embed([text])
    both = index.query_hybrid(query, sparse.encode_query(text), scope=Scope.contact(20), limit=3)
    assert both.dense == dense_hits(index, query, scope=Scope.contact(20), limit=3)
    assert ids(both.dense)[0] == 5
    assert ids(both.sparse)[0] == 5
    only_dense = index.query_hybrid(query, SparseVector((), ()), limit=3)
    assert only_dense.sparse == []
    assert ids(only_dense.dense)[0] == 5


def test_delete(index: VectorIndex) -> None:
    index.delete([1, 2, 999])
    index.delete([])
    assert index.count() == len(ROWS) - 2


def test_wrong_dimension_is_refused(index: VectorIndex, messages: list[IndexedMessage]) -> None:
    with pytest.raises(ValueError, match="384 dimensions"):
        index.query_hybrid([0.1] * 10, NO_WORDS)
    with pytest.raises(ValueError, match="384 dimensions"):
        index.upsert([replace(messages[0], dense=np.ones(3, dtype=np.float32))])


def test_reopening_keeps_everything(backend: Backend, index: VectorIndex, spec: IndexSpec) -> None:
    built = index.index_id
    index.close()
    index.close()  # closing twice is harmless
    with backend.open(spec) as again:
        assert again.count() == len(ROWS)
        assert again.index_id == built


def test_another_embedder_is_detected(
    backend: Backend, index: VectorIndex, spec: IndexSpec
) -> None:
    index.close()
    other = IndexSpec("litellm:openai/text-embedding-3-small", 1536, spec.sparse)
    with pytest.raises(IndexMismatchError) as caught:
        backend.open(other)
    message = str(caught.value)
    assert "twin reindex" in message
    assert spec.embedder in message
    assert "text-embedding-3-small" in message
    with pytest.raises(IndexMismatchError, match="twin reindex"):
        backend.open(replace(spec, sparse="bm25:something-else"))
    with pytest.raises(IndexMismatchError):
        backend.open(other, create=True)  # create never overwrites a built index


def test_a_missing_index_is_detected(backend: Backend, spec: IndexSpec) -> None:
    with pytest.raises(IndexMissingError, match="twin reindex"):
        backend.open(spec)


def test_an_index_deleted_while_open_is_detected(
    backend: Backend, index: VectorIndex, spec: IndexSpec, embedder: OnnxEmbedder
) -> None:
    backend.destroy()
    (query,) = embedder.embed(["ok"])
    with pytest.raises(IndexMissingError, match="twin reindex"):
        dense_hits(index, query)
    with pytest.raises(IndexMissingError, match="twin reindex"):
        index.count()
    index.close()
    with pytest.raises(IndexMissingError):
        backend.open(spec)


def test_recreate_starts_empty_with_a_new_identity(
    backend: Backend, index: VectorIndex, spec: IndexSpec
) -> None:
    old = index.index_id
    index.close()
    other = IndexSpec("litellm:ollama/nomic-embed-text", 768, spec.sparse)
    with backend.recreate(other) as rebuilt:
        assert rebuilt.count() == 0
        assert rebuilt.index_id != old
        assert rebuilt.spec == other
    with backend.open(other) as reopened:
        assert reopened.index_id != old


def test_both_engines_score_alike(
    tmp_path: Path,
    spec: IndexSpec,
    messages: list[IndexedMessage],
    embedder: OnnxEmbedder,
    sparse: Bm25Encoder,
) -> None:
    client = QdrantClient(":memory:")
    with (
        EdgeVectorIndex.open(tmp_path / "edge", spec, create=True) as edge,
        QdrantServerIndex.open(client, spec, create=True) as local,
    ):
        edge.upsert(messages)
        local.upsert(messages)
        (query,) = embedder.embed(["is the report done"])
        words = sparse.encode_query("the billing report tonight")
        on_edge = edge.query_hybrid(query, words, limit=12)
        on_local = local.query_hybrid(query, words, limit=12)
        # The embedded index keeps 8-bit codes of the dense vectors (TurboQuant), the
        # local client floats: the same order, scores within a few thousandths.
        for a, b, atol in (
            (on_edge.dense, on_local.dense, 5e-3),
            (on_edge.sparse, on_local.sparse, 1e-4),
        ):
            assert [h.message_id for h in a] == [h.message_id for h in b]
            np.testing.assert_allclose([h.score for h in a], [h.score for h in b], atol=atol)
    client.close()


# Qdrant Edge only


def test_edge_refuses_a_second_process(tmp_path: Path, spec: IndexSpec) -> None:
    with (
        EdgeVectorIndex.open(tmp_path / "v", spec, create=True),
        pytest.raises(IndexBusyError, match="another process"),
    ):
        EdgeVectorIndex.open(tmp_path / "v", spec)


def test_edge_rebuilds_after_an_interrupted_build(tmp_path: Path, spec: IndexSpec) -> None:
    EdgeVectorIndex.open(tmp_path / "v", spec, create=True).close()
    (tmp_path / "v" / "manifest.json").unlink()  # as if the build died before its end
    with pytest.raises(IndexMissingError):
        EdgeVectorIndex.open(tmp_path / "v", spec)
    with EdgeVectorIndex.open(tmp_path / "v", spec, create=True) as rebuilt:
        assert rebuilt.count() == 0


def test_edge_keeps_finished_segments_off_the_heap(
    tmp_path: Path, spec: IndexSpec, messages: list[IndexedMessage], embedder: OnnxEmbedder
) -> None:
    """Memory stays flat and the disk small as the history grows: the dense vectors are
    kept once, as 8-bit TurboQuant codes (no float originals beside int8 copies), and
    they, the sparse index and the graph are memory-mapped; payload and its indexes are
    read from disk; in the configuration the engine keeps with the shard."""
    with EdgeVectorIndex.open(tmp_path / "v", spec, create=True) as index:
        index.upsert(messages)
        index.optimize()
    config = json.loads((tmp_path / "v" / "shard" / "edge_config.json").read_text())
    dense = config["vectors"]["dense"]
    assert dense["memory"] == "cached"
    assert dense["datatype"] == "turbo8" and dense.get("quantization_config") is None
    assert config["sparse_vectors"]["sparse"]["memory"] == "cached"
    assert config["hnsw_config"]["memory"] == "cached"
    assert config["payload_memory"] == config["id_tracker_memory"] == "cold"
    with EdgeVectorIndex.open(tmp_path / "v", spec) as reopened:
        assert reopened.count() == len(messages)
        (query,) = embedder.embed(["which city is her sibling relocating to?"])
        assert ids(dense_hits(reopened, query, limit=3))[0] == 2


def test_open_vector_index_picks_edge_for_a_folder(tmp_path: Path, spec: IndexSpec) -> None:
    with open_vector_index(tmp_path / "v", spec, create=True) as index:
        assert isinstance(index, EdgeVectorIndex)


# Sparse encoders


def test_bm25_encoder_weights() -> None:
    encoder = Bm25Encoder(k1=1.2, b=0.75, avg_len=4)
    (doc,) = encoder.encode_documents(["Tonight tonight pizza"])
    weights = dict(zip(doc.indices, doc.values, strict=True))
    norm = 1.2 * (1 - 0.75 + 0.75 * 3 / 4)
    assert weights[token_index("tonight")] == pytest.approx(2 * 2.2 / (2 + norm))
    assert weights[token_index("pizza")] == pytest.approx(1 * 2.2 / (1 + norm))
    query = encoder.encode_query("Pizza pizza TONIGHT")
    assert sorted(query.indices) == sorted({token_index("pizza"), token_index("tonight")})
    assert set(query.values) == {1.0}
    assert encoder.encode_documents([""]) == [SparseVector((), ())]
    # CJK text without spaces is indexed as bigrams, as the lexical index does.
    (cjk,) = encoder.encode_documents(["東京に行きました"])
    assert token_index("東京") in cjk.indices
    assert "avg_len=4" in encoder.name


def test_token_index_is_stable() -> None:
    # Fixed forever: stored indexes depend on it.
    assert token_index("ok") == 2044517703
    assert token_index("привет") == token_index("привет")


# benchmarks/index_queries.py: the queries only the benchmarks make


def test_one_list_alone_is_that_list_of_hybrid(
    index: VectorIndex, embedder: OnnxEmbedder, sparse: Bm25Encoder
) -> None:
    text = "when is the dentist appointment"
    (query,) = embedder.embed([text])
    words = sparse.encode_query(text)
    both = index.query_hybrid(query, words, scope=Scope.contact(20), limit=3)
    assert query_dense(index, query, scope=Scope.contact(20), limit=3) == both.dense
    assert query_sparse(index, words, scope=Scope.contact(20), limit=3) == both.sparse
    assert query_sparse(index, NO_WORDS) == []
    assert query_sparse(index, words, scope=Scope(contact_ids=())) == []
    with pytest.raises(ValueError, match="limit"):
        query_sparse(index, words, limit=0)


def rrf(lists: list[list[Hit]], weights: tuple[float, float], k: int = 60) -> dict[int, float]:
    """Qdrant's weighted reciprocal rank fusion, as measured on both engines: a hit at
    position p (from 1) of a list of weight w adds 1 / (k - 1 + p / w)."""
    fused: dict[int, float] = {}
    for hits, weight in zip(lists, weights, strict=False):
        for position, hit in enumerate(hits, start=1):
            gain = 1.0 / (k - 1 + position / weight)
            fused[hit.message_id] = fused.get(hit.message_id, 0.0) + gain
    return fused


@pytest.mark.parametrize("weights", [(1.0, 1.0), (4.0, 1.0), (1.0, 4.0)])
def test_rrf_fusion_in_the_engine(
    index: VectorIndex,
    embedder: OnnxEmbedder,
    sparse: Bm25Encoder,
    weights: tuple[float, float],
) -> None:
    (query,) = embedder.embed(["could you look over my code changes"])
    words = sparse.encode_query("billing service deploy tonight")
    both = index.query_hybrid(query, words, limit=50)
    assert ids(both.dense)[0] != ids(both.sparse)[0]  # the two sides disagree here
    want = rrf([both.dense, both.sparse], weights)
    got = query_fused(index, query, words, limit=4, candidates=50, weights=weights)
    assert len(got) == 4
    for hit in got:
        assert hit.score == pytest.approx(want[hit.message_id], rel=1e-5)
    left_out = [score for i, score in want.items() if i not in ids(got)]
    assert min(h.score for h in got) >= max(left_out) - 1e-9


def test_dbsf_fusion_and_scoped_fusion(
    index: VectorIndex, embedder: OnnxEmbedder, sparse: Bm25Encoder
) -> None:
    (query,) = embedder.embed(["could you look over my code changes"])
    words = sparse.encode_query("billing service deploy tonight")
    both = index.query_hybrid(query, words, limit=1)
    dbsf = query_fused(index, query, words, limit=5, fusion="dbsf")
    assert len(dbsf) == 5
    assert both.sparse[0].message_id in ids(dbsf)
    scoped = query_fused(index, query, words, scope=Scope.contact(20), limit=20)
    assert set(ids(scoped)) == {5, 6, 7, 11, 12}


# benchmarks/sparse_encoders.py: the encoders recall was compared against


def test_edge_bm25_encoder_stems_and_drops_stopwords() -> None:
    encoder = EdgeBm25Encoder("english")
    assert isinstance(encoder, SparseEncoder)
    (running,) = encoder.encode_documents(["She was running"])
    assert set(encoder.encode_query("run").indices) <= set(running.indices)
    assert len(encoder.encode_query("what did the")) == 0
    assert encoder.name.startswith("bm25:edge-english-multilingual")
    # The multilingual tokenizer finds words in Chinese text.
    (chinese,) = encoder.encode_documents(["我昨天去了北京"])
    assert set(encoder.encode_query("北京").indices) <= set(chinese.indices)


def test_make_sparse_encoder() -> None:
    assert isinstance(make_sparse_encoder(), EdgeBm25Encoder)
    assert make_sparse_encoder("bm25:german").name.startswith("bm25:edge-german")
    assert isinstance(make_sparse_encoder("bm25-words"), Bm25Encoder)
    with pytest.raises(ValueError, match="unknown sparse encoder"):
        make_sparse_encoder("splade")


def test_the_default_sparse_encoder_in_an_index(
    tmp_path: Path, embedder: OnnxEmbedder, messages: list[IndexedMessage]
) -> None:
    encoder = make_sparse_encoder()
    texts = [r.text for r in ROWS]
    rows = [
        replace(m, sparse=s) for m, s in zip(messages, encoder.encode_documents(texts), strict=True)
    ]
    with EdgeVectorIndex.open(
        tmp_path / "v", IndexSpec.of(embedder, encoder), create=True
    ) as index:
        index.upsert(rows)
        hits = query_sparse(index, encoder.encode_query("who moves to Lisbon?"), limit=3)
        # "moves" matches "moving" (2) and "moved" (5) by their stem; Lisbon decides.
        assert [h.message_id for h in hits] == [2, 5]
        hits = query_sparse(index, encoder.encode_query("marathon runs"), limit=3)
        assert hits[0].message_id == 7


def test_edge_writes_are_on_disk_once_flushed_without_a_log(
    tmp_path: Path, spec: IndexSpec, messages: list[IndexedMessage]
) -> None:
    """The embedded index keeps no write-ahead log (it is derived from SQL): what the
    indexer flushed before recording its progress is on disk even if the process dies
    before closing (a copy of the folder taken while open stands for that)."""
    with EdgeVectorIndex.open(tmp_path / "v", spec, create=True) as index:
        index.upsert(messages)
        index.flush()
        shutil.copytree(tmp_path / "v", tmp_path / "crashed")
        assert not list((tmp_path / "v" / "shard").glob("wal/*"))  # no log kept
    with EdgeVectorIndex.open(tmp_path / "crashed", spec) as survivor:
        assert survivor.count() == len(messages)
