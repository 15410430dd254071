"""Which passages are live in a commit, in reading order: read whole, or derived from an older commit's rows.

After a write the service needs the new commit's rows. Reading all of them (170k passages in the law library)
costs a second; but a commit that adds, replaces or removes documents leaves every other document's passages
as they were. The commit log says whether every commit since an older view was of that kind; then the
untouched documents keep the older view's rows and only the others are read. A rebuilt catalog, which numbers
its commits anew, is told apart by its id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qa.index.catalog import Catalog

# commits that change no passage of a document they leave in place (a merge rewrites segments, not passages):
# an older view's rows of the documents they kept stand (vectors added or a repair may change any passage's kind)
_ROWS_KEPT = re.compile(r"^(?:ingest|remove|merge)\b")


@dataclass(frozen=True)
class LiveRows:
    """The live passages in reading order (documents by ``seq``, passages by ordinal).

    Args:
        pids: passage ids (int64), one a row.
        doc_rows: each row's document position in ``doc_ids``.
        text_keys: each row's wording key.
        dense: each row's vector kind (0 none, 1 student, 2 teacher).
        doc_ids: documents in reading order.
        commit_no: the commit these rows belong to.
    """

    pids: np.ndarray
    doc_rows: np.ndarray
    text_keys: np.ndarray
    dense: np.ndarray
    doc_ids: list[str]
    commit_no: int
    clauses: dict[str, int] = field(default_factory=dict)  # doc_id → its number of clauses
    changed: set[str] | None = None  # documents read afresh when derived from an older view (None: all)
    stamp: str = ""  # when commit ``commit_no`` was made (a rebuilt catalog numbers its commits anew)


def read_live_rows(catalog: Catalog, previous: LiveRows | None = None) -> LiveRows:
    """Every live passage in reading order, read in one consistent transaction.

    Args:
        previous: the rows of an older commit of this catalog: when every commit since only added,
            replaced or removed documents (or merged postings), the documents it kept are taken from it
            and only the others are read (a delete in a 170k-passage library reads nothing but the list
            of documents).
    """
    with catalog.read():
        docs = catalog.db.execute("SELECT doc_id, seq, commit_no FROM documents ORDER BY seq").fetchall()
        commit_no = catalog.commit_no
        stamp = _stamp(catalog, commit_no)
        if previous is not None and _rows_kept_since(catalog, previous):
            derived = _rows_since(catalog, previous, docs, commit_no, stamp)
            if derived is not None:
                return derived
        rows = catalog.db.execute(
            "SELECT p.pid, d.seq, p.text_key, p.dense FROM passages p JOIN documents d USING (doc_id) "
            "ORDER BY d.seq, p.ordinal").fetchall()
        clauses = dict(catalog.db.execute("SELECT doc_id, count(DISTINCT clause_id) FROM passages GROUP BY doc_id"))
    position = {seq: i for i, (_, seq, _) in enumerate(docs)}
    array = np.array(rows, dtype=np.int64).reshape(-1, 4)
    doc_rows = np.array([position[s] for s in array[:, 1].tolist()], dtype=np.int32)
    return LiveRows(pids=array[:, 0].copy(), doc_rows=doc_rows, text_keys=array[:, 2].copy(),
                    dense=array[:, 3].astype(np.int8), doc_ids=[d for d, _, _ in docs], commit_no=commit_no,
                    clauses=clauses, stamp=stamp)

def _stamp(catalog: Catalog, commit_no: int) -> str:
    """This catalog's identity with the commit's time and note ('' for a catalog written without one)."""
    identity = catalog.get_info("catalog_id")
    row = catalog.db.execute("SELECT at || ' ' || note FROM commits WHERE commit_no = ?", (commit_no,)).fetchone()
    return f"{identity} {row[0]}" if identity and row else ""

def _rows_kept_since(catalog: Catalog, previous: LiveRows) -> bool:
    if not previous.stamp or _stamp(catalog, previous.commit_no) != previous.stamp:
        return False  # not this catalog's commit (the index was rebuilt)
    notes = [n for (n,) in catalog.db.execute("SELECT note FROM commits WHERE commit_no > ?", (previous.commit_no,))]
    return all(_ROWS_KEPT.match(note) for note in notes)

def _rows_since(catalog: Catalog, previous: LiveRows, docs: list[tuple], commit_no: int, stamp: str
                ) -> LiveRows | None:
    """``previous``'s rows of the documents no commit since has touched, the others read from the passages
    (None when ``previous`` lacks a document it should hold)."""
    changed = [doc_id for doc_id, _, written in docs if written > previous.commit_no]
    old_position = {d: i for i, d in enumerate(previous.doc_ids)}
    touched = set(changed)
    if any(doc_id not in old_position for doc_id, _, _ in docs if doc_id not in touched):
        return None
    fresh: dict[str, list[tuple[int, int, int]]] = {}
    clauses = dict(previous.clauses)
    for start in range(0, len(changed), 900):
        chunk = changed[start:start + 900]
        marks = ",".join("?" * len(chunk))
        for doc_id, pid, key, dense in catalog.db.execute(
                f"SELECT doc_id, pid, text_key, dense FROM passages WHERE doc_id IN ({marks}) "
                "ORDER BY doc_id, ordinal", chunk):
            fresh.setdefault(doc_id, []).append((pid, key, dense))
        clauses.update(catalog.db.execute(f"SELECT doc_id, count(DISTINCT clause_id) FROM passages "
                                       f"WHERE doc_id IN ({marks}) GROUP BY doc_id", chunk))
    bounds = np.searchsorted(previous.doc_rows, np.arange(len(previous.doc_ids) + 1))
    pids, keys, dense, doc_rows = [], [], [], []
    for position, (doc_id, _, _) in enumerate(docs):
        if doc_id in touched:
            block = np.array(fresh.get(doc_id, []), dtype=np.int64).reshape(-1, 3)
            pids.append(block[:, 0])
            keys.append(block[:, 1])
            dense.append(block[:, 2].astype(np.int8))
        else:
            old = old_position[doc_id]
            rows = slice(bounds[old], bounds[old + 1])
            pids.append(previous.pids[rows])
            keys.append(previous.text_keys[rows])
            dense.append(previous.dense[rows])
        doc_rows.append(np.full(len(pids[-1]), position, dtype=np.int32))
    kept = {doc_id for doc_id, _, _ in docs}
    empty = np.zeros(0, np.int64)
    return LiveRows(pids=np.concatenate(pids) if pids else empty, text_keys=np.concatenate(keys) if keys else empty,
                    dense=np.concatenate(dense) if dense else np.zeros(0, np.int8),
                    doc_rows=np.concatenate(doc_rows) if doc_rows else np.zeros(0, np.int32),
                    doc_ids=[d for d, _, _ in docs], commit_no=commit_no,
                    clauses={d: n for d, n in clauses.items() if d in kept}, changed=touched, stamp=stamp)
