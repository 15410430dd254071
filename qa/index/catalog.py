"""The catalog: documents, passages, segments and commits in one SQLite database (WAL).

It is the index's source of truth and its commit point. Lexical, vector and sentence segments are immutable
files written before the transaction that registers them; a passage is live exactly when its row is
in ``passages``, so a deleted document's postings and vectors become tombstones the moment its rows
go, and files of a commit that never happened are removed by ``orphans``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import Unavailable
from qa.index.live_rows import LiveRows, read_live_rows
from qa.schemas import Clause, Document, DocumentMeta

FORMAT_VERSION = 2
DATABASE = "qa.sqlite"
VECTOR_NONE, VECTOR_STUDENT, VECTOR_TEACHER = 0, 1, 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    doc_id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, meta TEXT NOT NULL, body TEXT NOT NULL,
    commit_no INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS passages(
    pid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL, passage_id TEXT NOT NULL,
    clause_id TEXT NOT NULL, clause TEXT NOT NULL, text_key INTEGER NOT NULL, dense INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS passages_by_doc ON passages(doc_id, ordinal);
CREATE INDEX IF NOT EXISTS passages_by_clause ON passages(clause_id);
CREATE INDEX IF NOT EXISTS passages_by_dense ON passages(dense);
CREATE TABLE IF NOT EXISTS segments(
    seg INTEGER PRIMARY KEY, kind TEXT NOT NULL, rows INTEGER NOT NULL, vector_kind INTEGER NOT NULL DEFAULT 0,
    commit_no INTEGER NOT NULL, files TEXT, passages INTEGER);
CREATE TABLE IF NOT EXISTS commits(commit_no INTEGER PRIMARY KEY, at TEXT NOT NULL, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sentences(
    pid INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, kind INTEGER NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (pid, start));
"""


class CatalogError(Unavailable):
    """The catalog is missing, of another format, or damaged."""


def file_digests(folder: Path) -> dict[str, list]:
    """[size, sha256] of every file of a segment folder."""
    digests = {}
    for path in sorted(Path(folder).iterdir()):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digests[path.name] = [path.stat().st_size, digest.hexdigest()]
    return digests


def text_key(text: str) -> int:
    """A 63-bit key of a clause's wording (whitespace ignored), to spot one clause in several versions."""
    digest = hashlib.blake2b(re.sub(r"\s", "", text).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


@dataclass(frozen=True)
class SegmentRecord:
    """A segment registered in the catalog."""

    seg: int
    kind: str  # "lexical", "vector" or "sentence"
    rows: int
    vector_kind: int = VECTOR_NONE
    files: dict | None = None  # file name → [size, sha256], checked at load (sizes) and by ``qa check`` (all)
    passages: int | None = None  # passages with rows (a sentence segment has several rows a passage)


class Catalog:
    """One connection to an index's SQLite catalog.

    Args:
        root: the index folder.
        create: create the database (and folder) when absent.
    """

    def __init__(self, root: Path, create: bool = False):
        self.root = Path(root)
        self.path = self.root / DATABASE
        if not self.path.exists() and not create:
            raise CatalogError(f"no index at {self.root}")
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            if create:
                self.db.executescript(SCHEMA)
                if self.get_info("format_version") is None:
                    self.set_info("format_version", FORMAT_VERSION)
                if self.get_info("catalog_id") is None:  # tells this catalog's commits from a rebuilt one's
                    self.set_info("catalog_id", uuid.uuid4().hex)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(segments)")}
            if columns and "files" not in columns:  # an index written before checksums were kept
                self.db.execute("ALTER TABLE segments ADD COLUMN files TEXT")
            if columns and "passages" not in columns and create:  # written before sentence segments (readers
                self.db.execute("ALTER TABLE segments ADD COLUMN passages INTEGER")  # leave the file alone)
                columns.add("passages")
            self._passages_column = not columns or "passages" in columns
            self.sentence_view = None  # set by the view that opened this catalog (``Index``): sentence segments
            self.db.execute("CREATE TABLE IF NOT EXISTS sentences(pid INTEGER NOT NULL, start INTEGER NOT NULL, "
                            "end INTEGER NOT NULL, kind INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (pid, start))")
            version = self.get_info("format_version")
        except sqlite3.DatabaseError as err:
            raise CatalogError(f"{self.path} is damaged: {err}") from err
        if version != FORMAT_VERSION:
            raise CatalogError(f"{self.path}: index format {version} is not {FORMAT_VERSION}; "
                               "rebuild it with `qa ingest --rebuild`")

    def close(self) -> None:
        self.db.close()

    # -- info --------------------------------------------------------------------------------------
    def get_info(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM info WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_info(self, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO info(key, value) VALUES (?, ?)",
                        (key, json.dumps(value, ensure_ascii=False)))

    @property
    def commit_no(self) -> int:
        row = self.db.execute("SELECT max(commit_no) FROM commits").fetchone()
        return int(row[0] or 0)

    # -- reading -----------------------------------------------------------------------------------
    def live_rows(self, previous: LiveRows | None = None) -> LiveRows:
        """Every live passage in reading order, in one consistent transaction (``previous``: the rows of an older
        commit, whose untouched documents are taken from it; see ``qa.index.live_rows``)."""
        return read_live_rows(self, previous)

    def metas(self, only: Iterable[str] | None = None) -> list[DocumentMeta]:
        """Metadata of every document (or of the documents ``only`` names), in reading order."""
        if only is None:
            return [DocumentMeta.model_validate_json(m) for (m,) in
                    self.db.execute("SELECT meta FROM documents ORDER BY seq")]
        wanted, found = list(only), []
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            found += self.db.execute(f"SELECT seq, meta FROM documents WHERE doc_id IN ({','.join('?' * len(chunk))})",
                                     chunk).fetchall()
        return [DocumentMeta.model_validate_json(m) for _, m in sorted(found)]

    def document(self, doc_id: str) -> Document | None:
        row = self.db.execute("SELECT meta, body FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        clauses = [Clause.model_validate_json(c) for (c,) in self.db.execute(
            "SELECT clause FROM passages WHERE doc_id = ? ORDER BY ordinal", (doc_id,))]
        return Document(meta=DocumentMeta.model_validate_json(row[0]), body=row[1], clauses=clauses)

    def clauses(self, pids: Iterable[int]) -> dict[int, Clause]:
        wanted = [int(p) for p in pids]
        found: dict[int, Clause] = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for pid, clause in self.db.execute(f"SELECT pid, clause FROM passages WHERE pid IN ({marks})", chunk):
                found[pid] = Clause.model_validate_json(clause)
        return found

    def pids_of_clause(self, clause_id: str) -> list[int]:
        return [p for (p,) in self.db.execute("SELECT pid FROM passages WHERE clause_id = ? ORDER BY ordinal",
                                              (clause_id,))]

    def known_hashes(self) -> dict[str, str]:
        """doc_id → sha256 of its source bytes."""
        return dict(self.db.execute("SELECT doc_id, json_extract(meta, '$.sha256') FROM documents"))

    def counts(self) -> dict[str, int]:
        documents, = self.db.execute("SELECT count(*) FROM documents").fetchone()
        passages, clauses = self.db.execute("SELECT count(*), count(DISTINCT clause_id) FROM passages").fetchone()
        by_kind = dict(self.db.execute("SELECT dense, count(*) FROM passages GROUP BY dense").fetchall())
        return {"documents": documents, "passages": passages, "clauses": clauses,
                "teacher_vectors": by_kind.get(VECTOR_TEACHER, 0), "student_vectors": by_kind.get(VECTOR_STUDENT, 0)}

    def segments(self, kind: str | None = None) -> list[SegmentRecord]:
        query = f"SELECT seg, kind, rows, vector_kind, files, {'passages' if self._passages_column else 'NULL'} " \
                "FROM segments"
        rows = self.db.execute(query + (" WHERE kind = ?" if kind else "") + " ORDER BY seg",
                               (kind,) if kind else ()).fetchall()
        return [SegmentRecord(*row[:4], files=json.loads(row[4]) if row[4] else None, passages=row[5])
                for row in rows]

    def next_id(self, key: str, count: int = 1) -> int:
        """Reserve ``count`` consecutive ids of a sequence (passage ids, segment numbers); never reused."""
        first = int(self.get_info(key, 1))
        self.set_info(key, first + count)
        return first

    def _marks(self) -> str:
        """SQL of (doc_id, marks): how many feedback records marked a clause of each document useful."""
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'feedback'").fetchone():
            return "SELECT NULL AS doc_id, 0 AS marks WHERE 0"
        return ("SELECT p.doc_id, count(DISTINCT f.id) AS marks FROM feedback f, json_each(f.useful) j "
                "JOIN passages p ON p.clause_id = j.value GROUP BY p.doc_id")

    def without_teacher(self, limit: int, marked_only: bool = False) -> list[tuple[int, str, str]]:
        """Up to ``limit`` live passages lacking a teacher vector: (pid, doc_id, clause json).

        Documents whose clauses officials marked useful come first, most marked first (those are the ones
        asked about, so they get the model's vectors before the rest of the library); then newest first.

        Args:
            limit: passages to return.
            marked_only: only passages of documents with a useful mark.
        """
        return self.db.execute(
            f"SELECT p.pid, p.doc_id, p.clause FROM passages p JOIN documents d USING (doc_id) "
            f"LEFT JOIN ({self._marks()}) m USING (doc_id) WHERE p.dense < ? AND (? = 0 OR m.marks > 0) "
            "ORDER BY coalesce(m.marks, 0) DESC, d.seq DESC, p.ordinal LIMIT ?",
            (VECTOR_TEACHER, int(marked_only), limit)).fetchall()

    def marked_counts(self) -> tuple[int, int]:
        """Passages of documents with a useful mark: (all of them, those with a teacher vector)."""
        total, done = self.db.execute(
            f"SELECT count(*), coalesce(sum(p.dense = ?), 0) FROM passages p JOIN ({self._marks()}) m USING (doc_id)",
            (VECTOR_TEACHER,)).fetchone()
        return int(total), int(done)

    # -- writing -----------------------------------------------------------------------------------
    def read(self):
        return _Transaction(self.db, "BEGIN")

    def write(self):
        return _Transaction(self.db, "BEGIN IMMEDIATE")

    def put_document(self, document: Document, pids: list[int], commit_no: int, dense: int) -> None:
        seq = self.next_id("next_doc_seq")
        self.db.execute("INSERT INTO documents(doc_id, seq, meta, body, commit_no) VALUES (?, ?, ?, ?, ?)",
                        (document.meta.doc_id, seq, document.meta.model_dump_json(), document.body, commit_no))
        self.db.executemany(
            "INSERT INTO passages(pid, doc_id, ordinal, passage_id, clause_id, clause, text_key, dense) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(pid, document.meta.doc_id, i, c.passage_id, c.clause_id, c.model_dump_json(), text_key(c.text), dense)
             for i, (pid, c) in enumerate(zip(pids, document.clauses, strict=True))])

    def drop_document(self, doc_id: str) -> bool:
        """Delete a document and its passages (their postings and vectors become tombstones)."""
        self.db.execute("DELETE FROM sentences WHERE pid IN (SELECT pid FROM passages WHERE doc_id = ?)", (doc_id,))
        self.db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
        return self.db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,)).rowcount > 0

    def add_segment(self, record: SegmentRecord, commit_no: int) -> None:
        self.db.execute("INSERT INTO segments(seg, kind, rows, vector_kind, commit_no, files, passages) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (record.seg, record.kind, record.rows, record.vector_kind, commit_no,
                         json.dumps(record.files) if record.files else None, record.passages))

    def drop_segments(self, segs: Iterable[int]) -> None:
        self.db.executemany("DELETE FROM segments WHERE seg = ?", [(s,) for s in segs])

    # -- the sentences table: sentence vectors of an index written before sentence segments ------------------
    def has_table_sentences(self) -> bool:
        """Whether the ``sentences`` table holds rows (only an index written before sentence segments has any)."""
        return self.db.execute("SELECT 1 FROM sentences LIMIT 1").fetchone() is not None

    def table_sentence_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(pid, its row count) of each live passage the ``sentences`` table holds rows of, by pid."""
        rows = self.db.execute("SELECT pid, count(*) FROM sentences WHERE pid IN (SELECT pid FROM passages) "
                               "GROUP BY pid ORDER BY pid").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64)

    def table_sentence_rows(self, pids: Iterable[int], columns: str = "pid, start, end, vector",
                            order: str = "pid, start") -> list[tuple]:
        """Rows of the ``sentences`` table for ``pids`` (in chunks SQLite accepts)."""
        wanted = [int(p) for p in pids]
        rows: list[tuple] = []
        for first in range(0, len(wanted), 900):
            chunk = wanted[first:first + 900]
            query = f"SELECT {columns} FROM sentences WHERE pid IN ({','.join('?' * len(chunk))}) ORDER BY {order}"
            rows.extend(self.db.execute(query, chunk).fetchall())
        return rows

    def table_sentences(self, pids: Iterable[int]) -> dict[int, list[tuple[int, int, np.ndarray]]]:
        """Sentence vectors of the ``sentences`` table by pid: [(start, end, float32 vector)] in text order."""
        found: dict[int, list[tuple[int, int, np.ndarray]]] = {}
        for pid, start, end, blob in self.table_sentence_rows(pids):
            found.setdefault(pid, []).append((start, end, np.frombuffer(blob, dtype=np.float16).astype(np.float32)))
        return found

    def table_best_sentence_scores(self, pids: Iterable[int], vector: np.ndarray) -> dict[int, float]:
        """Each pid's best sentence similarity to ``vector`` from the ``sentences`` table (pids without rows there
        are left out): one matrix product over every sentence of the pids."""
        rows = self.table_sentence_rows(pids, "pid, vector", "pid")
        if not rows:
            return {}
        owners = np.fromiter((pid for pid, _ in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float16).reshape(len(rows), -1)
        scores = matrix.astype(np.float32) @ vector.astype(np.float32)
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        return dict(zip(owners[starts].tolist(), np.maximum.reduceat(scores, starts).tolist(), strict=True))

    def sentences(self, pids: Iterable[int]) -> dict[int, list[tuple[int, int, np.ndarray]]]:
        """Stored sentence vectors by pid: [(start, end, float32 vector)] in text order, read through the opening
        view's sentence segments (``qa.index.sentence_segments``) when there is one, else from the table."""
        if self.sentence_view is not None:
            return self.sentence_view.sentences(pids)
        return self.table_sentences(pids)

    def best_sentence_scores(self, pids: Iterable[int], vector: np.ndarray) -> dict[int, float]:
        """Each pid's best stored sentence similarity to ``vector`` (pids without sentence vectors are left out),
        through the opening view's sentence segments when there is one, else from the table."""
        if self.sentence_view is not None:
            return self.sentence_view.best_scores(pids, vector)
        return self.table_best_sentence_scores(pids, vector)

    def set_dense(self, pids: Iterable[int], kind: int) -> None:
        self.db.executemany("UPDATE passages SET dense = ? WHERE pid = ?", [(kind, int(p)) for p in pids])

    def record_commit(self, note: str) -> int:
        number = self.commit_no + 1
        self.db.execute("INSERT INTO commits(commit_no, at, note) VALUES (?, ?, ?)",
                        (number, time.strftime("%Y-%m-%dT%H:%M:%S%z"), note))
        return number

    def check(self) -> list[str]:
        """SQLite's own integrity check; empty when the database is whole."""
        result = [r for (r,) in self.db.execute("PRAGMA integrity_check")]
        return [] if result == ["ok"] else result


class _Transaction:
    """A transaction; nested inside another one it joins the outer one."""

    def __init__(self, db: sqlite3.Connection, begin: str):
        self.db, self.begin = db, begin
        self.outer = False

    def __enter__(self):
        self.outer = not self.db.in_transaction
        if self.outer:
            self.db.execute(self.begin)
        return self.db

    def __exit__(self, kind, value, traceback):
        if self.outer:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        return False
