"""Persistence, atomic saves, incremental ingest and removal, and document references in queries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.index.collection import EmbedderMismatchError, Index, _load_tokens
from qa.ingest import ingest, remove
from qa.retrieval.service import load_searcher
from tests.conftest import ROOT
from tests.helpers import NEW_DOC, build_seed_index, cli, copy_index

QUERIES = ["如皋到2025年要培育多少家高新技术企业?", "天使投资基金", "研发准备金制度", "科技金融贷款", "知识产权保护"]


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory) -> Path:
    return build_seed_index(tmp_path_factory.mktemp("seed") / "index")


def results(index_dir: Path) -> list[list[tuple[str, float]]]:
    searcher = load_searcher(index_dir)
    return [[(h.passage_id, h.score) for h in searcher.search(q, k=10)] for q in QUERIES]


def test_reload_gives_identical_results(seed_index, tmp_path):
    before = results(seed_index)
    copy = copy_index(seed_index, tmp_path / "copy")
    assert results(copy) == before
    manifest = json.loads((copy / (copy / "CURRENT").read_text().strip() / "manifest.json").read_text())
    assert manifest["counts"]["documents"] == 5 and manifest["embedder"]["is_fallback"] is True
    assert set(manifest["files"]) >= {"documents.jsonl", "vectors.npy", "tokens.npz", "terms.txt"}


_KILL_CHILD = r"""
import sys, time
from pathlib import Path
import qa.index.store as store
original = store.file_sha256
def slow_sha256(path):
    print("SAVING", flush=True)
    time.sleep(0.3)
    return original(path)
store.file_sha256 = slow_sha256
from qa.ingest import ingest
ingest([Path(sys.argv[2])], Path(sys.argv[1]))
print("DONE", flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.5, 1.5])
def test_kill_during_save_leaves_previous_index_whole(seed_index, tmp_path, delay):
    index_dir = copy_index(seed_index, tmp_path / "index")
    before = results(index_dir)
    new_file = tmp_path / "new" / "feidi.txt"
    new_file.parent.mkdir()
    new_file.write_text(NEW_DOC, encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", _KILL_CHILD, str(index_dir), str(new_file)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    for line in child.stdout:
        if line.startswith("SAVING"):
            break
    time.sleep(delay)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    index = Index.open(index_dir)
    index.store.verify(index.store.current())
    assert len(index.documents) == 5
    assert results(index_dir) == before
    # the next ingest cleans the half-written generation up and succeeds
    report = ingest([new_file], index_dir)
    assert report.added and not list(index_dir.glob("gen-*.tmp"))
    assert len(Index.open(index_dir).documents) == 6


def test_incremental_ingest_and_removal(seed_index, tmp_path):
    index_dir = copy_index(seed_index, tmp_path / "index")
    old = Index.open(index_dir)
    old_rows = {c.passage_id: old.dense.vectors[i] for i, c in enumerate(old.passages)}
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "feidi.txt").write_text(NEW_DOC, encoding="utf-8")

    report = ingest([folder], index_dir)
    assert len(report.added) == 1 and not report.replaced
    index = Index.open(index_dir)
    assert len(index.documents) == 6
    new_id = report.added[0]
    assert len(index.passages) == len(old.passages) + len(index.documents[new_id].clauses)
    for i, clause in enumerate(index.passages):  # unchanged passages keep their vectors
        if clause.passage_id in old_rows:
            assert np.allclose(index.dense.vectors[i], old_rows[clause.passage_id])
    assert len(index.dense.vectors) == len(index.passages) == len(_load_tokens(index._tokens_path))
    hits = load_searcher(index_dir).search("飞地孵化器 研发在上海", k=3)
    assert hits[0].doc_id == new_id

    assert ingest([folder], index_dir).unchanged == [new_id]
    (folder / "feidi.txt").write_text(NEW_DOC.replace("飞地孵化器2家", "飞地孵化器5家"), encoding="utf-8")
    report = ingest([folder], index_dir)
    assert report.replaced == [new_id] and not report.added
    index = Index.open(index_dir)
    assert sum("飞地孵化器5家" in c.text for c in index.passages) == 1
    assert not any("飞地孵化器2家" in c.text for c in index.passages)

    assert remove([new_id], index_dir) == []
    index = Index.open(index_dir)
    assert [c.passage_id for c in index.passages] == [c.passage_id for c in old.passages]
    assert np.allclose(index.dense.vectors, old.dense.vectors)
    assert all(h.doc_id != new_id for h in load_searcher(index_dir).search("飞地孵化器 研发在上海", k=20))
    assert remove(["nope"], index_dir) == ["nope"]


def test_doc_number_query_finds_document(seed_index):
    searcher = load_searcher(seed_index)
    for query in ["涟政办发[2024]7号", "涟政办发（2024）7号是什么文件", "涟政办发〔2024〕7号"]:
        hits = searcher.search(query, k=5)
        assert hits[0].doc_number == "涟政办发〔2024〕7号" and "涟政办发〔2024〕7号" in hits[0].text
    hits = searcher.search("通科委办[2022]9号 主要目标", k=5)
    assert all(h.doc_number == "通科委办〔2022〕9号" for h in hits)


def test_title_query_restricts_to_document(seed_index):
    searcher = load_searcher(seed_index)
    hits = searcher.search("《涟水县域科技创新跃升行动计划(2024-2025年)》 高新技术企业", k=10)
    assert hits and all(h.doc_title.startswith("涟水") for h in hits)


def test_filters(seed_index):
    from qa.schemas import Filters

    searcher = load_searcher(seed_index)
    hits = searcher.search("高新技术企业", k=20, filters=Filters(region=["如皋市"]))
    assert hits and {h.region for h in hits} == {"如皋市"}
    hits = searcher.search("高新技术企业", k=20, filters=Filters(year_to=2019))
    assert hits and all(h.date < "2020" for h in hits)
    assert searcher.search("高新技术企业", filters=Filters(validity=["有效"]))[0].doc_number == "通科委办〔2022〕9号"


def test_other_embedder_is_refused(seed_index):
    index = Index.open(seed_index)

    class Other:
        name, dim, fingerprint = "other", 8, "f" * 16

    with pytest.raises(EmbedderMismatchError, match="qa ingest --rebuild"):
        index.check_embedder(Other())


def test_cli_bad_files_do_not_lose_index(seed_index, tmp_path):
    index_dir = copy_index(seed_index, tmp_path / "index")
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text(NEW_DOC, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "fake.pdf").write_bytes(b"hello")
    (folder / "binary.md").write_bytes(b"\x00\x01" * 100)
    result = cli("ingest", str(folder), "--quiet", index=index_dir, check=False)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3 and all(str(folder) in line for line in errors)
    docs = json.loads(cli("docs", "--json", index=index_dir).stdout)
    assert len(docs) == 6 and any(d["title"] == "测试市飞地孵化器建设实施方案" for d in docs)
    shown = json.loads(cli("show", docs[0]["doc_id"], "--json", index=index_dir).stdout)
    assert shown["clauses"] and shown["body"][shown["clauses"][0]["char_start"]:shown["clauses"][0]["char_end"]] \
        == shown["clauses"][0]["text"]
    assert cli("show", "nope", index=index_dir, check=False).returncode == 2
