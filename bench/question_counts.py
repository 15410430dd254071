"""Counts of a question set for ``check_questions.py``: questions by type, split and unanswerable kind, whether the
fit and held-out halves are balanced, and the development set's size targets (enforced with ``--targets``).

Standard library only.
"""

from __future__ import annotations

from collections import Counter

TYPES = ("fact", "numeric", "paraphrase", "precedent", "cross_doc", "english", "traditional", "unanswerable")
KINDS = ("other_place", "not_covered", "near_miss", "national_law")
SPLITS = ("fit", "heldout")

# Size targets of the development set (checked with --targets).
TARGETS = {
    "questions": 100,
    "unanswerable": 30,
    "per_kind": 6,
    "english": 20,
    "traditional": 6,
    "cross_doc_with_sides": 12,
    "cross_doc_missing_side": 3,
    "paraphrase": 15,
    "numeric": 12,
}



def report(records: list[tuple[int, dict]], full: bool, out, targets: bool) -> None:
    """Print the counts of ``records`` (line, record); add to ``out`` (``check_questions.Problems``) an unbalanced
    split, and with ``targets`` each size below its target."""
    by_type: Counter = Counter()
    by_type_split: Counter = Counter()
    by_kind_split: Counter = Counter()
    for _, rec in records:
        qtype, split = rec.get("type"), rec.get("split", "-")
        by_type[qtype] += 1
        by_type_split[qtype, split] += 1
        if rec.get("unanswerable_kind") or qtype == "unanswerable":
            by_kind_split[rec.get("unanswerable_kind", "-"), split] += 1

    splits = SPLITS if full else ("-",)
    width = max(len(t) for t in TYPES) + 2
    print(f"  {'type':<{width}}" + "".join(f"{s:>9}" for s in splits) + f"{'total':>9}")
    for qtype in [t for t in TYPES if by_type[t]] + sorted(str(t) for t in by_type if t not in TYPES):
        cells = "".join(f"{by_type_split[qtype, s]:>9}" for s in splits)
        print(f"  {qtype:<{width}}{cells}{by_type[qtype]:>9}")
    total = "".join(f"{sum(by_type_split[t, s] for t in by_type):>9}" for s in splits)
    print(f"  {'all':<{width}}{total}{len(records):>9}")
    if by_kind_split:
        print("  unanswerable by kind:")
        kinds = sorted(
            {k for k, _ in by_kind_split}, key=lambda k: (k not in KINDS, KINDS.index(k) if k in KINDS else 0)
        )
        for kind in kinds:
            cells = "".join(f"{by_kind_split[kind, s]:>9}" for s in splits)
            print(f"    {kind:<{width - 2}}{cells}{sum(by_kind_split[kind, s] for s in splits):>9}")

    if not full:
        return
    if not any(by_type_split[qtype, "heldout"] for qtype in by_type):
        print("  note: every question is split=fit (a training-only file): halves are not compared")
        return
    for qtype in by_type:
        fit, held = by_type_split[qtype, "fit"], by_type_split[qtype, "heldout"]
        if abs(fit - held) > 1:
            out.add(
                0, "-", "split", f"type {qtype}: fit {fit} / heldout {held} are not balanced (differ by > 1)"
            )
    for kind in KINDS:
        fit, held = by_kind_split[kind, "fit"], by_kind_split[kind, "heldout"]
        if abs(fit - held) > 1:
            print(f"  note: kind {kind}: fit {fit} / heldout {held} differ by more than 1")

    unanswerable = sum(by_kind_split.values())
    with_sides = [r for _, r in records if "sides" in r]
    cross = sum(
        1 for r in with_sides if len({s.get("doc") for s in r["sides"] if isinstance(s, dict)} - {None}) >= 2
    )
    cross_missing = sum(
        1 for r in with_sides if any(isinstance(s, dict) and s.get("doc") is None for s in r["sides"])
    )
    english = by_type["english"]
    sizes = {
        "questions": len(records),
        "unanswerable": unanswerable,
        "per_kind": min((sum(by_kind_split[k, s] for s in SPLITS) for k in KINDS), default=0),
        "english": english,
        "traditional": by_type["traditional"],
        "cross_doc_with_sides": len(with_sides),
        "cross_doc_missing_side": cross_missing,
        "paraphrase": by_type["paraphrase"],
        "numeric": by_type["numeric"],
    }
    print(
        f"  answerable {len(records) - unanswerable}, unanswerable {unanswerable}; "
        f"with sides {len(with_sides)} "
        f"({cross} over two or more documents, {cross_missing} with a side outside the collection)"
    )
    line = ", ".join(
        f"{k} {v}/{TARGETS[k]}" + ("" if v >= TARGETS[k] else " SHORT") for k, v in sizes.items()
    )
    print(f"  targets: {line}")
    if targets:
        for key, value in sizes.items():
            if value < TARGETS[key]:
                out.add(0, "-", key, f"{value} is below the target of {TARGETS[key]}")
