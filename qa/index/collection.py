"""A read-only view of one commit of an index folder: the corpus, its lexical and dense search.

``Index.open`` reads the live rows of the catalog in one transaction and memory-maps the segments
they live in. Clauses and document bodies stay in SQLite and are read on demand (with a small cache),
so a law library's text is not held in memory (``Index.passages`` and ``Index.documents`` are the views
of ``qa.index.corpus_views``). The view never changes; a later commit is seen by opening a new view
(``Index.refresh``), which reuses the segments already loaded.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from qa.embed.base import Embedder
from qa.errors import Conflict
from qa.index.catalog import DATABASE, VECTOR_STUDENT, VECTOR_TEACHER, Catalog, CatalogError, LiveRows
from qa.index.corpus_views import DocumentMap, PassageList
from qa.index.lexical import Tokenizer, shared_tokenizer
from qa.index.milvus import MilvusVectorView, backend, milvus_store
from qa.index.postings import LexicalSegment, LexicalView
from qa.index.sentence_segments import SentenceSegment, SentenceView
from qa.index.vectors import VectorSegment, VectorView
from qa.schemas import Clause, DocumentMeta

log = logging.getLogger("qa.index")
SEGMENTS = "segments"
FOLDER_PREFIX = {"lexical": "lex", "vector": "vec", "sentence": "sen"}
LOADERS = {"lexical": LexicalSegment.load, "vector": VectorSegment.load, "sentence": SentenceSegment.load}
CLAUSE_CACHE = 4096


class EmbedderMismatchError(Conflict):
    """The index was built by another embedder than the one offered to query or extend it."""


class IndexFormatError(CatalogError):
    """The folder holds an index of an older format (or something else)."""


def passage_text(title: str, clause: Clause) -> str:
    """What is embedded and tokenised for a clause: its document title and heading path give it context."""
    path = " > ".join(clause.heading_path)
    return f"《{title}》 {path} {clause.text}".replace("  ", " ")


def segment_folder(root: Path, kind: str, seg: int) -> Path:
    return Path(root) / SEGMENTS / f"{FOLDER_PREFIX[kind]}-{seg:06d}"


def check_format(root: Path) -> None:
    """Refuse folders of the old whole-generation format with the command that rebuilds them."""
    root = Path(root)
    if not (root / DATABASE).exists() and (root / "CURRENT").exists():
        raise IndexFormatError(f"{root} holds an index of the previous format (generations); rebuild it with "
                               f"`qa ingest --rebuild --index {root} <your documents>`")


class Index:
    """One commit of an index folder, read-only.

    Args:
        root: the index folder.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.catalog: Catalog | None = None
        self.rows = LiveRows(pids=np.zeros(0, np.int64), doc_rows=np.zeros(0, np.int32),
                             text_keys=np.zeros(0, np.int64), dense=np.zeros(0, np.int8), doc_ids=[], commit_no=0)
        self.metas: list[DocumentMeta] = []
        self.lexical = LexicalView([], [], 0)
        self.dense: VectorView | None = None
        self.sentences = SentenceView([], [])
        self.embedder_info: dict | None = None
        self.student_info: dict | None = None
        self._counts: dict[str, int] = {"documents": 0, "passages": 0, "clauses": 0, "teacher_vectors": 0,
                                        "student_vectors": 0}
        self.damaged: list[str] = []
        self._loaded: dict[tuple[str, int], object] = {}
        self._clauses: OrderedDict[int, Clause] = OrderedDict()
        self._clauses_lock = threading.Lock()  # the service searches from many threads at once
        self.passages = PassageList(self)
        self.documents = DocumentMap(self)

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path, previous: Index | None = None, only: str | None = None) -> Index:
        """Open the latest commit (an empty view when the folder holds no index yet).

        Args:
            root: the index folder.
            previous: an older view of the same folder whose loaded segments may be reused.
            only: load the segments of this kind alone (``lexical``, ``vector`` or ``sentence``; a merge needs no
                other), or
                ``catalog``: the model and counts the index records, no rows.
        """
        index = cls(root)
        index._only = only
        check_format(index.root)
        if not (index.root / DATABASE).exists():
            return index
        index.catalog = Catalog(index.root)
        if previous is not None:
            index._loaded = dict(previous._loaded)
            index._previous = previous  # its rows and metadata of the documents no commit since has touched
        for attempt in range(3):  # a merge may retire a segment between reading the catalog and opening it
            try:
                index._load(missing_is_damage=attempt == 2)
                break
            except FileNotFoundError:
                time.sleep(0.05)
        index._previous = None  # views must not keep a chain of their predecessors alive
        return index

    def refresh(self) -> Index:
        """A view of the folder's latest commit, reusing what this one loaded."""
        return Index.open(self.root, previous=self)

    def _load(self, missing_is_damage: bool = False) -> None:
        catalog = self.catalog
        assert catalog is not None
        if getattr(self, "_only", None) == "catalog":  # what the index holds, not its rows (an ingest's check)
            with catalog.read():
                self.embedder_info = catalog.get_info("embedder")
                self.student_info = catalog.get_info("student")
                self._counts = catalog.counts()
            return
        previous = getattr(self, "_previous", None)
        with catalog.read():
            self.rows = catalog.live_rows(previous.rows if previous is not None else None)
            if self.rows.changed is None:
                self.metas = catalog.metas()
            else:  # the documents an older view holds unchanged keep its metadata
                kept = {m.doc_id: m for m in previous.metas if m.doc_id not in self.rows.changed}
                fresh = {m.doc_id: m for m in catalog.metas(only=self.rows.changed)}
                self.metas = [kept.get(d) or fresh[d] for d in self.rows.doc_ids]
            segments = catalog.segments()
            table_sentences = catalog.has_table_sentences()
            self.embedder_info = catalog.get_info("embedder")
            self.student_info = catalog.get_info("student")
        dense = np.bincount(self.rows.dense.astype(np.int64), minlength=3) if len(self.rows.dense) else np.zeros(3, int)
        self._counts = {"documents": len(self.rows.doc_ids), "passages": len(self.rows.pids),
                        "clauses": sum(self.rows.clauses.values()), "teacher_vectors": int(dense[VECTOR_TEACHER]),
                        "student_vectors": int(dense[VECTOR_STUDENT])}
        order = np.argsort(self.rows.pids, kind="stable")
        sorted_pids = self.rows.pids[order]

        def row_map(pids: np.ndarray) -> np.ndarray:
            position = np.searchsorted(sorted_pids, pids)
            position = np.minimum(position, max(len(sorted_pids) - 1, 0))
            found = (sorted_pids[position] == pids) if len(sorted_pids) else np.zeros(len(pids), bool)
            return np.where(found, order[position] if len(order) else -1, -1).astype(np.int64)

        lexical, lexical_maps = [], []
        vectors, vector_maps = [], []
        sentences, sentence_live = [], []
        self.damaged = []
        for record in segments:
            if getattr(self, "_only", None) and record.kind != self._only:
                continue
            key = (record.kind, record.seg)
            if key not in self._loaded:
                folder = segment_folder(self.root, record.kind, record.seg)
                try:
                    problem = _size_problem(folder, record.files)
                except FileNotFoundError:
                    if not missing_is_damage:
                        raise
                    problem = f"{folder.name} is missing"
                if problem is None:
                    try:
                        self._loaded[key] = LOADERS[record.kind](folder, record.seg)
                    except FileNotFoundError:
                        if not missing_is_damage:
                            raise
                        problem = f"{folder.name} is missing"
                    except Exception as err:  # a damaged file: serve the rest, say what is wrong
                        problem = f"{folder.name}: cannot be read ({type(err).__name__}: {err})"
                if problem is not None:
                    log.error("index %s is damaged: %s; run `qa check --repair`", self.root, problem)
                    self.damaged.append(problem)
                    continue
            segment = self._loaded[key]
            if record.kind == "lexical":
                lexical.append(segment)
                lexical_maps.append(row_map(segment.pids))
            elif record.kind == "sentence":
                sentences.append(segment)
                sentence_live.append(row_map(segment.pids) >= 0)
            else:
                vectors.append(segment)
                vector_maps.append(row_map(segment.pids))
        live_keys = {(r.kind, r.seg) for r in segments}
        self._loaded = {k: v for k, v in self._loaded.items() if k in live_keys}
        size = len(self.rows.pids)
        self.lexical = LexicalView(lexical, lexical_maps, size)
        self.sentences = SentenceView(sentences, sentence_live, catalog, table_sentences)
        catalog.sentence_view = self.sentences  # what ``catalog.sentences`` reads (qa.answers.evidence asks it)
        seen = np.zeros(size, dtype=bool)
        for i in range(len(vector_maps) - 1, -1, -1):  # a newer segment's vector replaces an older one's
            mapped = vector_maps[i]
            alive = mapped >= 0
            superseded = np.zeros(len(mapped), dtype=bool)
            superseded[alive] = seen[mapped[alive]]
            mapped = np.where(superseded, -1, mapped)
            seen[mapped[mapped >= 0]] = True
            vector_maps[i] = mapped
        dim = int((self.embedder_info or {}).get("dim") or 0)
        self.dense = VectorView(vectors, vector_maps, size, dim) if vectors and dim else None
        if dim and getattr(self, "_only", None) in (None, "vector") and backend() == "milvus":
            self.dense = MilvusVectorView(milvus_store(dim), self.rows.pids, self.rows.dense, self.rows.doc_rows,
                                          self.rows.doc_ids, dim)

    # -- the corpus ---------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        """The commit this view shows (0 for an empty index)."""
        return int(self.rows.commit_no)

    @property
    def doc_order(self) -> list[str]:
        return self.rows.doc_ids

    @property
    def passage_doc(self) -> np.ndarray:
        return self.rows.doc_rows

    def meta(self, doc_id: str) -> DocumentMeta | None:
        position = self._doc_position().get(doc_id)
        return self.metas[position] if position is not None else None

    def _doc_position(self) -> dict[str, int]:
        if not hasattr(self, "_positions"):
            self._positions = {d: i for i, d in enumerate(self.rows.doc_ids)}
        return self._positions

    def clause_rows(self, rows: np.ndarray | list[int]) -> list[Clause]:
        """The clauses of live ``rows``, read from the catalog (cached)."""
        pids = [int(self.rows.pids[r]) for r in rows]
        with self._clauses_lock:
            found = {p: self._clauses[p] for p in pids if p in self._clauses}
        missing = [p for p in pids if p not in found]
        if missing and self.catalog is not None:
            found.update(self.catalog.clauses(missing))
        with self._clauses_lock:  # another thread may have evicted what this one read: keep its own copies
            for pid in pids:
                self._clauses[pid] = found[pid]
                self._clauses.move_to_end(pid)
            while len(self._clauses) > CLAUSE_CACHE:
                self._clauses.popitem(last=False)
        return [found[p] for p in pids]

    def body_slice(self, doc_id: str, start: int, end: int) -> str:
        """``body[start:end]`` of a document, read from the catalog without loading the whole body."""
        if self.catalog is None:
            return ""
        found = self.catalog.db.execute("SELECT substr(body, ?, ?) FROM documents WHERE doc_id = ?",
                                        (start + 1, max(end - start, 0), doc_id)).fetchone()
        return found[0] if found else ""

    def mentions(self, text: str) -> bool:
        """Whether any document's body contains ``text`` verbatim."""
        if self.catalog is None or not text:
            return False
        return self.catalog.db.execute("SELECT 1 FROM documents WHERE instr(body, ?) > 0 LIMIT 1",
                                       (text,)).fetchone() is not None

    def clause_span(self, clause_id: str) -> tuple[int, int]:
        """(first char_start, last char_end) over the parts of a clause."""
        assert self.catalog is not None
        parts = self.catalog.clauses(self.catalog.pids_of_clause(clause_id)).values()
        return min(c.char_start for c in parts), max(c.char_end for c in parts)

    def rows_of_clause(self, clause_id: str) -> list[int]:
        """The live rows of a clause's passages (one, or one per part)."""
        if self.catalog is None:
            return []
        if not hasattr(self, "_pid_order"):
            self._pid_order = np.argsort(self.rows.pids, kind="stable")
        pids = np.array(self.catalog.pids_of_clause(clause_id), dtype=np.int64)
        if not len(pids) or not len(self.rows.pids):
            return []
        sorted_pids = self.rows.pids[self._pid_order]
        position = np.minimum(np.searchsorted(sorted_pids, pids), len(sorted_pids) - 1)
        found = sorted_pids[position] == pids
        return [int(r) for r in self._pid_order[position[found]]]

    def row_of_passage(self, passage_id: str) -> int | None:
        """The live row of a passage by its string id."""
        if self.catalog is None:
            return None
        found = self.catalog.db.execute("SELECT pid FROM passages WHERE passage_id = ?", (passage_id,)).fetchone()
        if found is None:
            return None
        rows = np.flatnonzero(self.rows.pids == found[0])
        return int(rows[0]) if len(rows) else None

    def get_tokenizer(self) -> Tokenizer:
        return shared_tokenizer()

    def passage_text(self, clause: Clause) -> str:
        meta = self.meta(clause.doc_id)
        return passage_text(meta.title if meta else "", clause)

    def counts(self) -> dict[str, int]:
        """Documents, passages, clauses and vectors of this view's commit (read with it: /health reports what
        searches see, not a commit the service has not loaded yet)."""
        return dict(self._counts)

    def check_embedder(self, embedder: Embedder) -> None:
        """Refuse an embedder other than the one whose vectors the index holds."""
        info = self.embedder_info
        if info and len(self.rows.pids) and info.get("fingerprint") != embedder.fingerprint:
            raise EmbedderMismatchError(
                f"index at {self.root} was built with embedder {info.get('name')!r} "
                f"(dim {info.get('dim')}, fingerprint {info.get('fingerprint')}); the embedder in use is "
                f"{embedder.name!r} (dim {embedder.dim}, fingerprint {embedder.fingerprint}). "
                "Run `qa ingest --rebuild` to re-embed with the current one.")

    @property
    def embedder_dir(self) -> Path | None:
        """The corpus-trained fallback model kept in the index, if the index uses it."""
        folder = (self.embedder_info or {}).get("folder")
        return self.root / folder if folder else None

    def describe(self) -> str:
        return json.dumps({"root": str(self.root), "commit": self.generation, **self.counts()})


def _size_problem(folder: Path, files: dict | None) -> str | None:
    """What is wrong with a segment folder's files, judged by their recorded sizes (None: nothing seen)."""
    if not files:
        return None
    for name, (size, _digest) in files.items():
        path = folder / name
        if not path.exists():
            if not folder.exists():
                raise FileNotFoundError(folder)  # retired by a merge since the catalog was read: reload
            return f"{folder.name}/{name} is missing"
        if path.stat().st_size != size:
            return f"{folder.name}/{name} has {path.stat().st_size} bytes where {size} were written"
    return None
