"""Answer quality on our own development set (held-out half) and the shared seed questions.

Per question set and split it prints: unanswerable questions refused, answerable questions wrongly
refused, the answer holding the gold fact and its first sentence holding it, every side of a question
over several places cited, clauses cited twice, and /ask p50 beside /search p50 measured in the same run.

A fact is held when one of the question's ``facts`` (our set) occurs in the answer's quoted sentences;
for the shared set, which has gold quotes but no facts, when a quoted sentence lies within a gold quote or
contains it.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/answers.py [--index DIR] [--split heldout|fit|all] [--json]
        [--questions FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED

OWN = ROOT / "bench" / "data" / "dev_questions.jsonl"
SHARED_SET = SHARED / "data" / "seed_dev_qa.jsonl"


def squash(text: str) -> str:
    return re.sub(r"\s", "", text)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def open_answerer(index: Path | None):
    from qa.answers.extractive import ExtractiveAnswerer
    from qa.retrieval.service import load_searcher

    if index is None:
        from qa.ingest import ingest

        index = Path(tempfile.mkdtemp(prefix="qa-answers-")) / "index"
        ingest([ROOT / "corpus"], index)
    from qa.index.collection import Index
    from qa.index.embedding import embedder_for_query
    from qa.retrieval.bridge import TermBridge

    opened = Index.open(index)
    TermBridge.refresh(opened, embedder_for_query(opened))  # as the service's start-up does
    searcher = load_searcher(index)
    return ExtractiveAnswerer(searcher), searcher


def holds(sentences: list[str], question: dict, facts: list[str] | None = None) -> bool:
    facts = question.get("facts") if facts is None else facts
    joined = squash("".join(sentences))
    if facts:
        return any(squash(f) in joined for f in facts)
    quotes = [squash(g["quote"]) for g in question.get("gold", [])]
    return any(squash(s) in q or q in squash(s) for s in sentences for q in quotes if s.strip())


def side_names(name: str) -> set[str]:
    """A side's name and the gazetteer's full names for it (a side named Hangzhou is the part 杭州市)."""
    from qa.documents.gazetteer import Gazetteer

    return {name} | {d.name for _, divisions in Gazetteer.shipped().find(name) for d in divisions}


def same_side(side_name: str, part_name: str | None) -> bool:
    return bool(part_name) and any(n in part_name or part_name in n for n in side_names(side_name))


def judge(question: dict, answer) -> dict:
    answerable = bool(question.get("gold"))
    sentences = [s.text for s in answer.sentences]
    row = {"id": question["id"], "answerable": answerable, "refused": not answer.answerable}
    if answerable and answer.answerable:
        row["holds"] = holds(sentences, question)
        row["first_holds"] = holds(sentences[:1], question)
    if question.get("sides"):
        cited = []
        for side in question["sides"]:
            if side.get("doc") is None:
                cited.append(not answer.answerable or any(not p.answered and same_side(side["name"], p.name)
                                                          for p in answer.parts))
            else:
                cited.append(answer.answerable and holds(sentences, question, side.get("facts") or None))
        row["sides_cited"] = all(cited)
    numbers = [c.clause_id for c in answer.citations]
    row["duplicate_citations"] = len(numbers) - len(set(numbers))
    return row


def summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in answerable if not r["refused"]]
    sided = [r for r in rows if "sides_cited" in r]

    def share(values):
        return round(sum(values) / len(values), 3) if values else None
    return {"questions": len(rows), "unanswerable_refused": share([r["refused"] for r in unanswerable]),
            "answerable_wrongly_refused": share([r["refused"] for r in answerable]),
            "holds_gold_fact": share([r.get("holds", False) for r in answerable]),
            "first_sentence_holds": share([r.get("first_holds", False) for r in answerable]),
            "holds_when_answered": share([r["holds"] for r in answered]),
            "every_side_cited": share([r["sides_cited"] for r in sided]), "with_sides": len(sided),
            "duplicate_citations": sum(r["duplicate_citations"] for r in rows)}


def run(answerer, searcher, questions: list[dict]) -> tuple[dict, list[dict], list[float], list[float]]:
    rows, ask_ms, search_ms = [], [], []
    for question in questions:
        searcher._query_cache.clear()  # each timed call encodes the question itself
        started = time.perf_counter()
        searcher.search(question["query"], k=10)
        search_ms.append((time.perf_counter() - started) * 1000)
        searcher._query_cache.clear()
        started = time.perf_counter()
        answer = answerer.answer(question["query"])
        ask_ms.append((time.perf_counter() - started) * 1000)
        row = judge(question, answer)
        row["answer"] = answer.answer[:200]
        rows.append(row)
    return summarise(rows), rows, ask_ms, search_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an index of corpus/ (default: build one in a temp folder)")
    parser.add_argument("--split", default="heldout", choices=["heldout", "fit", "all"])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show", action="store_true", help="print each question's outcome")
    parser.add_argument("--questions", type=Path, default=OWN,
                        help="our own question file (default: bench/data/dev_questions.jsonl)")
    args = parser.parse_args()
    answerer, searcher = open_answerer(args.index)
    answerer.answer("预热")  # load the model's query path once
    own = [q for q in load(args.questions) if args.split == "all" or q["split"] == args.split]
    report = {}
    label = "own" if args.questions == OWN else args.questions.stem
    for name, questions in ((f"{label} {args.split}", own), ("shared 30", load(SHARED_SET))):
        summary, rows, ask_ms, search_ms = run(answerer, searcher, questions)
        summary["ask_p50_ms"] = round(statistics.median(ask_ms), 1)
        summary["search_p50_ms"] = round(statistics.median(search_ms), 1)
        summary["ask_over_search"] = round(summary["ask_p50_ms"] / max(summary["search_p50_ms"], 1e-9), 2)
        report[name] = {"summary": summary, "rows": rows}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for name, data in report.items():
        s = data["summary"]
        print(f"{name}: {s['questions']} questions")
        print(f"  unanswerable refused {s['unanswerable_refused']}  (target >= 0.95)")
        print(f"  answerable wrongly refused {s['answerable_wrongly_refused']}  (target <= 0.05)")
        print(f"  answer holds the gold fact {s['holds_gold_fact']}  (target >= 0.90); "
              f"first sentence {s['first_sentence_holds']}  (target >= 0.85)")
        print(f"  every side cited {s['every_side_cited']} of {s['with_sides']}  (target >= 0.90); "
              f"clauses cited twice: {s['duplicate_citations']}")
        print(f"  /ask p50 {s['ask_p50_ms']} ms, /search p50 {s['search_p50_ms']} ms, ratio {s['ask_over_search']} "
              "(target <= 2)")
        if args.show:
            for row in data["rows"]:
                flag = "ok " if (row["refused"] != row["answerable"] and row.get("holds", True)) else "BAD"
                print(f"    {flag} {row['id']} refused={row['refused']} holds={row.get('holds')} "
                      f"first={row.get('first_holds')} sides={row.get('sides_cited')} | {row['answer'][:90]}")


if __name__ == "__main__":
    main()
