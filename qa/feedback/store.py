"""Feedback kept in the index's SQLite catalog: it survives restarts and is written in one transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from qa.errors import BadInput
from qa.index.catalog import Catalog
from qa.schemas import FeedbackRecord, FeedbackRequest

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback(
    id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, filters TEXT, shown TEXT NOT NULL,
    useful TEXT NOT NULL, not_useful TEXT NOT NULL, client TEXT, created TEXT NOT NULL, source TEXT NOT NULL);
"""


class UnknownClauses(BadInput):
    """Feedback names clause ids the index does not hold.

    Args:
        field: the request field (``useful``, ``not_useful``, ``shown``).
        clause_ids: the unknown ids.
    """

    def __init__(self, field: str, clause_ids: list[str]):
        super().__init__(f"{field}: unknown clause id(s) {', '.join(clause_ids[:5])}")
        self.field, self.clause_ids = field, clause_ids


class FeedbackStore:
    """Reads and writes feedback of one index.

    Args:
        catalog: the index's catalog.
    """

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        catalog.db.executescript(SCHEMA)

    def check(self, request: FeedbackRequest) -> None:
        """Every clause id the request names exists; the first field with unknown ids raises.

        Raises:
            UnknownClauses: naming the field and the ids.
        """
        for name in ("useful", "not_useful", "shown"):
            ids = list(dict.fromkeys(getattr(request, name)))
            if not ids:
                continue
            marks = ",".join("?" * len(ids))
            known = {c for (c,) in self.catalog.db.execute(
                f"SELECT DISTINCT clause_id FROM passages WHERE clause_id IN ({marks})", ids)}
            missing = [c for c in ids if c not in known]
            if missing:
                raise UnknownClauses(name, missing)

    def add(self, request: FeedbackRequest, source: str = "api") -> int:
        """Store one record (after ``check``); returns its id."""
        self.check(request)
        with self.catalog.write() as db:
            cursor = db.execute(
                "INSERT INTO feedback(question, filters, shown, useful, not_useful, client, created, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (request.question, request.filters.model_dump_json() if request.filters else None,
                 json.dumps(request.shown), json.dumps(request.useful), json.dumps(request.not_useful),
                 request.client, time.strftime("%Y-%m-%dT%H:%M:%S%z"), source))
            return int(cursor.lastrowid)

    def add_many(self, requests: list[FeedbackRequest], source: str) -> int:
        """Store checked records in one transaction; returns how many."""
        for request in requests:
            self.check(request)
        created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        with self.catalog.write() as db:
            db.executemany(
                "INSERT INTO feedback(question, filters, shown, useful, not_useful, client, created, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.question, r.filters.model_dump_json() if r.filters else None, json.dumps(r.shown),
                  json.dumps(r.useful), json.dumps(r.not_useful), r.client, created, source) for r in requests])
        return len(requests)

    def records(self) -> Iterator[FeedbackRecord]:
        for row in self.catalog.db.execute(
                "SELECT id, question, filters, shown, useful, not_useful, client, created, source FROM feedback "
                "ORDER BY id"):
            yield FeedbackRecord(id=row[0], question=row[1], filters=json.loads(row[2]) if row[2] else None,
                                 shown=json.loads(row[3]), useful=json.loads(row[4]), not_useful=json.loads(row[5]),
                                 client=row[6], created=row[7], source=row[8])

    def count(self) -> int:
        return int(self.catalog.db.execute("SELECT count(*) FROM feedback").fetchone()[0])
