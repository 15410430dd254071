"""The Milvus backend (Milvus Lite, embedded — real Milvus, no mock): the same top-10 clauses and the same
refusals as the local backend on the shared development questions; ingest, replace and delete through it;
an unreachable server is a clear error, never a hang."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from qa.index import milvus
from qa.index.collection import Index
from qa.ingest import ingest, remove
from qa.retrieval.service import load_searcher
from tests.conftest import CORPUS, SHARED
from tests.helpers import NEW_DOC, seed_index_copy

pytest.importorskip("pymilvus")


@pytest.fixture(scope="module")
def local_index(tmp_path_factory):
    return seed_index_copy(tmp_path_factory.mktemp("local") / "index")


@pytest.fixture(scope="module")
def milvus_index(tmp_path_factory, local_index):  # the local index is built first, with the local backend
    folder = tmp_path_factory.mktemp("milvus")
    patch = pytest.MonkeyPatch()
    patch.setenv("QA_BACKEND", "milvus")
    patch.setenv("QA_MILVUS_URI", str(folder / "milvus.db"))
    patch.setenv("QA_MILVUS_COLLECTION", "qa_test")
    milvus._STORES.clear()
    report = ingest([CORPUS], folder / "index")
    assert report.documents == 5 and not report.errors
    from qa.index.embedding import embedder_for_query
    from qa.retrieval.bridge import TermBridge

    index = Index.open(folder / "index")
    TermBridge.refresh(index, embedder_for_query(index))  # as the embedding job does (the local copy has it too)
    yield folder / "index"
    patch.undo()
    milvus._STORES.clear()


def questions() -> list[dict]:
    path = SHARED / "data" / "seed_dev_qa.jsonl"
    if not path.exists():
        pytest.skip("../shared is not beside the project")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_vectors_live_in_milvus_not_in_segments(milvus_index, local_index, monkeypatch):
    monkeypatch.setenv("QA_BACKEND", "milvus")
    index = Index.open(milvus_index)
    assert isinstance(index.dense, milvus.MilvusVectorView) and index.dense.coverage == len(index.passages)
    assert not [p for p in (milvus_index / "segments").iterdir() if p.name.startswith("vec-")]
    store = milvus.milvus_store(384)
    assert store.count() == len(index.passages)
    # the sentence vectors stay in the index folder: the search reads them beside Milvus's clause vectors
    sentence_folders = [p for p in (milvus_index / "segments").iterdir() if p.name.startswith("sen-")]
    assert sentence_folders and len(index.sentences.segments) == len(sentence_folders)
    assert not index.sentences.table
    query = np.full(384, 1 / np.sqrt(384), dtype=np.float32)
    scored = index.sentences.best(index.rows.pids, query)
    local = Index.open(local_index)
    expected = local.sentences.best(local.rows.pids, query)
    assert np.isfinite(scored).sum() == np.isfinite(expected).sum() > 0  # the same passages have sentence rows
    assert np.sort(scored[np.isfinite(scored)]) == pytest.approx(np.sort(expected[np.isfinite(expected)]), abs=1e-6)


def test_same_top_ten_and_same_refusals_as_local(milvus_index, local_index, monkeypatch):
    from qa.answers.extractive import ExtractiveAnswerer

    monkeypatch.setenv("QA_BACKEND", "local")
    local = load_searcher(local_index)
    local_answers = ExtractiveAnswerer(local)
    expected = {q["id"]: ([(h.clause_id, round(h.score, 4)) for h in local.search(q["query"], k=10)],
                          local_answers.answer(q["query"]).answerable) for q in questions()}
    monkeypatch.setenv("QA_BACKEND", "milvus")
    remote = load_searcher(milvus_index)
    remote_answers = ExtractiveAnswerer(remote)
    for question in questions():
        ranked, answerable = expected[question["id"]]
        got = [(h.clause_id, round(h.score, 4)) for h in remote.search(question["query"], k=10)]
        assert [s for _, s in got] == pytest.approx([s for _, s in ranked], abs=2e-4), question["id"]
        for (a, score_a), (b, score_b) in zip(got, ranked, strict=True):  # the same clauses, ties aside
            assert a == b or abs(score_a - score_b) < 2e-4, (question["id"], a, b)
        assert remote_answers.answer(question["query"]).answerable is answerable, question["id"]


def test_ingest_replace_and_delete_through_milvus(milvus_index, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_BACKEND", "milvus")
    store = milvus.milvus_store(384)
    before = store.count()
    plan = tmp_path / "feidi.txt"
    plan.write_text(NEW_DOC, encoding="utf-8")
    doc_id = ingest([plan], milvus_index).added[0]
    index = Index.open(milvus_index)
    new_rows = [i for i, d in enumerate(index.rows.doc_rows) if index.rows.doc_ids[d] == doc_id]
    assert store.count() == before + len(new_rows)
    assert load_searcher(milvus_index).search("飞地孵化器 研发在上海", k=3, mode="dense")[0].doc_id == doc_id
    plan.write_text(NEW_DOC.replace("飞地孵化器2家", "飞地孵化器4家"), encoding="utf-8")
    assert ingest([plan], milvus_index).replaced == [doc_id]
    assert store.count() == before + len(new_rows)  # the old version's vectors were deleted
    assert remove([doc_id], milvus_index) == []
    assert store.count() == before
    assert all(h.doc_id != doc_id for h in load_searcher(milvus_index).search("飞地孵化器", k=10, mode="dense"))


def test_unreachable_milvus_is_a_clear_error_not_a_hang(tmp_path, monkeypatch):
    from qa.errors import Unavailable

    monkeypatch.setenv("QA_BACKEND", "milvus")
    monkeypatch.setenv("QA_MILVUS_URI", "http://127.0.0.1:9")  # nothing listens on the discard port
    milvus._STORES.clear()
    started = time.monotonic()
    with pytest.raises(Unavailable, match="127.0.0.1:9"):
        milvus.MilvusStore("http://127.0.0.1:9", "qa", 384, timeout=3)
    assert time.monotonic() - started < 30
    milvus._STORES.clear()
