"""``qa search``, ``qa eval`` and ``qa serve``: the commands that query an index."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa.config import index_dir
from qa.schemas import Filters


def open_searcher(index: str | None, model: str | None = None):
    """Load the index and the embedder that built it."""
    from qa.retrieval.service import load_searcher

    return load_searcher(index_dir(index), model)


def cmd_search(args: argparse.Namespace) -> int:
    filters = Filters(region=args.region, issuer=args.issuer, doc_ids=args.doc, year_from=args.year_from,
                      year_to=args.year_to, validity=args.validity)
    searcher = open_searcher(args.index, args.model)
    hits = searcher.search(args.query, k=args.k, mode=args.mode, filters=filters)
    if args.json:
        from pydantic import TypeAdapter

        from qa.schemas import Hit
        sys.stdout.write(TypeAdapter(list[Hit]).dump_json(hits, indent=2).decode() + "\n")
        return 0
    if not hits:
        print("no matching clauses")
    for rank, hit in enumerate(hits, 1):
        text = hit.text.replace("\n", " ")
        print(f"{rank:2}. [{hit.score:.4f}] {hit.citation}  ({hit.issuer or '-'}, {hit.date or '-'})")
        print(f"    {text[:240]}{'…' if len(text) > 240 else ''}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.retrieval.evaluate import evaluate, format_report, load_questions

    questions = load_questions(Path(args.file))
    searcher = open_searcher(args.index, args.model)
    report = evaluate(searcher, questions, modes=args.modes or searcher.modes)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import torch
    import uvicorn

    from qa.api.app import create_app
    from qa.config import settings

    # requests run side by side, each question's encoding on one thread: not every request asking for every core
    torch.set_num_threads(settings().query_threads)
    app = create_app(index_dir(args.index), model=args.model)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def register(sub) -> None:
    """Add the retrieval commands to the ``qa`` parser."""
    p = sub.add_parser("search", help="ranked clauses with citations")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    p.add_argument("--region", action="append", help="restrict to a region (repeatable)")
    p.add_argument("--issuer", action="append", help="restrict to issuers containing this text (repeatable)")
    p.add_argument("--doc", action="append", help="restrict to a document id (repeatable)")
    p.add_argument("--year-from", type=int)
    p.add_argument("--year-to", type=int)
    p.add_argument("--validity", action="append")
    p.add_argument("--model", help="embedding model (default: the one that built the index)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", help="Recall@1/5/10 and MRR@10 of a question file, per mode and type")
    p.add_argument("file")
    p.add_argument("--modes", nargs="+", choices=["hybrid", "dense", "lexical"])
    p.add_argument("--model")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="run the HTTP service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--model")
    p.set_defaults(func=cmd_serve)
