"""Fit the answer model (``qa/answers/data/answer_model.json``) on the fit half of our development set
(plus ``dev_questions_extra.jsonl``, questions written for training only).

Two logistic regressions (L2 penalty on standardised features, Newton's method, numpy):

1. the sentence model, on every candidate sentence of every part of the fit questions the scope check
   lets through: positive when it holds one of the question's (or the part's) gold facts;
2. the answerability model, one row per part (its best sentences under model 1, what the question
   names): positive when the part has an answer in the collection. Its threshold has the least cost on
   the fit half, answering an unanswerable part counting twice a wrong refusal (a wrongful refusal still
   lists the nearest clauses). Then it prints
``bench/answers.py``'s figures for the fit half, the held-out half and the shared questions.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/fit_answers.py [--index DIR] [--write]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from answers import OWN, SHARED_SET, holds, load, open_answerer, run, same_side

from qa.answers.extractive import part_features
from qa.answers.model import FEATURES, PART_FEATURES, AnswerModel, Logistic

EXTRA = Path(__file__).resolve().parent / "data" / "dev_questions_extra.jsonl"  # training-only questions
MODEL_FILE = Path(__file__).resolve().parents[1] / "qa" / "answers" / "data" / "answer_model.json"
WRONG_ANSWER_COST = 2.0
L2 = 1.0
# Signs the weights must have, whatever the fit data say: words no document uses, a missing figure or a short line make
# an answer less likely, never more (colloquial questions the collection answers also leave words unmatched, and a fit
# on them alone would reward the unknown words of a topic no document covers); a feature that comes out with the wrong
# sign is dropped and the rest refitted.
SIGNS = {"unknown": -1, "figure_absent": -1, "short": -1, "best": 1, "best_lex": 1, "lex": 1, "figure_near": 1}


def examples(answerer, questions: list[dict]) -> list[dict]:
    """Per part of every fit question the scope check lets through: its candidates' feature rows and labels."""
    parts = []
    for question in questions:
        analysed = answerer.analyse(question["query"])
        scope = answerer.scope.check(question["query"])
        if answerer._scope_reason(scope, analysed):
            continue
        query_vector = answerer.vectors.query_vector(question["query"])
        sides = {s["name"]: s for s in question.get("sides", [])}
        for part in answerer.parts(analysed, scope):
            if part.missing:
                continue
            side = next((s for name, s in sides.items() if same_side(name, part.name)), None)
            facts = (side.get("facts") if side else None) or question.get("facts") or []
            answerable = bool(question.get("gold")) and (side is None or side.get("doc") is not None)
            candidates = answerer.candidates(analysed, answerer.retrieve(analysed, part, None), query_vector)
            if candidates:
                parts.append({"question": analysed, "candidates": candidates, "answerable": answerable,
                              "labels": [answerable and holds([c.text], question, facts) for c in candidates]})
    return parts


def fit_logistic(rows: list[list[float]], labels: list[bool], l2: float = L2) -> tuple[np.ndarray, float]:
    """Logistic regression on standardised features, folded back into weights of the raw features."""
    x, y = np.array(rows, dtype=float), np.array(labels, dtype=float)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    weights, bias = logistic((x - mean) / std, y, l2=l2)
    return weights / std, bias - float(np.sum(weights * mean / std))


def fit_signed(rows: list[list[float]], labels: list[bool], names: list[str], l2: float = L2
               ) -> tuple[list[str], np.ndarray, float]:
    """``fit_logistic`` on the named columns of ``rows``, dropping each feature whose weight has the wrong sign
    (``SIGNS``) and refitting, until none has; the kept names with their weights and bias."""
    kept = list(names)
    while True:
        columns = [names.index(n) for n in kept]
        weights, bias = fit_logistic([[row[c] for c in columns] for row in rows], labels, l2)
        wrong = [n for n, w in zip(kept, weights, strict=True) if n in SIGNS and np.sign(w) == -SIGNS[n]]
        if not wrong:
            return kept, weights, bias
        kept = [n for n in kept if n not in wrong]


def cross_validated(rows: list[list[float]], labels: list[bool], features: list[int], l2: float,
                    folds: int = 5) -> float:
    """Mean cost per part of fitting on four fifths and choosing the threshold there, scored on the fifth."""
    x, y = np.array(rows, dtype=float)[:, features], np.array(labels, dtype=bool)
    order = np.random.default_rng(0).permutation(len(y))
    cost = 0.0
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        weights, bias = fit_logistic(x[train].tolist(), y[train].tolist(), l2)
        probability = 1 / (1 + np.exp(-(x @ weights + bias)))
        threshold, _ = best_threshold(list(zip(y[train].tolist(), probability[train].tolist(), strict=True)))
        chosen = probability[test] >= threshold
        cost += WRONG_ANSWER_COST * np.sum(chosen & ~y[test]) + np.sum(~chosen & y[test])
    return float(cost / len(y))


def logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-penalised logistic regression (Newton's method; the bias is not penalised)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def best_threshold(scored: list[tuple[bool, float]]) -> tuple[float, dict]:
    """The threshold with the least cost on (answer would be right?, probability) pairs."""
    options = []
    for threshold in sorted({round(p, 4) for _, p in scored} | {0.5}):
        wrong_answers = sum(1 for right, p in scored if not right and p >= threshold)
        wrong_refusals = sum(1 for right, p in scored if right and p < threshold)
        options.append((WRONG_ANSWER_COST * wrong_answers + wrong_refusals, -threshold, threshold, wrong_answers,
                        wrong_refusals))
    _, _, threshold, wrong_answers, wrong_refusals = min(options)
    return threshold, {"parts": len(scored), "wrong_answers": wrong_answers, "wrong_refusals": wrong_refusals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an index of corpus/ (default: build one)")
    parser.add_argument("--write", action="store_true", help=f"write the fitted model to {MODEL_FILE}")
    parser.add_argument("--also", type=Path, nargs="*", default=[],
                        help="more question files to fit on, every split (sets no longer blind)")
    parser.add_argument("--also-fit", type=Path, nargs="*", default=[],
                        help="more question files to fit on, their fit split only (the held-out split reported)")
    args = parser.parse_args()
    answerer, searcher = open_answerer(args.index)
    fit = [q for q in load(OWN) if q["split"] == "fit"] + (load(EXTRA) if EXTRA.exists() else [])
    for path in args.also:
        fit += load(path)
    for path in args.also_fit:
        fit += [q for q in load(path) if q["split"] == "fit"]
    trained_on = " + ".join(["bench/data/dev_questions.jsonl split=fit", "dev_questions_extra.jsonl",
                             *(path.name for path in args.also), *(f"{path.name} split=fit" for path in args.also_fit)])
    parts = examples(answerer, fit)
    rows = [[c.features[n] for n in FEATURES] for part in parts for c in part["candidates"]]
    labels = [label for part in parts for label in part["labels"]]
    names, weights, bias = fit_signed(rows, labels, list(FEATURES))
    sentence = Logistic({n: round(float(w), 4) for n, w in zip(names, weights, strict=True)}, round(bias, 4))
    part_rows, part_labels = [], []
    for part in parts:  # re-rank with the fitted sentence model; would answering with its best be right?
        for candidate in part["candidates"]:
            candidate.probability = sentence.probability(candidate.features)
        order = sorted(range(len(part["candidates"])), key=lambda i: -part["candidates"][i].probability)
        ranked = [part["candidates"][i] for i in order]
        part_rows.append([part_features(part["question"], ranked)[n] for n in PART_FEATURES])
        part_labels.append(part["answerable"])
    # the answerability model's features and penalty by 5-fold cross-validation on the fit half (70 parts: few)
    subsets = {"all": list(range(len(PART_FEATURES))),
               "compact": [PART_FEATURES.index(n) for n in ("best", "best_sem", "best_lex", "unknown", "english")]}
    choice = min(((cross_validated(part_rows, part_labels, cols, l2), name, l2) for name, cols in subsets.items()
                  for l2 in (0.3, 1.0, 3.0, 10.0)))
    print(f"answerability: {choice[1]} features, l2 {choice[2]} (cross-validated cost per part {choice[0]:.3f})")
    columns = subsets[choice[1]]
    names, weights, bias = fit_signed([[row[c] for c in columns] for row in part_rows], part_labels,
                                      [PART_FEATURES[c] for c in columns], choice[2])
    answerable = Logistic({n: round(float(w), 4) for n, w in zip(names, weights, strict=True)}, round(bias, 4))
    scored = [(label, answerable.probability(dict(zip(PART_FEATURES, row, strict=True))))
              for row, label in zip(part_rows, part_labels, strict=True)]
    threshold, separation = best_threshold(scored)
    model = AnswerModel(sentence=sentence, answerable=answerable, threshold=round(threshold, 4), provenance={
        "fitted": True, "by": "bench/fit_answers.py", "on": trained_on,
        "questions": len(fit), "sentences": len(labels), "positives": int(sum(labels)), "l2": L2,
        "wrong_answer_cost": WRONG_ANSWER_COST, "answerable_features": choice[1], "answerable_l2": choice[2],
        "date": time.strftime("%Y-%m-%d"), **separation})
    print(json.dumps(model.to_dict(), ensure_ascii=False, indent=2))
    answerer.model = model
    heldout = [q for path in [OWN, *args.also_fit] for q in load(path) if q["split"] == "heldout"]
    for name, questions in (("fitted on", fit), ("own heldout", [q for q in load(OWN) if q["split"] == "heldout"]),
                            ("held-out halves of own and --also-fit", heldout), ("shared 30", load(SHARED_SET))):
        summary = run(answerer, searcher, questions)[0]
        print(name, {k: v for k, v in summary.items() if k != "questions"})
    if args.write:
        MODEL_FILE.write_text(json.dumps(model.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
