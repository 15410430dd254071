"""The errors qa raises on purpose, by what the caller can do about them; the service maps each kind to one
HTTP status (``qa.api.errors.STATUS``), the CLI prints its message as one line."""

from __future__ import annotations


class QAError(Exception):
    """Base of qa's own errors; the message says what is wrong and what to do."""


class BadInput(QAError, ValueError):
    """A request, file or setting is not acceptable (HTTP 422)."""


class NotFound(QAError, LookupError):
    """A document, clause or index asked for does not exist (HTTP 404)."""


class Conflict(QAError):
    """The request cannot be done in the index's present state, e.g. another model built it (HTTP 409)."""


class Unavailable(QAError):
    """The index is damaged, of an old format, or busy past the wait; try again or repair (HTTP 503)."""
