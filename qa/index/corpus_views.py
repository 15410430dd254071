"""Read-only views of an index view's corpus: its live passages as a sequence, its documents as a mapping.

Both read from the view's catalog on demand (``Index.clause_rows`` caches clauses; ``DocumentMap`` caches a few
whole documents), so a law library's text is not held in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from qa.schemas import Clause, Document

if TYPE_CHECKING:
    from qa.index.collection import Index

DOCUMENT_CACHE = 64


class PassageList:
    """The live passages of a view as a read-only sequence of ``Clause`` (read from SQLite on demand).

    Args:
        index: the view whose live rows the sequence holds, in row order.
    """

    def __init__(self, index: Index):
        self.index = index

    def __len__(self) -> int:
        return len(self.index.rows.pids)

    def __getitem__(self, row: int) -> Clause:
        if not 0 <= int(row) < len(self):
            raise IndexError(row)
        return self.index.clause_rows([int(row)])[0]

    def __iter__(self) -> Iterator[Clause]:
        for start in range(0, len(self), 2000):
            yield from self.index.clause_rows(range(start, min(start + 2000, len(self))))

    def __bool__(self) -> bool:
        return len(self) > 0


class DocumentMap(Mapping[str, Document]):
    """The documents of a view by id, each read whole (body and clauses) on demand, a few cached.

    Args:
        index: the view whose documents the mapping holds, in the view's document order.
    """

    def __init__(self, index: Index):
        self.index = index
        self._cache: OrderedDict[str, Document] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, doc_id: str) -> Document:
        with self._lock:
            document = self._cache.get(doc_id)
        if document is None:
            if doc_id not in self.index._doc_position() or self.index.catalog is None:
                raise KeyError(doc_id)
            document = self.index.catalog.document(doc_id)
            if document is None:
                raise KeyError(doc_id)
        with self._lock:
            self._cache[doc_id] = document
            self._cache.move_to_end(doc_id)
            while len(self._cache) > DOCUMENT_CACHE:
                self._cache.popitem(last=False)
        return document

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.index._doc_position()

    def __iter__(self) -> Iterator[str]:
        return iter(self.index.rows.doc_ids)

    def __len__(self) -> int:
        return len(self.index.rows.doc_ids)
