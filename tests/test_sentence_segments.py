"""Sentence segments on a real index: exact rows after uploads, deletes and merges, newer vectors superseding
older ones, an index whose sentences are in the SQLite table (read, then moved by a forced merge), ``qa check``,
and interrupted writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.index.catalog import VECTOR_STUDENT, VECTOR_TEACHER, Catalog
from qa.index.check import check
from qa.index.collection import Index, segment_folder
from qa.index.writer import IndexWriter, write_lock
from qa.ingest import ingest, remove
from tests.helpers import NEW_DOC, cli, copy_index, seed_index_copy, upload_variants


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory) -> Path:
    return seed_index_copy(tmp_path_factory.mktemp("seed") / "index")


def all_sentences(index: Index) -> dict[int, list[tuple[int, int, np.ndarray]]]:
    return index.sentences.sentences(index.rows.pids.tolist())


def assert_same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for pid, rows in want.items():
        assert [(s, e) for s, e, _ in got[pid]] == [(s, e) for s, e, _ in rows]
        np.testing.assert_array_equal(np.stack([v for _, _, v in got[pid]]), np.stack([v for _, _, v in rows]))


def merge(root: Path, force: bool = True) -> int:
    with write_lock(root):
        writer = IndexWriter(root)
        try:
            return writer.merge(force=force)
        finally:
            writer.close()


def segment_pids(root: Path) -> np.ndarray:
    catalog = Catalog(root)
    try:
        return np.concatenate([np.load(segment_folder(root, "sentence", r.seg) / "pids.npy")
                               for r in catalog.segments("sentence")])
    finally:
        catalog.close()


def test_sentences_stay_exact_after_upload_delete_and_merge(seed_index, tmp_path):
    root = copy_index(seed_index, tmp_path / "index")
    added = upload_variants(root, tmp_path / "docs", 3, merge=False)
    before = Index.open(root)
    gone = before.rows.pids[np.isin(before.rows.doc_rows, [before.doc_order.index(d) for d in added[:2]])]
    assert len(gone) and set(gone.tolist()) <= set(before.sentences.pids.tolist())
    remove(added[:2], root, merge=False)
    live = Index.open(root)
    want = all_sentences(live)
    assert not set(gone.tolist()) & set(want)  # a deleted passage's rows are dead at once
    assert len(live.sentences.segments) > 1 and merge(root) >= 2
    merged = Index.open(root)
    assert len(merged.sentences.segments) == 1
    assert_same(all_sentences(merged), want)
    kept = segment_pids(root)
    assert not np.isin(gone, kept).any()  # the merge dropped the deleted passages' rows
    assert set(kept.tolist()) == set(want)
    assert merged.catalog.segments("sentence")[0].passages == len(want)


def test_newer_sentence_vectors_supersede_older_ones_and_merge_keeps_only_them(seed_index, tmp_path):
    root = copy_index(seed_index, tmp_path / "index")
    index = Index.open(root)
    old = all_sentences(index)
    changed = sorted(old)[::3]
    rng = np.random.default_rng(0)
    rows = []
    for pid in changed:  # the embedding job's kind of commit: a passage's vector and its sentences' anew
        for start, end, vector in old[pid]:
            fresh = rng.normal(size=vector.shape).astype(np.float32)
            rows.append((pid, start, end, fresh / np.linalg.norm(fresh)))
    row_of = {int(p): i for i, p in enumerate(index.rows.pids)}
    matrix = index.dense.vectors_of(np.array([row_of[p] for p in changed]))  # the clause vectors, unchanged
    with write_lock(root):
        writer = IndexWriter(root)
        assert writer.add_vectors(np.array(changed, dtype=np.int64), matrix, VECTOR_TEACHER, sentences=rows) \
            == len(changed)
        writer.close()
    want = {pid: list(r) for pid, r in old.items()}
    for pid in changed:
        want[pid] = [(s, e, v.astype(np.float16).astype(np.float32)) for p, s, e, v in rows if p == pid]
    updated = Index.open(root)
    assert_same(all_sentences(updated), want)
    query = rng.normal(size=matrix.shape[1]).astype(np.float32)
    best = updated.sentences.best_scores(changed, query)
    for pid in changed:
        assert best[pid] == pytest.approx(max(float(v @ query) for _, _, v in want[pid]), abs=1e-6)
    merge(root)
    kept = segment_pids(root)
    assert len(kept) == sum(len(r) for r in want.values())  # superseded rows are gone, each passage once
    assert_same(all_sentences(Index.open(root)), want)


def table_index(seed_index: Path, target: Path) -> Path:
    """A copy of the seed index as written before sentence segments: its sentence rows in the SQLite table."""
    root = copy_index(seed_index, target)
    index = Index.open(root)
    stored = all_sentences(index)
    catalog = Catalog(root, create=True)
    with catalog.write():
        catalog.db.executemany("INSERT INTO sentences(pid, start, end, kind, vector) VALUES (?, ?, ?, ?, ?)",
                               [(pid, s, e, VECTOR_TEACHER, v.astype(np.float16).tobytes())
                                for pid, rows in stored.items() for s, e, v in rows])
        records = catalog.segments("sentence")
        catalog.drop_segments(r.seg for r in records)
    catalog.close()
    for record in records:
        shutil.rmtree(segment_folder(root, "sentence", record.seg))
    return root


def test_an_index_with_sentences_in_the_sqlite_table_still_scores_and_a_forced_merge_moves_them(seed_index, tmp_path):
    want = all_sentences(Index.open(seed_index))
    root = table_index(seed_index, tmp_path / "index")
    old = Index.open(root)
    assert not old.sentences.segments and old.sentences.table
    assert_same(all_sentences(old), want)
    query = np.random.default_rng(1).normal(size=next(iter(want.values()))[0][2].shape[0]).astype(np.float32)
    pids = sorted(want)
    best = old.sentences.best_scores(pids, query)
    assert best == Index.open(seed_index).sentences.best_scores(pids, query)
    # a new upload writes a segment; the old passages are still read from the table
    path = tmp_path / "plan.txt"
    path.write_text(NEW_DOC, encoding="utf-8")
    ingest([path], root)
    mixed = Index.open(root)
    assert len(mixed.sentences.segments) == 1 and mixed.sentences.table
    assert mixed.sentences.best_scores(pids, query) == best
    merge(root)
    moved = Index.open(root)
    assert len(moved.sentences.segments) == 1 and not moved.sentences.table
    assert not moved.catalog.has_table_sentences()
    assert moved.sentences.best_scores(pids, query) == best
    assert_same({p: r for p, r in all_sentences(moved).items() if p in want}, want)
    assert check(root).ok


def test_check_finds_a_damaged_sentence_segment_and_repair_drops_it(seed_index, tmp_path):
    root = copy_index(seed_index, tmp_path / "index")
    assert check(root).ok
    record = Catalog(root).segments("sentence")[0]
    vectors = segment_folder(root, "sentence", record.seg) / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))
    report = check(root)
    assert not report.ok and any(f"sen-{record.seg:06d}" in p for p in report.problems)
    assert check(root, repair=True).ok and check(root).ok
    assert record.seg not in {s.seg for s in Index.open(root).sentences.segments}


def test_an_uncommitted_sentence_segment_is_an_orphan_removed_by_the_next_writer(seed_index, tmp_path):
    root = copy_index(seed_index, tmp_path / "index")
    index = Index.open(root)
    pid = int(index.sentences.pids[0])
    rows = [(pid, s, e, v) for s, e, v in index.sentences.sentences([pid])[pid]]
    from qa.index.sentence_segments import write_segment

    orphan = segment_folder(root, "sentence", 999_999)
    write_segment(orphan, rows)  # written, never registered: a write killed before its commit
    staging = orphan.with_name(orphan.name + ".tmp")
    staging.mkdir()
    assert 999_999 not in {s.seg for s in Index.open(root).sentences.segments}
    with write_lock(root):
        IndexWriter(root).close()
    assert not orphan.exists() and not staging.exists()


def test_student_then_model_vectors_keep_the_newest_sentences(seed_index, tmp_path):
    """The ingest writes the student's sentence vectors, the embedding job the model's later: newest wins."""
    root = copy_index(seed_index, tmp_path / "index")
    index = Index.open(root)
    pid = int(index.sentences.pids[0])
    model = index.sentences.sentences([pid])[pid]
    row = int(np.flatnonzero(index.rows.pids == pid)[0])
    vector = index.dense.vectors_of(np.array([row]))
    student = [(pid, s, e, -v) for s, e, v in model]
    with write_lock(root):
        writer = IndexWriter(root)
        writer.add_vectors(np.array([pid]), vector, VECTOR_STUDENT, sentences=student)
        assert Index.open(root).sentences.sentences([pid])[pid][0][2][0] == -model[0][2][0]
        writer.add_vectors(np.array([pid]), vector, VECTOR_TEACHER, sentences=[(pid, s, e, v) for s, e, v in model])
        writer.close()
    assert_same(Index.open(root).sentences.sentences([pid]), {pid: model})


def test_qa_check_names_the_older_sentence_storage_and_qa_compact_all_moves_it(seed_index, tmp_path):
    """The command line migrates an index written before sentence segments: ``qa check`` says how, ``qa compact
    --all`` does it in one commit, and the search results stay the same."""
    root = table_index(seed_index, tmp_path / "index")
    before = json.loads(cli("search", "高新技术企业", "--json", index=root).stdout)
    assert "qa compact --all" in cli("check", index=root).stdout
    assert json.loads(cli("check", "--json", index=root).stdout)["older_sentences"]
    moved = json.loads(cli("compact", "--all", "--json", index=root).stdout)
    assert moved["sentences_moved"]
    assert not json.loads(cli("check", "--json", index=root).stdout)["older_sentences"]
    assert "qa compact --all" not in cli("check", index=root).stdout
    assert len(Index.open(root).sentences.segments) == 1
    assert json.loads(cli("search", "高新技术企业", "--json", index=root).stdout) == before
    again = json.loads(cli("compact", "--json", index=root).stdout)  # nothing left to move or merge
    assert again == {"retired_segments": 0, "sentences_moved": False}
