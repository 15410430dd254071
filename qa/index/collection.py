"""The index: documents, their passages, lexical tokens and vectors, saved as one generation.

``Index.open`` loads the live generation; ``Index.apply`` adds, replaces and removes documents
without recomputing what did not change (unchanged passages keep their tokens and vectors);
``Index.save`` writes a new generation atomically (see ``store``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from qa.embed.base import Embedder
from qa.index.dense import APPROXIMATE_ABOVE, DenseIndex
from qa.index.lexical import LexicalIndex, Tokenizer, corpus_terms, tokenize_many
from qa.index.store import GenerationStore
from qa.schemas import Clause, Document

FORMAT_VERSION = 1
EMBEDDER_DIR = "embedder"


class EmbedderMismatchError(RuntimeError):
    """The index was built by another embedder than the one offered to query or extend it."""


def passage_text(title: str, clause: Clause) -> str:
    """What is embedded for a clause: its document title and heading path give it context."""
    path = " > ".join(clause.heading_path)
    return f"《{title}》 {path} {clause.text}".replace("  ", " ")


class Index:
    """Everything one index folder holds, in memory.

    Args:
        root: the index folder.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.store = GenerationStore(self.root)
        self.documents: dict[str, Document] = {}
        self.passages: list[Clause] = []
        self.tokens: list[list[str]] = []  # per passage; read from disk only when the index changes
        self._tokens_path: Path | None = None
        self.terms: list[str] = []
        self.tokenizer: Tokenizer | None = None
        self.lexical = LexicalIndex()
        self.dense: DenseIndex | None = None
        self.embedder_info: dict | None = None
        self.generation: int | None = None
        self.embedder_dir: Path | None = None
        self.passage_doc = np.zeros(0, dtype=np.int32)  # document position of each passage
        self.doc_order: list[str] = []

    # -- loading ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path, with_search: bool = True) -> Index:
        """Load the live generation (an empty index if there is none)."""
        index = cls(root)
        generation = index.store.current()
        if generation is None:
            return index
        manifest = index.store.read_manifest(generation) or {}
        if manifest.get("format_version") != FORMAT_VERSION:
            raise RuntimeError(f"{generation}: index format {manifest.get('format_version')} is not "
                               f"{FORMAT_VERSION}; rebuild it with `qa ingest --rebuild`")
        index.generation = manifest.get("generation")
        index.embedder_info = manifest.get("embedder")
        with (generation / "documents.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                doc = Document.model_validate_json(line)
                index.documents[doc.meta.doc_id] = doc
        index.terms = (generation / "terms.txt").read_text(encoding="utf-8").split()
        index._refresh_passages()
        if (generation / EMBEDDER_DIR).exists():
            index.embedder_dir = generation / EMBEDDER_DIR
        index._tokens_path = generation / "tokens.npz"
        if with_search:
            index.lexical.load(generation / "bm25", len(index.passages))
            if (generation / "vectors.npy").exists():
                index.dense = DenseIndex(int(index.embedder_info["dim"]) if index.embedder_info else 1)
                index.dense.load(generation)
        return index

    def _refresh_passages(self) -> None:
        self.doc_order = list(self.documents)
        self.passages = [c for doc in self.documents.values() for c in doc.clauses]
        self.passage_doc = np.fromiter(
            (i for i, doc in enumerate(self.documents.values()) for _ in doc.clauses),
            dtype=np.int32, count=len(self.passages))

    def get_tokenizer(self) -> Tokenizer:
        if self.tokenizer is None:
            self.tokenizer = Tokenizer(self.terms)
        return self.tokenizer

    def check_embedder(self, embedder: Embedder) -> None:
        """Refuse an embedder other than the one whose vectors the index holds."""
        info = self.embedder_info
        if info and self.passages and info.get("fingerprint") != embedder.fingerprint:
            raise EmbedderMismatchError(
                f"index at {self.root} was built with embedder {info.get('name')!r} "
                f"(dim {info.get('dim')}, fingerprint {info.get('fingerprint')}); the embedder in use is "
                f"{embedder.name!r} (dim {embedder.dim}, fingerprint {embedder.fingerprint}). "
                "Run `qa ingest --rebuild` to re-embed with the current one.")

    # -- changing --------------------------------------------------------------------------------
    def apply(self, upserts: list[Document], removals: list[str], embedder: Embedder | None,
              embedder_dir: Path | None = None, reembed: bool = False) -> None:
        """Add or replace ``upserts`` and drop ``removals``; only new passages are tokenised and embedded.

        Args:
            upserts: parsed documents (a known doc_id replaces the stored one).
            removals: doc_ids to delete with all their vectors and postings.
            embedder: encodes new passages; None keeps the index lexical-only.
            embedder_dir: folder of a corpus-trained embedder to keep inside the index.
            reembed: re-encode every passage (the embedder changed).
        """
        if embedder is not None and not reembed:
            self.check_embedder(embedder)
        if not self.tokens and self._tokens_path is not None and self._tokens_path.exists():
            self.tokens = _load_tokens(self._tokens_path)
        if not self.terms or reembed:
            bodies = [d.body for d in self.documents.values()] + [d.body for d in upserts]
            if not self.terms or set(corpus_terms(bodies)) - set(self.terms):
                self.terms = sorted(set(self.terms) | set(corpus_terms(bodies)))
                self.tokenizer = None
                self.tokens = []  # the dictionary changed: re-tokenise everything
        changed = set(removals) | {d.meta.doc_id for d in upserts}
        old_rows = {pid: row for row, pid in enumerate(c.passage_id for c in self.passages)}
        kept_docs = [d for d in self.documents.values() if d.meta.doc_id not in changed]
        new_docs = list({d.meta.doc_id: d for d in upserts}.values())
        self.documents = {d.meta.doc_id: d for d in kept_docs + new_docs}
        self._refresh_passages()
        reuse = [old_rows.get(c.passage_id) for doc in kept_docs for c in doc.clauses]
        n_kept = len(reuse)
        new_passages = self.passages[n_kept:]
        tokenizer = self.get_tokenizer()
        workers = min(2, os.cpu_count() or 1)
        if self.tokens and len(self.tokens) == len(old_rows) and None not in reuse:
            tokens = [self.tokens[r] for r in reuse] + tokenize_many(
                tokenizer, [self.passage_text(c) for c in new_passages], workers)
        else:
            tokens = tokenize_many(tokenizer, [self.passage_text(c) for c in self.passages], workers)
        self.tokens = tokens
        self.lexical.build(self.tokens)
        if embedder is not None:
            self._embed(embedder, reuse, reembed)
            info = {k: v for k, v in embedder.info().items() if k != "load_error"}
            if embedder.load_error:
                info["configured_error"] = embedder.load_error
            if getattr(embedder, "trained_on", None):
                info["trained_on"] = embedder.trained_on
            self.embedder_info = info
            if embedder_dir is not None:
                self.embedder_dir = embedder_dir
            elif not getattr(embedder, "is_fallback", False):
                self.embedder_dir = None

    def passage_text(self, clause: Clause) -> str:
        return passage_text(self.documents[clause.doc_id].meta.title, clause)

    def _embed(self, embedder: Embedder, reuse: list[int | None], reembed: bool) -> None:
        old = self.dense
        texts = [self.passage_text(c) for c in self.passages]
        if old is not None and len(old.vectors) and not reembed and old.dim == embedder.dim:
            kept = old.vectors[[r for r in reuse if r is not None]] if reuse else np.zeros((0, embedder.dim))
            fresh = embedder.encode_passages(texts[len(reuse):]) if len(texts) > len(reuse) else \
                np.zeros((0, embedder.dim), dtype=np.float32)
            vectors = np.vstack([kept, fresh]).astype(np.float32)
        else:
            vectors = embedder.encode_passages(texts) if texts else np.zeros((0, embedder.dim), np.float32)
        dense = DenseIndex(embedder.dim, approximate_above=APPROXIMATE_ABOVE)
        dense.build(vectors, centroids_from=old if old is not None and old.dim == embedder.dim else None)
        self.dense = dense

    # -- saving ----------------------------------------------------------------------------------
    def save(self) -> int:
        """Write the index as a new generation; returns its number."""
        manifest = {
            "format_version": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "embedder": self.embedder_info,
            "counts": {"documents": len(self.documents), "passages": len(self.passages),
                       "clauses": len({c.clause_id for c in self.passages})},
        }
        with self.store.write(manifest) as staging:
            with (staging / "documents.jsonl").open("w", encoding="utf-8") as handle:
                for doc in self.documents.values():
                    handle.write(doc.model_dump_json() + "\n")
            (staging / "terms.txt").write_text("\n".join(self.terms) + "\n", encoding="utf-8")
            _save_tokens(staging / "tokens.npz", self.tokens)
            (staging / "bm25").mkdir()
            self.lexical.save(staging / "bm25")
            if self.dense is not None:
                self.dense.save(staging)
            if self.embedder_dir is not None and self.embedder_dir.exists():
                self.store.link_tree(self.embedder_dir, staging / EMBEDDER_DIR)
        self.generation = (self.store.read_manifest() or {}).get("generation")
        current = self.store.current()
        if self.embedder_dir is not None and current is not None and (current / EMBEDDER_DIR).exists():
            self.embedder_dir = current / EMBEDDER_DIR
        return int(self.generation or 0)


def _save_tokens(path: Path, tokens: list[list[str]]) -> None:
    vocab: dict[str, int] = {}
    ids = [vocab.setdefault(t, len(vocab)) for passage in tokens for t in passage]
    offsets = np.cumsum([0] + [len(p) for p in tokens], dtype=np.int64)
    with path.open("wb") as handle:
        np.savez(handle, ids=np.asarray(ids, dtype=np.int32), offsets=offsets,
                 vocab=np.frombuffer(json.dumps(list(vocab), ensure_ascii=False).encode("utf-8"), dtype=np.uint8))


def _load_tokens(path: Path) -> list[list[str]]:
    data = np.load(path)
    vocab = json.loads(data["vocab"].tobytes().decode("utf-8"))
    ids, offsets = data["ids"], data["offsets"]
    words = np.asarray(vocab, dtype=object)
    return [list(words[ids[offsets[i]:offsets[i + 1]]]) for i in range(len(offsets) - 1)]
