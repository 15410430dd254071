"""The ``qa`` command: ingest, docs, show, remove, model, search, eval, serve.

``--json`` prints the same pydantic models the service returns.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from pydantic import BaseModel, TypeAdapter

from qa.config import index_dir, settings
from qa.schemas import DocumentMeta


def print_json(value: BaseModel | list | dict) -> None:
    """Write ``value`` to stdout as the command's ``--json`` output (pydantic models in their API form)."""
    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        text = TypeAdapter(list[type(value[0])]).dump_json(value, indent=2).decode()
    else:
        text = json.dumps(value, ensure_ascii=False, indent=2)
    sys.stdout.write(text + "\n")


def progress_printer(quiet: bool):
    """A progress callback printing timed lines to stderr, silent when ``quiet``."""
    started = time.monotonic()

    def report(message: str) -> None:
        if not quiet:
            print(f"[{time.monotonic() - started:7.1f}s] {message}", file=sys.stderr, flush=True)
    return report


def cmd_ingest(args: argparse.Namespace) -> int:
    from qa.ingest import ingest

    identities = None
    if args.replace:
        if len(args.paths) != 1 or not Path(args.paths[0]).is_file():
            print("error: --replace DOC_ID takes exactly one file", file=sys.stderr)
            return 2
        from qa.index.collection import Index

        if args.replace not in Index.open(index_dir(args.index)).documents:
            print(f"error: no document {args.replace!r} in {index_dir(args.index)} (see `qa docs`)", file=sys.stderr)
            return 2
        identities = {str(Path(args.paths[0])): (args.replace, Path(args.paths[0]).name)}
    config = settings()
    report = ingest([Path(p) for p in args.paths], index_dir(args.index), model=args.model, rebuild=args.rebuild,
                    workers=args.workers, progress=progress_printer(args.quiet or args.json), identities=identities,
                    teacher_passages=config.teacher_passages, student_above=config.student_above,
                    lock_timeout=config.lock_timeout)
    for error in report.errors:
        print(f"error: {error.path}: {error.error}", file=sys.stderr)
    for duplicate in report.duplicates:
        print(f"duplicate: {duplicate.path}: the same bytes as document {duplicate.doc_id}; not added again",
              file=sys.stderr)
    if args.json:
        print_json(report)
    elif not args.quiet:
        print(f"ingested {len(report.added)} new, {len(report.replaced)} replaced, {len(report.unchanged)} unchanged, "
              f"{len(report.errors)} failed; index {index_dir(args.index)}: {report.documents} documents, "
              f"{report.clauses} clauses; {report.seconds:.1f}s")
        if report.student_vectors:
            print(f"vectors: {report.teacher_vectors} from the model, {report.student_vectors} from its student; "
                  "`qa embed` replaces the student's with the model's (it resumes where it stopped)")
    return 1 if report.errors else 0


def _open_index(args: argparse.Namespace):
    from qa.index.collection import Index

    return Index.open(index_dir(args.index))


def cmd_docs(args: argparse.Namespace) -> int:
    index = _open_index(args)
    metas: list[DocumentMeta] = list(index.metas)
    if args.json:
        print_json(metas)
        return 0
    if not metas:
        print(f"index {index_dir(args.index)} is empty; add documents with `qa ingest PATH`")
    for m in metas:
        print(f"{m.doc_id}  《{m.title}》" + (f"（{m.doc_number}）" if m.doc_number else ""))
        print(f"    {m.issuer or '-'} | {m.region or '-'} | 成文 {m.written_date or '-'} | 发布 {m.published_date or '-'}"
              f" | {m.validity or '-'} | {m.clause_count} clauses | {m.source_path}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    index = _open_index(args)
    doc = index.documents.get(args.doc_id)
    if doc is None:
        print(f"error: no document {args.doc_id!r} in {index_dir(args.index)} (see `qa docs`)", file=sys.stderr)
        return 2
    if args.json:
        print_json(doc)
        return 0
    m = doc.meta
    print(f"《{m.title}》" + (f"（{m.doc_number}）" if m.doc_number else "") + f"  [{m.doc_id}]")
    for clause in doc.clauses:
        if clause.part:
            continue
        indent = "  " * (len(clause.heading_path) + 1)
        first_line = clause.text.split("\n", 1)[0]
        shown = (clause.label or "") + clause.heading if clause.heading else first_line[:60]
        parts = f" ({clause.parts} parts)" if clause.parts > 1 else ""
        print(f"{indent}{shown}  <{clause.clause_id} @{clause.char_start}-{clause.char_end}{parts}>")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from qa.ingest import remove

    missing = remove(args.doc_ids, index_dir(args.index), progress=progress_printer(args.quiet))
    for doc_id in missing:
        print(f"error: no document {doc_id!r} in {index_dir(args.index)}", file=sys.stderr)
    removed = len(args.doc_ids) - len(missing)
    if not args.quiet:
        print(f"removed {removed} document(s)")
    return 1 if missing else 0


def cmd_embed(args: argparse.Namespace) -> int:
    from qa.index import embed_job
    from qa.index.collection import Index
    from qa.index.embedding import embedder_for_query

    index = Index.open(index_dir(args.index))
    embedder = embedder_for_query(index, args.model)
    if embedder is None:
        print(f"error: the index at {index_dir(args.index)} has no embedding model recorded (lexical only)",
              file=sys.stderr)
        return 1
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    report = embed_job.run(index.root, embedder, batch=args.batch, progress=progress_printer(args.quiet or args.json),
                           max_seconds=args.max_seconds, marked_only=args.marked)
    if args.json:
        print_json(report.__dict__)
    elif not args.quiet:
        print(f"embedded {report.embedded} passages in {report.seconds:.0f}s; {report.remaining} still without "
              "model vectors" + (" (run again to continue)" if report.remaining else ""))
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from qa.feedback.importer import import_file
    from qa.feedback.store import FeedbackStore
    from qa.index.catalog import Catalog
    from qa.index.collection import Index

    root = index_dir(args.index)
    store = FeedbackStore(Catalog(root))
    if args.action == "export":
        for record in store.records():
            sys.stdout.write(record.model_dump_json() + "\n")
        return 0
    if not args.file:
        print("error: qa feedback import needs a FILE.jsonl", file=sys.stderr)
        return 2
    report = import_file(Path(args.file), Index.open(root), store)
    if args.json:
        print_json(report)
    else:
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
        for item in report.unmatched[:20]:
            print(f"unmatched: {args.file}:{item['line']} {item['field']}: {item['text'][:80]}", file=sys.stderr)
        more = len(report.unmatched) - 20
        if more > 0:
            print(f"unmatched: … and {more} more", file=sys.stderr)
        print(f"stored {report.stored} records, skipped {report.skipped} without a matched clause, "
              f"{len(report.unmatched)} strings matched no clause" + (" (nothing stored: fix the errors)"
                                                                       if report.errors else ""))
    return 1 if report.errors else 0


def cmd_train(args: argparse.Namespace) -> int:
    from qa.feedback.trainer import Trainer, TrainingRefused
    from qa.index.collection import Index
    from qa.index.embedding import embedder_for_query

    root = index_dir(args.index)
    base = embedder_for_query(Index.open(root), args.model)
    if base is None:
        print(f"error: the index at {root} has no embedding model (lexical only); nothing to train", file=sys.stderr)
        return 1
    trainer = Trainer(root, base, progress=progress_printer(args.json))
    if not args.rollback and trainer.index.catalog is not None:
        marked, covered = trainer.index.catalog.marked_counts()
        if marked > covered:  # the query tower can only move questions towards the vectors that are there
            print(f"note: {marked - covered} of the {marked} passages of the documents marked useful still carry the "
                  "student's vectors; `qa embed --marked` first gives them the model's (a better result)",
                  file=sys.stderr)
    try:
        if args.rollback:
            version = trainer.rollback()
            print(f"active query model: {'v' + str(version) if version else 'the untrained model'}")
            return 0
        report = trainer.run(min_pairs=args.min_pairs, max_epochs=args.epochs, max_seconds=args.max_seconds)
    except TrainingRefused as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.json:
        print_json(report)
        return 0
    b, a = report["before"], report["after"]
    print(f"held-out {report['held_out']} questions (trained on {report['train']}, stopped on {report['validation']}):")
    print(f"  before: R@10 {b['recall@10']:.3f}  R@100 {b['recall@100']:.3f}  MRR@10 {b['mrr@10']:.3f}")
    print(f"  after:  R@10 {a['recall@10']:.3f}  R@100 {a['recall@100']:.3f}  MRR@10 {a['mrr@10']:.3f}"
          f"  (dense weight {report['dense_weight']}, {report['epochs']} epochs, {report['seconds']:.0f}s)")
    print(f"kept as query model v{report['version']} (`qa train --rollback` returns to the previous)" if report["kept"]
          else "not better on the held-out questions: the active query model stays")
    return 0


def common_options(top_level: bool) -> argparse.ArgumentParser:
    """``--index``, ``--json`` and ``-v``: accepted before or after the command (``qa --index X ingest …`` and
    ``qa ingest … --index X``); the command's own mention wins."""
    parent = argparse.ArgumentParser(add_help=False)
    default = {} if top_level else {"default": argparse.SUPPRESS}
    parent.add_argument("--index", help="index folder (default: $QA_INDEX_DIR or ./index)", **default)
    parent.add_argument("--json", action="store_true", help="print the result as JSON (the API's models)", **default)
    parent.add_argument("-v", "--verbose", action="store_true", help="log details", **default)
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Search and cited answers over Chinese policy documents.",
                                     parents=[common_options(True)])
    subparsers = parser.add_subparsers(dest="command", required=True)
    shared = common_options(False)

    class Commands:
        def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
            return subparsers.add_parser(name, parents=[shared], **kwargs)

    sub = Commands()

    p = sub.add_parser("ingest", help="parse files or folders into the index")
    p.add_argument("paths", nargs="+")
    p.add_argument("--model", help="embedding model (default: $QA_EMBED_MODEL)")
    p.add_argument("--rebuild", action="store_true", help="start from an empty index")
    p.add_argument("--replace", metavar="DOC_ID", help="the one file given replaces this document (keeps its id)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("docs", help="list documents with metadata and clause counts")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("show", help="print a document's clauses as a tree")
    p.add_argument("doc_id")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("remove", help="delete documents and all their vectors and postings")
    p.add_argument("doc_ids", nargs="+")
    p.add_argument("--model", help="embedding model (default: $QA_EMBED_MODEL)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("embed", help="give every passage the model's vector (resumable; a kill loses one batch)")
    p.add_argument("--model", help="embedding model (default: the one that built the index)")
    p.add_argument("--batch", type=int, default=256, help="passages per commit")
    p.add_argument("--max-seconds", type=float, help="stop after this long (run again to resume)")
    p.add_argument("--threads", type=int, help="torch threads (leave cores to a running service)")
    p.add_argument("--marked", action="store_true",
                   help="only the documents officials marked useful (they always come first)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("feedback", help="import question → useful clause pairs (JSONL), or export the stored ones")
    p.add_argument("action", choices=["import", "export"])
    p.add_argument("file", nargs="?", help="for import: JSONL, {question, useful: [clause id or text], not_useful}")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("train", help="fine-tune the query side on the feedback; kept only if it ranks better")
    p.add_argument("--rollback", action="store_true", help="return to the previous query model")
    p.add_argument("--min-pairs", type=int, default=20)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--max-seconds", type=float)
    p.add_argument("--model", help="embedding model (default: the one that built the index)")
    p.set_defaults(func=cmd_train)

    from qa.cli_search import register
    register(sub)
    from qa.cli_upkeep import register as register_upkeep
    register_upkeep(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # one clear line, not a traceback
        if args.verbose:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
