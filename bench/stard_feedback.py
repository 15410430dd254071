"""Learning from feedback, proven on STARD: import the training questions as feedback, train on 80 %, test on 20 %.

The STARD training questions (with their gold articles' text as the useful clauses) are imported with
``qa feedback import`` into a LawRefBook index; the split is fixed by query id (every fifth id held out).
Before training, the embedding job gives the model's vectors to the documents the training questions
marked (``qa embed --marked``: what officials mark is embedded first); the held-out fifth's marks are
imported only after it. On the held-out fifth it prints Recall@10/@100 and MRR@10 of plain bm25s over the
articles, of the untrained model as ingested and after that job, of the untrained model with the feedback
memory of the training four fifths, and of the trained query model with that memory and the fusion
``qa train`` chose, in the same run (gold matched by article text, as in ``bench/stard.py``), the training
time, and the seed development questions' Recall@5 with and without the trained query model (it must not
lose more than 0.01).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/stard_feedback.py --index /tmp/lawidx [--seed-index DIR] [--keep]

``--keep`` leaves the trained version active in the index (otherwise the index's previous state is restored).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED, PlainBM25, mean_metrics, ranking_metrics
from stard import lawrefbook_articles, load_queries, matcher

from qa.feedback.importer import import_file
from qa.feedback.query_model import QueryTower, TunedEmbedder
from qa.feedback.store import FeedbackStore
from qa.feedback.trainer import Trainer, load_pairs
from qa.index import embed_job
from qa.index.catalog import Catalog
from qa.index.collection import Index
from qa.index.embedding import embedder_for_query
from qa.retrieval.evaluate import evaluate, load_questions
from qa.retrieval.searcher import Searcher


def held_out(query_id: int) -> bool:
    return query_id % 5 == 0


def stard_metrics(search, queries: list[dict]) -> dict:
    rows = []
    for q in queries:
        match = matcher(list(q["相关法规"].values()))
        rows.append(ranking_metrics([match(text) for text in search(q["问题"])], len(q["相关法规"])))
    return mean_metrics(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index of ../shared/data/lawrefbook_laws")
    parser.add_argument("--seed-index", type=Path, help="an index of corpus/ (default: build one)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--embed-seconds", type=float, help="bound the feedback-ordered embedding job")
    parser.add_argument("--no-embed", action="store_true", help="skip the embedding job (student vectors stay)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    queries = load_queries(None)
    train_q = [q for q in queries if not held_out(q["query_id"])]
    test_q = [q for q in queries if held_out(q["query_id"])]
    work = Path(tempfile.mkdtemp(prefix="qa-stard-feedback-"))
    catalog = Catalog(args.index)
    saved_model_state = catalog.get_info("query_model")
    store = FeedbackStore(catalog)
    articles = lawrefbook_articles()
    bm25 = PlainBM25(articles)
    base = embedder_for_query(Index.open(args.index))
    as_ingested = Searcher(Index.open(args.index), base)
    results = {
        "baseline bm25s (jieba, articles)": stard_metrics(lambda q: [articles[i] for i in bm25.search(q, 100)], test_q),
        "qa hybrid, untrained, as ingested": stard_metrics(lambda q: [h.text for h in as_ingested.search(q, k=100)],
                                                           test_q),
    }
    import_s, imported = 0.0, []
    embedded = None
    # the held-out fifth is imported only after the embedding job, so its marks never order that job;
    # it is imported at all because the trainer holds it out by key (it is never trained on)
    for part, questions in (("train", train_q), ("held_out", test_q)):
        feedback_file = work / f"stard_{part}.jsonl"
        with feedback_file.open("w", encoding="utf-8") as handle:
            for q in questions:
                handle.write(json.dumps({"question": q["问题"], "useful": list(q["相关法规"].values()),
                                         "query_id": q["query_id"]}, ensure_ascii=False) + "\n")
        catalog.db.execute("DELETE FROM feedback WHERE source = 'import' AND client = ?",
                           (f"import:{feedback_file.name}",))
        started = time.perf_counter()
        imported.append(import_file(feedback_file, Index.open(args.index), store))
        import_s += time.perf_counter() - started
        if part == "train" and not args.no_embed:
            before = Catalog(args.index).counts()["teacher_vectors"]
            started = time.perf_counter()
            job = embed_job.run(args.index, base, max_seconds=args.embed_seconds, marked_only=True,
                                progress=lambda m: print(f"  {m}", flush=True))
            embedded = {"passages": job.embedded, "seconds": round(time.perf_counter() - started, 1),
                        "teacher_before": before, "teacher_after": Catalog(args.index).counts()["teacher_vectors"]}
    key_of = {q["问题"]: str(q["query_id"]) for q in queries}
    pairs = [p for p in load_pairs(store) if p.question in key_of]
    for pair in pairs:
        pair.key = key_of[pair.question]
    held_ids = {q["问题"] for q in test_q}

    trainer = Trainer(args.index, base, progress=lambda m: print(f"  {m}", flush=True))
    started = time.perf_counter()
    report = trainer.run(pairs=pairs, max_epochs=args.epochs, is_held_out=lambda pair: pair.question in held_ids)
    train_s = time.perf_counter() - started

    untrained = Searcher(trainer.index, base)
    tower = QueryTower.load(base, args.index / "models" / f"query-v{report['version']}") if report["kept"] else None
    results["qa hybrid, untrained"] = stard_metrics(lambda q: [h.text for h in untrained.search(q, k=100)], test_q)
    if tower is not None:
        train_pairs = [p for p in pairs if p.question not in held_ids]
        trained = trainer.searcher(tower, report["fusion"], memory_pairs=train_pairs)
        results["qa hybrid, trained on feedback"] = stard_metrics(lambda q: [h.text for h in trained.search(q, k=100)],
                                                                  test_q)
        untrained_memory = trainer.searcher(None, {}, memory_pairs=train_pairs)
        results["qa hybrid, untrained + memory"] = stard_metrics(
            lambda q: [h.text for h in untrained_memory.search(q, k=100)], test_q)
    seed_index = args.seed_index
    if seed_index is None:
        from qa.ingest import ingest

        seed_index = work / "seed"
        ingest([ROOT / "corpus"], seed_index)
    seed_questions = load_questions(SHARED / "data" / "seed_dev_qa.jsonl")
    own = [q for q in load_questions(ROOT / "bench" / "data" / "dev_questions.jsonl")]
    seed_view = Index.open(seed_index)
    seed_base = embedder_for_query(seed_view)
    seed = {"untrained": Searcher(seed_view, seed_base)}
    if tower is not None:
        seed["trained"] = Searcher(seed_view, TunedEmbedder(seed_base, QueryTower.load(
            seed_base, args.index / "models" / f"query-v{report['version']}")))
    seed_r5 = {name: {"shared": evaluate(s, seed_questions, ["hybrid"])["modes"]["hybrid"]["overall"]["recall@5"],
                      "own": evaluate(s, own, ["hybrid"])["modes"]["hybrid"]["overall"]["recall@5"]}
               for name, s in seed.items()}
    if not args.keep:
        with catalog.write():
            catalog.set_info("query_model", saved_model_state or {"active": None, "history": []})
            catalog.record_commit("bench: restore the query model")
    out = {"imported": sum(i.stored for i in imported), "unmatched": sum(len(i.unmatched) for i in imported),
           "import_s": round(import_s, 1), "embedded_marked": embedded,
           "train_questions": report["train"] + report["validation"], "held_out_questions": len(test_q),
           "train_s": round(train_s, 1), "trainer": {k: report[k] for k in ("before", "after", "fusion", "kept", "epochs")},
           "held_out": results, "seed_recall@5": seed_r5}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    print(f"imported {out['imported']} STARD questions as feedback ({out['unmatched']} gold texts matched no clause) "
          f"in {out['import_s']}s; trained on {out['train_questions']}, held out {out['held_out_questions']} "
          f"(query id % 5 == 0); training {out['train_s']}s")
    if embedded:
        print(f"embedding job over the documents the training questions marked: {embedded['passages']} passages "
              f"in {embedded['seconds']}s (model vectors {embedded['teacher_before']} -> {embedded['teacher_after']})")
    print(f"{'held-out fifth':36}{'R@10':>8}{'R@100':>8}{'MRR@10':>8}")
    for name, v in results.items():
        print(f"{name:36}{v['recall@10']:8.3f}{v['recall@100']:8.3f}{v['mrr@10']:8.3f}")
    print("targets: R@10 >= 0.60, R@100 >= 0.80; training <= 20 min")
    for name, v in seed_r5.items():
        print(f"seed Recall@5 ({name}): shared {v['shared']:.3f}, own {v['own']:.3f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
