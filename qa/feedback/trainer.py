"""``qa train``: fine-tune the query tower on the feedback pairs, keep the result only if it ranks better.

1. Pairs: every question with the clauses marked useful (several records of one question are merged).
   A fixed share is held out by a stable hash of the question (``held_out``), never trained on.
2. Hard negatives: the clauses the current ranker puts first that were not marked useful.
3. Training (``QueryTower``): contrastive loss over the stored passage vectors — each question against
   its useful clauses, its hard negatives and every other clause of the batch — with early stopping on a
   tenth of the training pairs; then the fusion's dense weight and the weight of the feedback memory
   (``qa.feedback.memory``: past questions pointing at the clauses that answered them) are chosen on that
   tenth too (each question ranked once, then fused under every choice), the memory holding only the other nine.
4. The new version is kept (and made active) only when its Recall@10 on the held-out pairs beats the
   active one's (MRR@10 breaking a tie); the command prints both. ``rollback`` returns to the previous.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.embed.transformer import SentenceTransformerEmbedder
from qa.errors import Conflict
from qa.feedback.memory import FeedbackMemory
from qa.feedback.query_model import QueryTower, TunedEmbedder
from qa.feedback.store import FeedbackStore
from qa.index.catalog import Catalog
from qa.index.collection import Index
from qa.retrieval.fusion import FusionConfig
from qa.retrieval.searcher import Searcher

log = logging.getLogger("qa.train")
Progress = Callable[[str], None]
MODELS = "models"
MIN_PAIRS = 20
HELD_OUT_SHARE = 0.2
HARD_NEGATIVES = 30
TEMPERATURE = 0.05
DENSE_WEIGHTS = (0.1, 0.2, 0.3, 0.5, 0.7)
MEMORY_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0)
MEMORY_FLOORS = (0.65, 0.75, 0.85, 0.9)
# Weight-space interpolation with the untrained tower (WiSE-FT): the smallest share of the trained weights
# whose validation Recall@10 is within this of the best keeps most of the gain and more of the model's
# general behaviour (questions unlike the feedback).
BLENDS = (0.5, 0.75, 1.0)
BLEND_TOLERANCE = 0.01


class TrainingRefused(Conflict):
    """Training cannot run (too few pairs, no vectors); nothing was changed."""


@dataclass
class Pair:
    """A question and the clauses marked useful (and not useful) for it."""

    question: str
    useful: set[str]
    not_useful: set[str] = field(default_factory=set)
    key: str = ""

    @property
    def held_out(self) -> bool:
        digest = hashlib.sha1((self.key or self.question).encode("utf-8")).digest()
        return int.from_bytes(digest[:4], "little") % 1000 < HELD_OUT_SHARE * 1000


def load_pairs(store: FeedbackStore) -> list[Pair]:
    """Feedback records merged per question; questions without a useful clause are left out."""
    merged: dict[str, Pair] = {}
    for record in store.records():
        pair = merged.setdefault(record.question, Pair(question=record.question, useful=set(), key=record.question))
        pair.useful |= set(record.useful)
        pair.not_useful |= set(record.not_useful)
    return [p for p in merged.values() if p.useful]


def ranking_metrics(searcher: Searcher, pairs: list[Pair], k: int = 100) -> dict[str, float]:
    """Recall@10/@100 and MRR@10 of the hybrid ranking, a useful clause counting once however many parts."""
    recall10 = recall100 = mrr = 0.0
    searcher.warm([p.question for p in pairs])
    for pair in pairs:
        hits = searcher.search(pair.question, k=k)
        ids = [h.clause_id for h in hits]
        recall10 += len(pair.useful & set(ids[:10])) / len(pair.useful)
        recall100 += len(pair.useful & set(ids[:100])) / len(pair.useful)
        first = next((i for i, c in enumerate(ids[:10], 1) if c in pair.useful), None)
        mrr += 1 / first if first else 0.0
    n = max(len(pairs), 1)
    return {"recall@10": round(recall10 / n, 4), "recall@100": round(recall100 / n, 4), "mrr@10": round(mrr / n, 4),
            "questions": len(pairs)}


def _better(after: dict, before: dict) -> bool:
    return (after["recall@10"], after["mrr@10"]) > (before["recall@10"], before["mrr@10"])


class Trainer:
    """Trains query-tower versions for one index.

    Args:
        root: the index folder.
        base: the index's model (as built the passage vectors).
        progress: one-line progress messages.
    """

    def __init__(self, root: Path, base: SentenceTransformerEmbedder, progress: Progress | None = None):
        self.root, self.base, self.progress = Path(root), base, progress or (lambda message: None)
        self.index = Index.open(self.root)
        if self.index.dense is None or not self.index.dense.coverage:
            raise TrainingRefused(f"the index at {self.root} has no passage vectors to train against")
        self.catalog = Catalog(self.root)
        self.store = FeedbackStore(self.catalog)
        self._rows = {}
        order = np.argsort(self.index.rows.pids)
        self._sorted_pids, self._order = self.index.rows.pids[order], order

    # -- versions ----------------------------------------------------------------------------------
    def versions(self) -> dict:
        return self.catalog.get_info("query_model", {"active": None, "history": []})

    def searcher(self, tower: QueryTower | None, fusion: dict | None = None, memory_pairs: list[Pair] | None = None
                 ) -> Searcher:
        """A searcher with ``tower`` (None: the untrained model), the fusion weights (default: the active
        version's), and a feedback memory of ``memory_pairs``."""
        embedder = TunedEmbedder(self.base, tower) if tower is not None else self.base
        active = self.versions()
        if fusion is None:
            fusion = (active.get("fusion") or {"dense_weight": active.get("dense_weight")}) if active.get("active") \
                else {}
        memory = None
        if memory_pairs:
            memory = FeedbackMemory.build([p.question for p in memory_pairs],
                                          [self._clause_rows(p.useful) for p in memory_pairs], embedder.encode_queries)
        return Searcher(self.index, embedder, fusion=FusionConfig(**{k: v for k, v in fusion.items() if v is not None}),
                        memory=memory)

    def active_tower(self) -> QueryTower | None:
        active = self.versions().get("active")
        if not active:
            return None
        return QueryTower.load(self.base, self.root / MODELS / f"query-v{active}")

    # -- training ----------------------------------------------------------------------------------
    def run(self, pairs: list[Pair] | None = None, min_pairs: int = MIN_PAIRS, max_epochs: int = 6,
            batch_size: int = 32, lr: float = 5e-5, seed: int = 0, max_seconds: float | None = None,
            is_held_out: Callable[[Pair], bool] | None = None) -> dict:
        """Train, compare on the held-out pairs, and keep the new version only if it is better.

        ``is_held_out`` replaces the stable hash split (a benchmark's own fixed split).

        Returns:
            a report with the counts, before/after figures and whether the version was kept.

        Raises:
            TrainingRefused: fewer than ``min_pairs`` training pairs (nothing is changed).
        """
        started = time.monotonic()
        pairs = load_pairs(self.store) if pairs is None else pairs
        pairs = [p for p in pairs if self._clause_rows(p.useful)]
        held_out = is_held_out or (lambda pair: pair.held_out)
        train = [p for p in pairs if not held_out(p)]
        held = [p for p in pairs if held_out(p)]
        if len(train) < min_pairs or not held:
            raise TrainingRefused(f"too few feedback pairs to train: {len(train)} for training and {len(held)} held "
                                  f"out; need at least {min_pairs} and 1 (mark more clauses as useful, or "
                                  "`qa feedback import`)")
        rng = np.random.default_rng(seed)
        shuffled = [train[i] for i in rng.permutation(len(train))]
        validation = shuffled[: max(1, len(shuffled) // 10)]
        fitting = shuffled[len(validation):]
        current = self.active_tower()
        before = ranking_metrics(self.searcher(current, memory_pairs=train), held)
        self.progress(f"{len(fitting)} pairs to train on, {len(validation)} to stop early, {len(held)} held out; "
                      f"held-out now: R@10 {before['recall@10']}, R@100 {before['recall@100']}, "
                      f"MRR@10 {before['mrr@10']}")
        negatives = self._hard_negatives(fitting)
        tower = QueryTower(self.base)
        best_state, best_score, history = tower.state(), self._validate(tower, validation), []
        history.append(best_score)
        self.progress(f"validation before training: R@10 {best_score[0]:.4f} MRR {best_score[1]:.4f}")
        import torch

        torch.manual_seed(seed)
        optimizer = torch.optim.AdamW(tower.parameters(), lr=lr, weight_decay=0.01)
        for epoch in range(1, max_epochs + 1):
            order = rng.permutation(len(fitting))
            losses = []
            for start in range(0, len(order), batch_size):
                batch = [fitting[i] for i in order[start:start + batch_size]]
                losses.append(self._step(tower, optimizer, batch, negatives))
                if max_seconds and time.monotonic() - started > max_seconds:
                    break
            score = self._validate(tower, validation)
            history.append(score)
            self.progress(f"epoch {epoch}: loss {np.mean(losses):.4f}, validation R@10 {score[0]:.4f} MRR {score[1]:.4f}"
                          f" ({time.monotonic() - started:.0f}s)")
            if score > best_score:
                best_state, best_score = tower.state(), score
            elif epoch > 1:
                break
            if max_seconds and time.monotonic() - started > max_seconds:
                break
        tower.load_state(best_state)
        blend = self._choose_blend(tower, validation)
        fusion = self._choose_fusion(tower, fitting, validation)
        self.progress(f"fusion chosen on the validation pairs: {fusion}")
        after = ranking_metrics(self.searcher(tower, fusion, memory_pairs=train), held)
        report = {"pairs": len(pairs), "train": len(fitting), "validation": len(validation), "held_out": len(held),
                  "before": before, "after": after, "dense_weight": fusion["dense_weight"], "fusion": fusion,
                  "blend": blend, "epochs": len(history) - 1,
                  "seconds": round(time.monotonic() - started, 1), "previous": self.versions().get("active")}
        report["kept"] = _better(after, before)
        if report["kept"]:
            report["version"] = self._save(tower, report)
        return report

    def _clause_rows(self, clause_ids: set[str]) -> list[int]:
        rows = []
        for clause_id in clause_ids:
            if clause_id not in self._rows:
                pids = np.array(self.catalog.pids_of_clause(clause_id), dtype=np.int64)
                position = np.searchsorted(self._sorted_pids, pids)
                ok = (position < len(self._sorted_pids))
                ok[ok] = self._sorted_pids[position[ok]] == pids[ok]
                self._rows[clause_id] = [int(r) for r in self._order[position[ok]]
                                         if self.index.dense.covered[int(r)]]
            rows.extend(self._rows[clause_id])
        return rows

    def _hard_negatives(self, pairs: list[Pair]) -> dict[str, list[int]]:
        """The current ranker's top clauses that are not marked useful, per question."""
        searcher = self.searcher(None)
        searcher.warm([p.question for p in pairs])
        found = {}
        for i, pair in enumerate(pairs, 1):
            hits = searcher.search(pair.question, k=HARD_NEGATIVES + len(pair.useful))
            wrong = [h.clause_id for h in hits if h.clause_id not in pair.useful][:HARD_NEGATIVES]
            found[pair.question] = self._clause_rows(set(wrong) | pair.not_useful)
            if i % 200 == 0:
                self.progress(f"hard negatives for {i}/{len(pairs)} questions")
        return found

    def _step(self, tower: QueryTower, optimizer, batch: list[Pair], negatives: dict[str, list[int]]) -> float:
        import torch

        bank_rows: list[int] = []
        positives: list[list[int]] = []
        for pair in batch:
            rows = self._clause_rows(pair.useful)
            positives.append(list(range(len(bank_rows), len(bank_rows) + len(rows))))
            bank_rows.extend(rows)
        for pair in batch:
            bank_rows.extend(negatives.get(pair.question, []))
        bank = torch.from_numpy(self.index.dense.vectors_of(np.array(bank_rows, dtype=np.int64)))
        queries = tower.encode([p.question for p in batch], train=True)
        logits = queries @ bank.T / TEMPERATURE
        target = torch.zeros_like(logits)
        for i, columns in enumerate(positives):
            target[i, columns] = 1.0
        own = torch.logsumexp(logits.masked_fill(target == 0, float("-inf")), dim=1)
        loss = (torch.logsumexp(logits, dim=1) - own).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss.item())

    def _validate(self, tower: QueryTower, pairs: list[Pair], fusion: dict | None = None,
                  memory_pairs: list[Pair] | None = None) -> tuple[float, float]:
        metrics = ranking_metrics(self.searcher(tower, fusion or {}, memory_pairs), pairs, k=10)
        return metrics["recall@10"], metrics["mrr@10"]

    def _choose_blend(self, tower: QueryTower, validation: list[Pair]) -> float:
        """Interpolate the trained weights with the untrained ones (in place); returns the trained share."""
        trained = tower.state()
        base = QueryTower(self.base).state()
        scores = {}
        for share in BLENDS:
            tower.load_state({k: base[k] + share * (trained[k] - base[k]) if trained[k].is_floating_point() else
                              trained[k] for k in trained})
            scores[share] = self._validate(tower, validation)[0]
        best = max(scores.values())
        share = min(s for s, score in scores.items() if score >= best - BLEND_TOLERANCE)
        tower.load_state({k: base[k] + share * (trained[k] - base[k]) if trained[k].is_floating_point() else trained[k]
                          for k in trained})
        self.progress(f"trained share of the weights: {share} (validation R@10 by share: {scores})")
        return share

    def _choose_fusion(self, tower: QueryTower, fitting: list[Pair], validation: list[Pair]) -> dict:
        """Dense and memory weights by the validation pairs, the memory holding the fitting pairs only."""
        embedder = TunedEmbedder(self.base, tower)
        memory = FeedbackMemory.build([p.question for p in fitting], [self._clause_rows(p.useful) for p in fitting],
                                      embedder.encode_queries)
        searcher = Searcher(self.index, embedder, memory=memory, keep_rankings=True)  # rank once, fuse per choice
        best, best_score = None, (-1.0, -1.0)
        for dense_weight in DENSE_WEIGHTS:
            for memory_weight in MEMORY_WEIGHTS:
                for floor in MEMORY_FLOORS if memory_weight else (0.8,):
                    for votes in (False, True) if memory_weight else (False,):
                        fusion = {"dense_weight": dense_weight, "memory_weight": memory_weight,
                                  "memory_floor": floor, "memory_votes": votes}
                        searcher.fusion = FusionConfig(**fusion)
                        metrics = ranking_metrics(searcher, validation, k=10)
                        score = (metrics["recall@10"], metrics["mrr@10"])
                        if score > best_score:
                            best, best_score = fusion, score
        return best

    def _save(self, tower: QueryTower, report: dict) -> int:
        versions = self.versions()
        number = max([v["version"] for v in versions.get("history", [])], default=0) + 1
        folder = self.root / MODELS / f"query-v{number}"
        staging = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        tower.save(staging, {**report, "version": number, "base_fingerprint": self.base.fingerprint,
                             "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        entry = {"version": number, "dense_weight": report["dense_weight"], "fusion": report["fusion"],
                 "after": report["after"],
                 "before": report["before"], "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        history = versions.get("history", []) + [entry]
        with self.catalog.write():
            self.catalog.set_info("query_model", {"active": number, "dense_weight": report["dense_weight"],
                                                  "fusion": report["fusion"], "history": history,
                                                  "previous": versions.get("active")})
            self.catalog.record_commit(f"train query model v{number}")
        return number

    def rollback(self) -> int | None:
        """Make the version before the active one active again (None: the untrained model); returns it."""
        versions = self.versions()
        history = versions.get("history", [])
        active = versions.get("active")
        if active is None:
            raise TrainingRefused("no trained query model is active; nothing to roll back")
        earlier = [v for v in history if v["version"] < active]
        target = earlier[-1] if earlier else None
        with self.catalog.write():
            self.catalog.set_info("query_model", {**versions, "active": target["version"] if target else None,
                                                  "dense_weight": target["dense_weight"] if target else None,
                                                  "fusion": target.get("fusion") if target else None,
                                                  "previous": active})
            self.catalog.record_commit(f"roll back query model to v{target['version'] if target else 0}")
        return target["version"] if target else None
