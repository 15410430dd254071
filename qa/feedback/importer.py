"""``qa feedback import``: question → useful clause pairs gathered elsewhere, one JSON object a line.

``{"question": str, "useful": [str, ...], "not_useful": [str, ...]}`` (``not_useful`` optional), where each
string is a clause id of the index or a clause's text. A text matches the clause that holds it, or that it
holds, after normalising (full-width → half-width, traditional → simplified, whitespace and punctuation
removed); candidates come from a lexical search with the text itself, and only a containment counts.
Strings that match no clause are reported with their line, never guessed; a malformed line is an error
naming the line and field, and nothing of the file is stored when any line is malformed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from qa.documents.chinese import normalise
from qa.feedback.store import FeedbackStore
from qa.index.collection import Index
from qa.retrieval.fusion import top_candidates
from qa.schemas import FeedbackRequest, ImportReport

_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)
_LABEL = re.compile(r"^第[零〇一二两三四五六七八九十百千0-9]+条(之[一二三四五六七八九十]+)?")
MIN_CHARS = 8
CANDIDATES = 30


def squash(text: str) -> str:
    return _NOT_TEXT.sub("", normalise(text))


class ClauseMatcher:
    """Finds the clause a string names: a clause id, or text it holds or that holds it.

    Args:
        index: the index to match against.
    """

    def __init__(self, index: Index):
        self.index = index
        self.tokenizer = index.get_tokenizer()

    def match(self, value: str) -> list[str]:
        """Clause ids for ``value`` (several when a long text spans parts or clauses); empty when none."""
        value = value.strip()
        if not value:
            return []
        if self.index.catalog is not None and self.index.catalog.pids_of_clause(value):
            return [value]
        wanted = squash(value)
        bare = squash(_LABEL.sub("", normalise(value).strip()))
        if len(bare) < MIN_CHARS:
            return []
        scores = self.index.lexical.scores(self.tokenizer(value))
        if not scores.size or scores.max() <= 0:
            return []
        rows = top_candidates(scores, CANDIDATES)
        found = []
        for clause in self.index.clause_rows(rows.tolist()):
            text = squash(clause.text)
            text_bare = squash(_LABEL.sub("", normalise(clause.text).strip()))
            if len(text_bare) >= MIN_CHARS and (text in wanted or wanted in text or bare in text_bare
                                                or text_bare in bare):
                found.append(clause.clause_id)
        return list(dict.fromkeys(found))


def import_file(path: Path, index: Index, store: FeedbackStore, source: str | None = None) -> ImportReport:
    """Validate every line, match its strings, and store the records that name a useful clause, in one go.

    Returns:
        counts and the unmatched strings (line, field, text); ``errors`` holds malformed lines, in which case
        nothing is stored.
    """
    report = ImportReport()
    matcher = ClauseMatcher(index)
    records: list[FeedbackRequest] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as err:
            report.errors.append(f"{path}:{number}: not JSON ({err})")
            continue
        problem = _shape_error(item)
        if problem:
            report.errors.append(f"{path}:{number}: {problem}")
            continue
        fields = {}
        for field in ("useful", "not_useful"):
            ids = []
            for value in item.get(field) or []:
                matched = matcher.match(value)
                if matched:
                    ids.extend(matched)
                else:
                    report.unmatched.append({"line": number, "field": field, "text": value[:200]})
            fields[field] = list(dict.fromkeys(ids))
        if not fields["useful"] and not fields["not_useful"]:
            report.skipped += 1
            continue
        records.append(FeedbackRequest(question=item["question"], useful=fields["useful"],
                                       not_useful=[c for c in fields["not_useful"] if c not in fields["useful"]],
                                       client=source or f"import:{Path(path).name}"))
    if report.errors:
        return report
    report.stored = store.add_many(records, source="import")
    return report


def _shape_error(item) -> str | None:
    if not isinstance(item, dict):
        return "each line must be a JSON object"
    if not isinstance(item.get("question"), str) or not item["question"].strip():
        return "field 'question' must be a non-empty string"
    for field in ("useful", "not_useful"):
        value = item.get(field, [] if field == "not_useful" else None)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"field {field!r} must be a list of strings"
    unknown = sorted(set(item) - {"question", "useful", "not_useful", "filters", "id", "query_id"})
    return f"unknown field(s) {unknown}" if unknown else None
