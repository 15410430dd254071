"""Segmented storage as a whole: persistence, atomic commits under SIGKILL, incremental ingest and removal,
merges, refreshed views, and document references in queries (segments on their own: ``test_segments.py``)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.index.catalog import Catalog
from qa.index.collection import EmbedderMismatchError, Index, IndexFormatError, segment_folder
from qa.index.merge_plan import all_alive_and_few
from qa.index.writer import IndexWriter, write_lock
from qa.ingest import ingest, remove
from qa.retrieval.service import load_searcher
from tests.conftest import ROOT
from tests.helpers import NEW_DOC, cli, copy_index, seed_index_copy, upload_variants

QUERIES = ["如皋到2025年要培育多少家高新技术企业?", "天使投资基金", "研发准备金制度", "科技金融贷款", "知识产权保护"]


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory) -> Path:
    return seed_index_copy(tmp_path_factory.mktemp("seed") / "index")


def results(index_dir: Path) -> list[list[tuple[str, float]]]:
    searcher = load_searcher(index_dir)
    return [[(h.passage_id, h.score) for h in searcher.search(q, k=10)] for q in QUERIES]


def test_reload_gives_identical_results(seed_index, tmp_path):
    before = results(seed_index)
    copy = copy_index(seed_index, tmp_path / "copy")
    assert results(copy) == before
    index = Index.open(copy)
    counts = index.counts()
    assert counts["documents"] == 5 and counts["passages"] == len(index.passages)
    assert counts["teacher_vectors"] == counts["passages"] and index.dense.coverage == counts["passages"]
    assert index.embedder_info["name"] == "bundled:multilingual-e5-small"


def test_old_format_is_refused_with_the_rebuild_command(tmp_path):
    (tmp_path / "CURRENT").write_text("gen-000001\n")
    with pytest.raises(IndexFormatError, match="qa ingest --rebuild"):
        Index.open(tmp_path)
    result = cli("search", "科技", index=tmp_path, check=False)
    assert result.returncode == 1 and "qa ingest --rebuild" in result.stderr and "Traceback" not in result.stderr


_KILL_CHILD = r"""
import sys, time, random
from pathlib import Path
import qa.index.writer as writer
pause = float(sys.argv[3])
original = writer.IndexWriter._write_batch
def slow(self, *args, **kwargs):
    print("WRITING", flush=True)
    time.sleep(pause)
    return original(self, *args, **kwargs)
writer.IndexWriter._write_batch = slow
from qa.ingest import ingest
ingest([Path(sys.argv[2])], Path(sys.argv[1]), teacher_passages=0)
print("DONE", flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.6, 1.5])
def test_kill_during_commit_leaves_the_last_commit(seed_index, tmp_path, delay):
    index_dir = copy_index(seed_index, tmp_path / "index")
    before = results(index_dir)
    folder = tmp_path / "new"
    folder.mkdir()
    for i in range(3):
        (folder / f"feidi{i}.txt").write_text(NEW_DOC.replace("测试市", f"测试{i}市"), encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", _KILL_CHILD, str(index_dir), str(folder), "0.3"], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    for line in child.stdout:
        if line.startswith(("WRITING", "DONE")):
            break
    time.sleep(delay)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    index = Index.open(index_dir)
    assert len(index.documents) in (5, 8)
    if len(index.documents) == 5:
        assert results(index_dir) == before
    with write_lock(index_dir, timeout=5):  # nobody holds the lock any more
        pass
    report = ingest([folder], index_dir)
    assert len(report.added) + len(report.unchanged) == 3
    assert len(Index.open(index_dir).documents) == 8
    registered = {segment_folder(index_dir, r.kind, r.seg).name for r in Index.open(index_dir).catalog.segments()}
    assert {p.name for p in (index_dir / "segments").iterdir()} == registered


def test_incremental_ingest_replace_and_removal(seed_index, tmp_path):
    index_dir = copy_index(seed_index, tmp_path / "index")
    old = Index.open(index_dir)
    old_vectors = {int(p): v for p, v in zip(old.rows.pids, old.dense.vectors_of(np.arange(len(old.passages))),
                                             strict=True)}
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "feidi.txt").write_text(NEW_DOC, encoding="utf-8")

    report = ingest([folder], index_dir)
    assert len(report.added) == 1 and not report.replaced
    index = Index.open(index_dir)
    assert len(index.documents) == 6
    new_id = report.added[0]
    assert len(index.passages) == len(old.passages) + len(index.documents[new_id].clauses)
    kept = index.dense.vectors_of(np.arange(len(old.passages)))  # old passages keep their rows and vectors
    for pid, vector in zip(index.rows.pids[:len(old.passages)], kept, strict=True):
        np.testing.assert_array_equal(vector, old_vectors[int(pid)])
    hits = load_searcher(index_dir).search("飞地孵化器 研发在上海", k=3)
    assert hits[0].doc_id == new_id

    assert ingest([folder], index_dir).unchanged == [new_id]
    (folder / "feidi.txt").write_text(NEW_DOC.replace("飞地孵化器2家", "飞地孵化器5家"), encoding="utf-8")
    report = ingest([folder], index_dir)
    assert report.replaced == [new_id] and not report.added
    index = Index.open(index_dir)
    assert sum("飞地孵化器5家" in c.text for c in index.passages) == 1
    assert not any("飞地孵化器2家" in c.text for c in index.passages)
    assert load_searcher(index_dir).search("飞地孵化器5家", k=1, mode="lexical")[0].doc_id == new_id

    assert remove([new_id], index_dir) == []
    index = Index.open(index_dir)
    assert [c.passage_id for c in index.passages] == [c.passage_id for c in old.passages]
    assert all(h.doc_id != new_id for h in load_searcher(index_dir).search("飞地孵化器 研发在上海", k=20))
    assert remove(["nope"], index_dir) == ["nope"]


def test_merge_compacts_segments_and_keeps_results(seed_index, tmp_path):
    index_dir = copy_index(seed_index, tmp_path / "index")
    ids = upload_variants(index_dir, tmp_path / "docs", 4)
    remove(ids[:2], index_dir)
    before = results(index_dir)
    with write_lock(index_dir):
        writer = IndexWriter(index_dir)
        assert writer.merge(force=True) >= 2
        writer.close()
    index = Index.open(index_dir)
    assert len(index.lexical.segments) == 1 and len(index.dense.segments) == 1
    assert len(index.lexical.segments[0].pids) == len(index.passages)
    for got, want in zip(results(index_dir), before, strict=True):
        assert [p for p, _ in got] == [p for p, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)


def test_unforced_merge_retires_a_dead_segment_and_is_skipped_when_nothing_is_due(seed_index, tmp_path):
    index_dir = copy_index(seed_index, tmp_path / "index")
    path = tmp_path / "plan.txt"
    path.write_text(NEW_DOC, encoding="utf-8")
    added = ingest([path], index_dir).added
    before = len(Catalog(index_dir).segments())
    remove(added, index_dir, merge=False)  # the new document's segments are now all dead rows
    with write_lock(index_dir):
        writer = IndexWriter(index_dir)
        assert not all_alive_and_few(writer.catalog, "lexical")  # the catalog's counts see the dead rows
        assert writer.merge() >= 2  # one lexical and one vector segment retired, unforced
        assert all_alive_and_few(writer.catalog, "lexical") and all_alive_and_few(writer.catalog, "vector")
        assert writer.merge() == 0  # nothing due: decided without loading a segment
        writer.close()
    assert len(Catalog(index_dir).segments()) <= before
    assert len(Index.open(index_dir).passages) == len(Index.open(seed_index).passages)


def test_lock_is_released_when_its_holder_dies(tmp_path):
    script = ("import sys, time; from pathlib import Path; from qa.index.writer import write_lock\n"
              "with write_lock(Path(sys.argv[1])):\n    print('HELD', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "HELD"
    from qa.index.writer import WriteLockTimeout

    messages = []
    with pytest.raises(WriteLockTimeout, match="another writer"):
        with write_lock(tmp_path, timeout=0.5, progress=messages.append):
            pass
    assert messages and "waiting" in messages[0]
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with write_lock(tmp_path, timeout=5):
        pass


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
    for mode in ("dense", "lexical"):
        hits = searcher.search("科技金融", k=5, mode=mode, filters=Filters(region=["涟水县"]))
        assert hits and {h.region for h in hits} == {"涟水县"}


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


def _same_view(derived: Index, fresh: Index) -> None:
    for name in ("pids", "doc_rows", "text_keys", "dense"):
        np.testing.assert_array_equal(getattr(derived.rows, name), getattr(fresh.rows, name), err_msg=name)
    assert derived.rows.doc_ids == fresh.rows.doc_ids and derived.generation == fresh.generation
    assert [m.model_dump() for m in derived.metas] == [m.model_dump() for m in fresh.metas]
    assert derived.counts() == fresh.counts()
    for got, want in zip(derived.lexical.row_maps, fresh.lexical.row_maps, strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_refreshed_view_reads_only_what_changed_and_equals_a_fresh_open(seed_index, tmp_path):
    index_dir = copy_index(seed_index, tmp_path / "index")
    folder = tmp_path / "docs"
    folder.mkdir()
    view = Index.open(index_dir)
    rng = random.Random(7)
    held: list[str] = []
    for step in range(8):
        action = rng.choice(["add", "add", "remove", "replace"]) if held else "add"
        if action == "add":
            path = folder / f"plan{step}.txt"
            path.write_text(NEW_DOC.replace("测试市", f"样例{step}市"), encoding="utf-8")
            held += ingest([path], index_dir, merge=False).added
        elif action == "remove":
            victim = held.pop(rng.randrange(len(held)))
            remove([victim], index_dir, merge=False)
        else:  # the same file with new content: the document keeps its id, its passages change
            path = sorted(folder.iterdir())[-1]
            path.write_text(path.read_text(encoding="utf-8").replace("2家", f"{step + 2}家"), encoding="utf-8")
            ingest([path], index_dir, merge=False)
        if step == 5:
            remove([d for d in Index.open(seed_index).rows.doc_ids[:1]], index_dir)  # with its merge
        refreshed = view.refresh()
        assert refreshed.rows.changed is not None and len(refreshed.rows.changed) <= 2  # not every document read
        _same_view(refreshed, Index.open(index_dir))
        view = refreshed
    # vectors added since the view (here: a repair's or the embedding job's kind of commit) → everything is read
    catalog = Catalog(index_dir)
    with catalog.write():
        catalog.record_commit("student vectors")
        catalog.set_dense(view.rows.pids[:3].tolist(), 0)
    refreshed = view.refresh()
    assert refreshed.rows.changed is None and (refreshed.rows.dense[:3] == 0).all()
    _same_view(refreshed, Index.open(index_dir))


def test_best_sentence_scores_equal_the_best_of_each_clauses_stored_sentences(seed_index):
    index = Index.open(seed_index)
    sentences = index.sentences
    assert sentences.segments and not sentences.table  # written as sentence segments, none in the SQLite table
    pids = index.rows.pids[np.isin(index.rows.pids, sentences.pids)].tolist()
    assert len(pids) > 20
    rng = np.random.default_rng(3)
    vector = rng.normal(size=sentences.segments[0].dim).astype(np.float32)
    wanted = [int(p) for p in rng.choice(pids, size=20, replace=False)] + [10**9]  # one pid without sentences
    best = sentences.best_scores(wanted, vector)
    stored = index.catalog.sentences(wanted)  # what qa.answers.evidence reads: the same segments
    assert set(best) == set(stored) and 10**9 not in best
    for pid, rows in stored.items():
        assert best[pid] == pytest.approx(max(float(v @ vector) for _, _, v in rows), abs=1e-5)
        assert [(s, e) for s, e, _ in rows] == sorted((s, e) for s, e, _ in rows)  # text order
    assert index.catalog.best_sentence_scores(wanted, vector) == best


def test_concurrent_reads_through_small_caches_return_the_right_clauses(seed_index, monkeypatch):
    """The service reads from many threads: clauses and documents come through shared LRU caches that evict while
    other threads read. Every thread gets the clause of the row it asked for, and no read fails."""
    import threading

    import qa.index.collection as collection
    import qa.index.corpus_views as corpus_views

    monkeypatch.setattr(collection, "CLAUSE_CACHE", 8)
    monkeypatch.setattr(corpus_views, "DOCUMENT_CACHE", 2)
    index = Index.open(seed_index)
    rows = np.arange(len(index.passages))
    stored = index.catalog.clauses([int(p) for p in index.rows.pids[rows]])
    expected = {int(r): stored[int(index.rows.pids[r])].text for r in rows}
    doc_ids = list(index.documents)
    errors: list[BaseException] = []
    wrong: list[int] = []

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(300):
                batch = rng.sample(range(len(rows)), 12)
                for row, clause in zip(batch, index.clause_rows(batch), strict=True):
                    if clause.text != expected[row]:
                        wrong.append(row)
                doc_id = rng.choice(doc_ids)
                assert index.documents[doc_id].meta.doc_id == doc_id
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, repr(errors[:3])
    assert not wrong


def test_searches_and_an_in_process_ingest_share_one_tokenizer(seed_index, tmp_path, monkeypatch):
    """jieba's dictionary costs about 2 s and 105 MB to load: the service's first upload must not load a second."""
    from qa.index import lexical

    index_dir = copy_index(seed_index, tmp_path / "index")
    used: set[int] = set()
    tokenize = lexical.Tokenizer.__call__
    monkeypatch.setattr(lexical.Tokenizer, "__call__", lambda self, text: used.add(id(self)) or tokenize(self, text))
    assert load_searcher(index_dir).search("飞地孵化器", k=3, mode="lexical")
    (tmp_path / "feidi.txt").write_text(NEW_DOC, encoding="utf-8")
    assert len(ingest([tmp_path / "feidi.txt"], index_dir, workers=1).added) == 1
    assert load_searcher(index_dir).search("飞地孵化器 研发在上海", k=1, mode="lexical")
    assert len(used) == 1 and Index.open(index_dir).get_tokenizer() is lexical.shared_tokenizer()
