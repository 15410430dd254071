"""The answer model: two logistic regressions over named features, fitted by ``bench/fit_answers.py`` on the fit
half of the development set and shipped in ``data/answer_model.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

FEATURES = ("sem", "clause_sem", "lex", "ctx", "sem_gap", "lex_gap", "figure_near", "figure_absent", "rank", "short",
            "english")
PART_FEATURES = ("best", "margin", "best_sem", "best_clause_sem", "best_lex", "unknown", "english", "figure_absent")


@dataclass
class Logistic:
    """A logistic model over named features.

    Args:
        weights: feature → weight.
        bias: intercept.
    """

    weights: dict[str, float]
    bias: float

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))


@dataclass
class AnswerModel:
    """Which sentence holds the asked-for fact (``sentence``), and whether a part has an answer at all
    (``answerable``, over the part's best sentences, with its ``threshold``).

    Args:
        sentence: over ``FEATURES``.
        answerable: over ``PART_FEATURES``.
        threshold: least ``answerable`` probability for a part to be answered.
        provenance: how the numbers were fitted.
    """

    sentence: Logistic
    answerable: Logistic
    threshold: float
    provenance: dict = field(default_factory=dict)

    @classmethod
    def shipped(cls) -> AnswerModel:
        return cls.from_dict(json.loads(resources.files("qa.answers").joinpath("data", "answer_model.json")
                                        .read_text("utf-8")))

    @classmethod
    def from_dict(cls, data: dict) -> AnswerModel:
        return cls(sentence=Logistic(**data["sentence"]), answerable=Logistic(**data["answerable"]),
                   threshold=data["threshold"], provenance=data.get("provenance", {}))

    def to_dict(self) -> dict:
        return {"sentence": {"weights": self.sentence.weights, "bias": self.sentence.bias},
                "answerable": {"weights": self.answerable.weights, "bias": self.answerable.bias},
                "threshold": self.threshold, "provenance": self.provenance}
