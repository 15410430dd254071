"""The embedding job and the student: lexical search at once, dense coverage within the ingest, the model's
vectors in resumable batches (a kill loses at most one), progress and coverage reported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from qa.index import embed_job
from qa.index.catalog import VECTOR_STUDENT, VECTOR_TEACHER
from qa.index.collection import Index
from qa.index.embedding import embedder_for_query
from qa.ingest import ingest
from qa.retrieval.service import load_searcher
from tests.conftest import CORPUS, ROOT


@pytest.fixture(scope="module")
def lexical_index(tmp_path_factory):
    """The seed corpus committed with no vectors at all (as a large ingest leaves most passages)."""
    root = tmp_path_factory.mktemp("job") / "index"
    report = ingest([CORPUS], root, teacher_passages=0, student_above=None)
    assert report.documents == 5 and report.teacher_vectors == 0 and report.student_vectors == 0
    return root


@pytest.fixture(scope="module")
def embedder(lexical_index):
    return embedder_for_query(Index.open(lexical_index))


def test_text_is_searchable_before_any_vector(lexical_index):
    searcher = load_searcher(lexical_index)
    assert Index.open(lexical_index).dense is None
    hits = searcher.search("如皋到2025年要培育多少家高新技术企业?", k=5)
    assert hits and any("1000家" in h.text for h in hits)


def test_student_covers_the_library_in_the_models_space(lexical_index, embedder, tmp_path):
    from tests.helpers import copy_index

    root = copy_index(lexical_index, tmp_path / "index")
    messages: list[str] = []
    report = embed_job.cover_with_student(root, embedder, progress=messages.append, sample=100)
    index = Index.open(root)
    counts = index.counts()
    assert counts["teacher_vectors"] == 100 and counts["student_vectors"] == counts["passages"] - 100
    assert index.dense.coverage == counts["passages"]
    assert report.student["sample"] == 100 and 0.5 < report.student["held_out_cosine"] <= 1.0
    assert any("student fitted" in m for m in messages)
    student = embed_job.student_for(root, embedder)
    rows = np.flatnonzero(index.dense.kind == VECTOR_STUDENT)[:20]
    texts = [index.passage_text(c) for c in index.clause_rows(rows)]
    cosine = np.sum(student.encode_passages(texts) * embedder.encode_passages(texts), axis=1)
    assert np.median(cosine) > 0.8  # the student's vectors point where the model's do
    hits = load_searcher(root).search("飞地孵化器", k=5, mode="dense")
    assert hits and any("飞地" in h.text for h in hits)


def test_job_replaces_every_vector_with_the_models_and_resumes_after_a_kill(lexical_index, tmp_path):
    from tests.helpers import copy_index

    root = copy_index(lexical_index, tmp_path / "index")
    command = [sys.executable, "-m", "qa.cli", "--index", str(root), "embed", "--batch", "16"]
    child = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "HF_HUB_OFFLINE": "1"})
    progress = []
    for line in child.stderr:
        progress.append(line)
        if "model vectors" in line:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    counts = Index.open(root).counts()
    assert 16 <= counts["teacher_vectors"] < counts["passages"]
    assert counts["teacher_vectors"] % 16 == 0  # whole batches only
    assert "passages/s" in progress[-1] and "ETA" in progress[-1]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    index = Index.open(root)
    counts = index.counts()
    assert counts["teacher_vectors"] == counts["passages"] and index.dense.coverage == counts["passages"]
    assert set(np.unique(index.dense.kind)) == {VECTOR_TEACHER}
    assert "0 still without" in result.stdout


def test_marked_documents_get_the_models_vectors_first(lexical_index, embedder, tmp_path):
    from qa.feedback.store import FeedbackStore
    from qa.index.catalog import Catalog
    from qa.schemas import FeedbackRequest
    from tests.helpers import copy_index

    root = copy_index(lexical_index, tmp_path / "index")
    catalog = Catalog(root)
    newest = catalog.without_teacher(1)[0][1]
    rows = catalog.db.execute("SELECT doc_id, clause_id FROM passages ORDER BY pid").fetchall()
    marked = next(doc for doc, _ in rows if doc != newest)  # not the one the job would take anyway
    clause_ids = [c for doc, c in rows if doc == marked]
    FeedbackStore(catalog).add(FeedbackRequest(question="q", useful=clause_ids[:2]))
    assert {doc for _, doc, _ in catalog.without_teacher(len(clause_ids))} == {marked}
    catalog.close()

    report = embed_job.run(root, embedder, batch=16, marked_only=True)
    index = Index.open(root)
    teacher = {c.doc_id for c in index.clause_rows(np.flatnonzero(index.dense.kind == VECTOR_TEACHER))}
    assert teacher == {marked}
    assert report.remaining == index.counts()["passages"] - len(clause_ids) > 0


def test_service_reports_coverage_and_runs_the_job(lexical_index, tmp_path):
    import httpx

    from tests.helpers import copy_index
    from tests.ui_support import free_port, offline_env

    root = copy_index(lexical_index, tmp_path / "index")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "qa.cli", "--index", str(root), "serve", "--port", str(port)],
                              cwd=ROOT, env=offline_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"{url}/health", timeout=5, trust_env=False).json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert health is not None and health["embedder"]["name"] == "bundled:multilingual-e5-small"
        assert health["dense"]["model_vectors"] < health["passages"]
        # the job embeds the whole seed corpus (about a minute on a quiet machine, several while other work runs):
        # a wait, not a timing check
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            health = httpx.get(f"{url}/health", timeout=5, trust_env=False).json()
            if health["dense"]["model_vectors"] == health["passages"]:
                break
            time.sleep(1)
        assert health["dense"]["share_model"] == 1.0 and health["embed_job"]["runs"] >= 1
        hits = httpx.post(f"{url}/search", json={"query": "飞地孵化器", "mode": "dense", "k": 3},
                          timeout=30, trust_env=False).json()["hits"]
        assert hits and any("飞地" in h["text"] for h in hits)
    finally:
        server.terminate()
        server.wait(timeout=30)
