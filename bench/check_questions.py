"""Validate development question files against the shipped corpus.

Usage::

    python bench/check_questions.py [FILE ...]        # default: bench/data/dev_questions.jsonl
    python bench/check_questions.py ../shared/data/seed_dev_qa.jsonl
    python bench/check_questions.py --targets         # also enforce the set's size targets

Two formats are understood, told apart per file:

* the seed format (``seed_dev_qa.jsonl``): ``id``, ``query``, ``type``, ``gold``, ``answer``;
* the full format (``bench/data/dev_questions.jsonl``), which adds ``facts``, ``split`` and, where they
  apply, ``sides`` and ``unanswerable_kind``. A file is in the full format when any record has one of
  those fields; then every record must carry ``facts`` and ``split``.

A gold ``doc`` may be a corpus file name (``corpus/*.txt``) or its seed name (``000_….txt``), mapped
through ``corpus/sources.json``. Each problem is reported as ``FILE:LINE id=ID field=FIELD: message``;
the exit status is 1 when there is any. Counts per type, split and kind are printed for every file.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from question_counts import KINDS, SPLITS, TYPES, report

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
DEFAULT_FILE = ROOT / "bench" / "data" / "dev_questions.jsonl"

BASE_FIELDS = ("id", "query", "type", "gold", "answer")
FULL_ONLY = ("facts", "split", "sides", "unanswerable_kind")
ALLOWED = set(BASE_FIELDS) | set(FULL_ONLY)

# Characters that exist only in traditional writing (their simplified forms differ); a question of type
# "traditional" must contain at least one of them.
TRADITIONAL_ONLY = set(
    "國學區業發計畫數與為個關實術產創對這經轉進們會來時麼說將處務營標準資點專項負責臺灣縣級鎮園體機構費貸"
    "質環現開動電書長門問題應權獎勵聯協領導華興歸齊雙億萬條號擁單規網絡讓設備製濟職稱員優勢漣倉蘇寧錫滬團隊兩從於場廣嗎還沒裡並衛護報據種類樣總續"
)

class Problems:
    def __init__(self, path: Path):
        self.path = path
        self.items: list[str] = []

    def add(self, line: int, rid: object, field: str, message: str) -> None:
        self.items.append(f"{self.path}:{line} id={rid} field={field}: {message}")


def load_corpus() -> tuple[dict[str, str], dict[str, str]]:
    """Texts of ``corpus/*.txt`` by file name, and the seed-name → file-name map."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))}
    aliases: dict[str, str] = {}
    sources = CORPUS / "sources.json"
    if sources.exists():
        for entry in json.loads(sources.read_text(encoding="utf-8")):
            if entry.get("seed_file") and entry.get("file") in texts:
                aliases[entry["seed_file"]] = entry["file"]
    return texts, aliases


def is_english(text: str) -> bool:
    chars = [c for c in text if not c.isspace()]
    return bool(chars) and sum(c.isascii() for c in chars) / len(chars) >= 0.8


def is_str(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def check_record(
    rec: dict, line: int, full: bool, texts: dict[str, str], aliases: dict[str, str], out: Problems
) -> None:
    rid = rec.get("id")

    def bad(field: str, message: str) -> None:
        out.add(line, rid, field, message)

    for field in BASE_FIELDS + (("facts", "split") if full else ()):
        if field not in rec:
            bad(field, "missing")
    for field in sorted(set(rec) - ALLOWED):
        bad(field, "unknown field")
    if not full:
        for field in FULL_ONLY:
            if field in rec:
                bad(field, "field of the full format in a seed-format file")
    if not is_str(rid):
        bad("id", "must be a non-empty string")
    if not is_str(rec.get("query")):
        bad("query", "must be a non-empty string")
    qtype = rec.get("type")
    if qtype not in TYPES:
        bad("type", f"{qtype!r} is not one of {', '.join(TYPES)}")
    answer = rec.get("answer")
    if not isinstance(answer, str):
        bad("answer", "must be a string")
    elif full and not answer.strip():
        bad("answer", "empty (unanswerable questions say why they cannot be answered)")

    query = rec.get("query") if isinstance(rec.get("query"), str) else ""
    if qtype == "english" and query and not is_english(query):
        bad("query", "type english but the query is not mostly ASCII")
    if qtype == "traditional" and query and not TRADITIONAL_ONLY.intersection(query):
        bad("query", "type traditional but no traditional-only character found")
    if qtype not in ("english", None) and query and is_english(query):
        bad("type", f"query is in English but type is {qtype!r}")

    # gold
    gold = rec.get("gold")
    quotes_by_doc: dict[str, list[str]] = defaultdict(list)
    if not isinstance(gold, list):
        bad("gold", "must be a list")
        gold = []
    for i, entry in enumerate(gold):
        where = f"gold[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"doc", "quote"}:
            bad(where, 'must be an object with exactly "doc" and "quote"')
            continue
        doc, quote = entry["doc"], entry["quote"]
        name = aliases.get(doc, doc) if isinstance(doc, str) else None
        if name not in texts:
            bad(
                f"{where}.doc", f"{doc!r} is not a corpus file (corpus/*.txt) nor a seed name in sources.json"
            )
            continue
        if not is_str(quote):
            bad(f"{where}.quote", "must be a non-empty string")
            continue
        if quote not in texts[name]:
            bad(f"{where}.quote", f"not an exact substring of {name}: {quote!r}")
            continue
        quotes_by_doc[name].append(quote)
    all_quotes = [q for qs in quotes_by_doc.values() for q in qs]
    if len(all_quotes) != len(set(all_quotes)):
        bad("gold", "the same quote is listed twice")

    if not full:
        if qtype == "unanswerable" and gold:
            bad("gold", "unanswerable question with gold quotes")
        if qtype != "unanswerable" and not gold:
            bad("gold", "answerable question without gold quotes")
        return

    # facts
    facts = rec.get("facts", [])
    if not isinstance(facts, list) or not all(is_str(f) for f in facts):
        bad("facts", "must be a list of non-empty strings")
        facts = []
    for fact in facts:
        if not any(fact in q for q in all_quotes):
            bad("facts", f"{fact!r} occurs in none of the gold quotes")
    if len(facts) != len(set(facts)):
        bad("facts", "duplicate fact")

    # split
    if rec.get("split") not in SPLITS:
        bad("split", f"{rec.get('split')!r} is not one of {', '.join(SPLITS)}")

    # answerable or not
    kind = rec.get("unanswerable_kind")
    unanswerable = qtype == "unanswerable" or "unanswerable_kind" in rec
    if unanswerable:
        if kind not in KINDS:
            bad("unanswerable_kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        if gold:
            bad("gold", "unanswerable question must have empty gold")
        if facts:
            bad("facts", "unanswerable question must have empty facts")
        if "sides" in rec:
            bad("sides", "unanswerable question must not have sides (one answerable side makes it cross_doc)")
    else:
        if not gold:
            bad("gold", "answerable question without gold quotes (unanswerable ones need unanswerable_kind)")
        if not facts and "facts" in rec:
            bad("facts", "answerable question without facts")

    # sides
    if qtype == "cross_doc" and "sides" not in rec:
        bad("sides", "cross_doc question without sides")
    if "sides" in rec:
        check_sides(rec["sides"], facts, quotes_by_doc, texts, aliases, bad)


def check_sides(
    sides: object,
    facts: list[str],
    quotes_by_doc: dict[str, list[str]],
    texts: dict[str, str],
    aliases: dict[str, str],
    bad,
) -> None:
    if not isinstance(sides, list) or len(sides) < 2:
        bad("sides", "must be a list of at least two sides")
        return
    answered_docs = set()
    names = []
    for i, side in enumerate(sides):
        where = f"sides[{i}]"
        if not isinstance(side, dict) or set(side) != {"name", "doc", "facts"}:
            bad(where, 'must be an object with exactly "name", "doc" and "facts"')
            continue
        names.append(side["name"])
        if not is_str(side["name"]):
            bad(f"{where}.name", "must be a non-empty string")
        sfacts = side["facts"]
        if not isinstance(sfacts, list) or not all(is_str(f) for f in sfacts):
            bad(f"{where}.facts", "must be a list of non-empty strings")
            continue
        doc = side["doc"]
        if doc is None:
            if sfacts:
                bad(f"{where}.facts", "a side outside the collection (doc null) must have no facts")
            continue
        name = aliases.get(doc, doc) if isinstance(doc, str) else None
        if name not in texts:
            bad(f"{where}.doc", f"{doc!r} is not a corpus file")
            continue
        if not sfacts:
            bad(f"{where}.facts", "a side with a document needs facts")
        if name not in quotes_by_doc:
            bad(f"{where}.doc", f"{name} has no gold quote")
        answered_docs.add(name)
        for fact in sfacts:
            if fact not in texts[name]:
                bad(f"{where}.facts", f"{fact!r} does not occur in {name}")
            elif not any(fact in q for q in quotes_by_doc.get(name, [])):
                bad(f"{where}.facts", f"{fact!r} occurs in none of the gold quotes from {name}")
            if fact not in facts:
                bad(f"{where}.facts", f"{fact!r} is not listed in the record's facts")
    if len(names) != len(set(names)):
        bad("sides", "two sides have the same name")
    if not answered_docs:
        bad("sides", "no side has a document: the question is unanswerable")
    missing = any(isinstance(s, dict) and s.get("doc") is None for s in sides)
    if not missing and len(quotes_by_doc) < 2:
        bad("sides", "all sides are in the collection but the gold quotes come from one document")


def check_file(path: Path, texts: dict[str, str], aliases: dict[str, str], targets: bool) -> list[str]:
    out = Problems(path)
    records: list[tuple[int, dict]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return [f"{path}: cannot read: {exc}"]
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as exc:
            out.add(number, "-", "-", f"not valid JSON: {exc}")
            continue
        if not isinstance(rec, dict):
            out.add(number, "-", "-", "a line must hold one JSON object")
            continue
        records.append((number, rec))
    full = any(field in rec for _, rec in records for field in FULL_ONLY)
    print(f"{path}: {len(records)} records, {'full' if full else 'seed'} format")

    seen_ids: dict[object, int] = {}
    seen_queries: dict[str, object] = {}
    for number, rec in records:
        rid = rec.get("id")
        if isinstance(rid, str) and rid in seen_ids:
            out.add(number, rid, "id", f"duplicate of the id on line {seen_ids[rid]}")
        elif isinstance(rid, str):
            seen_ids[rid] = number
        query = rec.get("query")
        if isinstance(query, str) and query.strip():
            if query.strip() in seen_queries:
                out.add(number, rid, "query", f"same query as id={seen_queries[query.strip()]}")
            seen_queries.setdefault(query.strip(), rid)
        check_record(rec, number, full, texts, aliases, out)
    if not records:
        out.add(0, "-", "-", "no records")
    report(records, full, out, targets)
    return out.items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help=f"question files (default: {DEFAULT_FILE})")
    parser.add_argument("--targets", action="store_true", help="fail when the set is below its size targets")
    args = parser.parse_args(argv)
    texts, aliases = load_corpus()
    if not texts:
        print(f"error: no corpus files in {CORPUS}", file=sys.stderr)
        return 2
    problems: list[str] = []
    for path in args.files or [DEFAULT_FILE]:
        problems += check_file(path, texts, aliases, args.targets)
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for item in problems:
            print(f"  {item}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
