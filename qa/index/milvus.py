"""Vectors in Milvus: the same passage vectors, keyed by passage id, in a collection a cluster can hold.

Selected by ``QA_BACKEND=milvus`` with ``QA_MILVUS_URI`` (a Milvus Lite file such as ``index/milvus.db``, or
``http://host:19530`` for a standalone or cluster server) and ``QA_MILVUS_COLLECTION``. The catalog (SQLite)
stays the commit point: vectors are upserted before the transaction that makes their passages live, and
the vectors of deleted or replaced passages are deleted after it, so Milvus holds at most a superset of the
live passages — a search keeps only live ones, and ``cleanup`` removes the rest. Filters (documents a
search may answer from) become Milvus filter expressions on ``doc_id``. Every call has a time-out: an
unreachable server is an error (``Unavailable``), never a hang and never a silent switch to the local
store. Postings stay in the local lexical segments, so results equal the local backend's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np

from qa.errors import Unavailable

log = logging.getLogger("qa.milvus")
TIMEOUT = 10.0
BATCH = 1000


class MilvusStore:
    """One Milvus collection of passage vectors.

    Args:
        uri: a Milvus Lite ``.db`` path or a server URL.
        collection: the collection name.
        dim: vector dimension (the collection is created on first use).
        timeout: seconds for any call.

    Raises:
        Unavailable: the server cannot be reached (or the collection was made for another dimension).
    """

    def __init__(self, uri: str, collection: str, dim: int, timeout: float = TIMEOUT):
        self.uri, self.collection, self.dim, self.timeout = uri, collection, dim, timeout
        try:
            from pymilvus import MilvusClient

            self.client = MilvusClient(uri=uri, timeout=timeout)
            if not self.client.has_collection(collection, timeout=timeout):
                self._create()
            self.client.load_collection(collection, timeout=timeout)
        except Unavailable:
            raise
        except Exception as err:
            raise Unavailable(f"Milvus at {uri} cannot be used: {type(err).__name__}: {err}") from None
        described = self.client.describe_collection(collection, timeout=timeout)
        stored = next((f.get("params", {}).get("dim") for f in described["fields"] if f["name"] == "vector"), None)
        if stored is not None and int(stored) != dim:
            raise Unavailable(f"Milvus collection {collection!r} holds vectors of dimension {stored}, not {dim}")

    def _create(self) -> None:
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("pid", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("kind", DataType.INT8)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=128)
        index = self.client.prepare_index_params()
        index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")  # exact, as the local store
        self.client.create_collection(self.collection, schema=schema, index_params=index, timeout=self.timeout)

    def _call(self, name: str, *args, **kwargs):
        try:
            return getattr(self.client, name)(self.collection, *args, timeout=self.timeout, **kwargs)
        except Exception as err:
            raise Unavailable(f"Milvus at {self.uri}: {name} failed: {type(err).__name__}: {err}") from None

    def upsert(self, pids: np.ndarray, vectors: np.ndarray, kinds: np.ndarray, doc_ids: list[str]) -> None:
        """Store vectors by passage id (replacing any the ids had)."""
        for start in range(0, len(pids), BATCH):
            rows = [{"pid": int(p), "vector": v.tolist(), "kind": int(k), "doc_id": d}
                    for p, v, k, d in zip(pids[start:start + BATCH], vectors[start:start + BATCH],
                                          kinds[start:start + BATCH], doc_ids[start:start + BATCH], strict=True)]
            self._call("upsert", rows)

    def delete(self, pids: Iterable[int]) -> None:
        pids = [int(p) for p in pids]
        for start in range(0, len(pids), BATCH):
            self._call("delete", ids=pids[start:start + BATCH])

    def search(self, query: np.ndarray, k: int, doc_ids: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest passage ids (inner product), only of ``doc_ids`` when given; best first."""
        expression = ""
        if doc_ids is not None:
            if not doc_ids:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            quoted = ", ".join("'" + d.replace("\\\\", "").replace("'", "") + "'" for d in doc_ids)
            expression = f"doc_id in [{quoted}]"
        found = self._call("search", data=[np.asarray(query, dtype=np.float32).tolist()], limit=max(1, k),
                           filter=expression, output_fields=["pid"])
        hits = found[0] if found else []
        return (np.array([h["pid"] if "pid" in h else h["id"] for h in hits], dtype=np.int64),
                np.array([h["distance"] for h in hits], dtype=np.float32))

    def get(self, pids: Iterable[int]) -> dict[int, np.ndarray]:
        pids = [int(p) for p in pids]
        found: dict[int, np.ndarray] = {}
        for start in range(0, len(pids), BATCH):
            part = pids[start:start + BATCH]
            for row in self._call("query", filter=f"pid in [{', '.join(map(str, part))}]",
                                  output_fields=["pid", "vector"]):
                found[int(row["pid"])] = np.asarray(row["vector"], dtype=np.float32)
        return found

    def count(self) -> int:
        rows = self._call("query", filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def pids(self) -> set[int]:
        """Every passage id the collection holds (for ``cleanup``)."""
        found: set[int] = set()
        iterator = self.client.query_iterator(self.collection, batch_size=BATCH, filter="", output_fields=["pid"],
                                              timeout=self.timeout)
        while True:
            page = iterator.next()
            if not page:
                iterator.close()
                return found
            found.update(int(row["pid"]) for row in page)

    def cleanup(self, live: set[int]) -> int:
        """Delete the vectors of passages that are no longer live (a crash between Milvus and the catalog)."""
        stale = sorted(self.pids() - live)
        if stale:
            self.delete(stale)
            log.warning("removed %d vectors of passages no longer in the catalog from Milvus", len(stale))
        return len(stale)


class MilvusVectorView:
    """The dense side of an index view when vectors live in Milvus: the same methods as ``VectorView``.

    Args:
        store: the collection.
        pids: the view's live passage ids, one a row.
        dense: each row's vector kind from the catalog (0: none yet).
        doc_rows, doc_ids: each row's document, to turn a row filter into a ``doc_id`` filter.
        dim: vector dimension.
    """

    def __init__(self, store: MilvusStore, pids: np.ndarray, dense: np.ndarray, doc_rows: np.ndarray,
                 doc_ids: list[str], dim: int):
        self.store, self.dim = store, dim
        self.size = len(pids)
        self.pids = pids
        self.covered = dense > 0
        self.kind = dense.astype(np.int8)
        self.doc_rows, self.doc_ids = doc_rows, doc_ids
        order = np.argsort(pids)
        self._sorted, self._order = pids[order], order
        self.segments: list = []

    @property
    def coverage(self) -> int:
        return int(self.covered.sum())

    def _rows_of(self, pids: np.ndarray) -> np.ndarray:
        if not len(self._sorted):
            return np.full(len(pids), -1, dtype=np.int64)
        position = np.minimum(np.searchsorted(self._sorted, pids), len(self._sorted) - 1)
        return np.where(self._sorted[position] == pids, self._order[position], -1).astype(np.int64)

    def search(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` live rows nearest ``query``, only among ``rows`` when given (as a document filter)."""
        doc_ids = None
        allowed = None
        if rows is not None:
            allowed = np.zeros(self.size, dtype=bool)
            allowed[rows] = True
            doc_ids = sorted({self.doc_ids[d] for d in np.unique(self.doc_rows[rows]).tolist()})
        fetch = k
        for _ in range(4):  # over-fetch when stale or filtered-out rows came back
            pids, scores = self.store.search(query, fetch, doc_ids)
            found = self._rows_of(pids)
            keep = found >= 0
            if allowed is not None:
                keep &= allowed[np.maximum(found, 0)]
            if keep.sum() >= k or len(pids) < fetch:
                break
            fetch *= 4
        return scores[keep][:k], found[keep][:k]

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        found = self.store.get(self.pids[rows].tolist()) if len(rows) else {}
        out = np.zeros((len(rows), self.dim), dtype=np.float32)
        for i, pid in enumerate(self.pids[rows].tolist()):
            if pid in found:
                out[i] = found[pid]
        return out

    def exact_scores(self, query: np.ndarray) -> np.ndarray:
        scores = np.zeros(self.size, dtype=np.float32)
        rows = np.flatnonzero(self.covered)
        if len(rows):
            scores[rows] = self.vectors_of(rows) @ query
        return scores


_STORES: dict[tuple[str, str], MilvusStore] = {}


def milvus_store(dim: int) -> MilvusStore:
    """The configured collection (one client a process)."""
    from qa.config import settings

    config = settings()
    if not config.milvus_uri:
        raise Unavailable("QA_BACKEND=milvus needs QA_MILVUS_URI (a Milvus Lite file path or http://host:19530)")
    key = (config.milvus_uri, config.milvus_collection)
    if key not in _STORES:
        _STORES[key] = MilvusStore(config.milvus_uri, config.milvus_collection, dim)
    return _STORES[key]


def backend() -> str:
    from qa.config import settings

    return settings().backend
