"""``qa check``: verify an index — SQLite's integrity, every segment file against its recorded checksum, rows
that point nowhere, sentence segments whose files disagree — and, with ``repair``, rebuild what can be rebuilt
from the catalog: a damaged lexical segment is re-tokenised from the clauses' text, a damaged vector segment is
dropped (its passages lose the vectors, which the embedding job computes again), and so is a damaged sentence
segment (its clauses are scored by their own vector alone, and answers encode their sentences when quoting them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.index.catalog import VECTOR_NONE, Catalog, SegmentRecord, file_digests
from qa.index.collection import Index, passage_text, segment_folder
from qa.index.lexical import shared_tokenizer
from qa.index.postings import write_segment
from qa.index.sentence_segments import SentenceSegment
from qa.index.writer import IndexWriter, write_lock


@dataclass
class CheckReport:
    """What ``check`` found (and repaired)."""

    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    segments: int = 0
    passages: int = 0
    older_sentences: bool = False  # sentence vectors still in the catalog's table (an index from before segments)

    @property
    def ok(self) -> bool:
        return not self.problems or len(self.repaired) == len(self.problems)


def damaged_segments(root: Path, catalog: Catalog) -> list[tuple[SegmentRecord, str]]:
    found = []
    for record in catalog.segments():
        folder = segment_folder(root, record.kind, record.seg)
        if not folder.is_dir():
            found.append((record, f"{folder.name} is missing"))
            continue
        if not record.files:
            continue
        actual = file_digests(folder)
        for name, (size, digest) in record.files.items():
            if name not in actual:
                found.append((record, f"{folder.name}/{name} is missing"))
                break
            if actual[name] != [size, digest]:
                found.append((record, f"{folder.name}/{name} does not match its checksum"))
                break
        else:
            if record.kind == "sentence":
                found += [(record, problem) for problem in [_sentence_problem(folder, record)] if problem]
    return found


def _sentence_problem(folder: Path, record: SegmentRecord) -> str | None:
    """What is inconsistent in a sentence segment whose checksums hold (rows, spans, vectors, passages)."""
    try:
        segment = SentenceSegment.load(folder, record.seg)
    except Exception as err:
        return f"{folder.name}: cannot be read ({err})"
    if segment.rows != record.rows or record.passages not in (None, len(segment.pids)):
        return f"{folder.name}: {segment.rows} rows of {len(segment.pids)} passages, recorded {record.rows} of " \
               f"{record.passages}"
    return None


def check(root: Path, repair: bool = False) -> CheckReport:
    """Verify the index at ``root``; with ``repair``, rebuild or drop damaged segments in one commit each."""
    report = CheckReport()
    catalog = Catalog(root)
    try:
        report.problems += [f"SQLite: {p}" for p in catalog.check()]
        damaged = damaged_segments(root, catalog)
        report.segments = len(catalog.segments())
        report.passages = catalog.counts()["passages"]
        report.older_sentences = catalog.has_table_sentences()
    finally:
        catalog.close()
    report.problems += [problem for _, problem in damaged]
    if repair and damaged:
        with write_lock(root):
            writer = IndexWriter(root)
            try:
                for record, problem in damaged:
                    _repair(writer, record)
                    report.repaired.append(problem)
            finally:
                writer.close()
    return report


def _repair(writer: IndexWriter, record: SegmentRecord) -> None:
    catalog = writer.catalog
    with catalog.write():
        catalog.record_commit(f"repair segment {record.seg}")
        if record.kind == "sentence":  # its clauses are scored by their own vector; answers encode their sentences
            catalog.drop_segments([record.seg])
            return
        if record.kind == "vector":
            # passages whose vector lived only there lose it; the embedding job computes it again
            catalog.drop_segments([record.seg])
            view_pids = _pids_without_vectors(writer.root, catalog)
            catalog.set_dense(view_pids, VECTOR_NONE)
            return
        pids = _lexical_pids(writer.root, record, catalog)
        rows = catalog.clauses(pids)
        titles = {m.doc_id: m.title for m in catalog.metas()}
        tokenizer = shared_tokenizer()
        kept = [p for p in pids if p in rows]
        tokens = [tokenizer(passage_text(titles.get(rows[p].doc_id, ""), rows[p])) for p in kept]
        seg = catalog.next_id("next_segment")
        folder = segment_folder(writer.root, "lexical", seg)
        write_segment(folder, np.array(kept, dtype=np.int64), tokens)
        catalog.drop_segments([record.seg])
        catalog.add_segment(SegmentRecord(seg, "lexical", len(kept), files=file_digests(folder)), catalog.commit_no)


def _lexical_pids(root: Path, record: SegmentRecord, catalog: Catalog) -> list[int]:
    """The live passages a lexical segment held (its own pid file if readable, else those no other segment has)."""
    try:
        return [int(p) for p in np.load(segment_folder(root, "lexical", record.seg) / "pids.npy")]
    except Exception:
        covered: set[int] = set()
        for other in catalog.segments("lexical"):
            if other.seg == record.seg:
                continue
            try:
                covered |= {int(p) for p in np.load(segment_folder(root, "lexical", other.seg) / "pids.npy")}
            except Exception:
                continue
        return [p for (p,) in catalog.db.execute("SELECT pid FROM passages") if p not in covered]


def _pids_without_vectors(root: Path, catalog: Catalog) -> list[int]:
    held: set[int] = set()
    for record in catalog.segments("vector"):
        try:
            held |= {int(p) for p in np.load(segment_folder(root, "vector", record.seg) / "pids.npy")}
        except Exception:
            continue
    return [p for (p,) in catalog.db.execute("SELECT pid FROM passages") if p not in held]


def describe(root: Path) -> str:
    index = Index.open(root)
    counts = index.counts()
    return (f"{counts['documents']} documents, {counts['passages']} passages, "
            f"{len(index.lexical.segments)} lexical, {len(getattr(index.dense, 'segments', []))} vector and "
            f"{len(index.sentences.segments)} sentence segments")

