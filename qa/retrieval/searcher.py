"""Hybrid search over an index: filters, query understanding, fusion, and whole-clause hits.

Parts of a long clause are scored separately and returned as their whole clause; identical
clause text in several versions of a document is returned once (the newest version).
"""

from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np

from qa.documents.chinese import normalise
from qa.embed.base import Embedder
from qa.index.collection import Index
from qa.retrieval.bridge import is_english
from qa.retrieval.fusion import FusionConfig, fuse, top_candidates
from qa.retrieval.query import ParsedQuery, QueryParser
from qa.schemas import Clause, Filters, Hit, SearchMode

ARTICLE_BOOST = 1.0  # added to a clause whose label is the article the query names
NAMED_DOC_BOOST = 0.25  # share of the top score added to clauses of a document named in the query
MAX_HIT_CHARS = 1500  # a split clause longer than this is returned as its best-matching part
REGION_BOOST = 1.0  # share of the top score added to clauses of a region the query names
# For questions across documents (precedent wording, comparisons), each further hit from one
# document counts this much less, so the answer spans documents; other questions keep plain ranking.
SAME_DOC_DECAY = 0.85


class Searcher:
    """Answers search requests over one loaded index.

    Args:
        index: the loaded index.
        embedder: the embedder that built the index's vectors (None: lexical only).
        fusion: fusion settings.
        memory: the feedback memory (``qa.feedback.memory.FeedbackMemory``).
        bridge: English words → the collection's Chinese terms (``qa.retrieval.bridge.TermBridge``).
        keep_rankings: keep each query's lexical, dense and memory rankings, so that searching the same
            questions again under other fusion weights only fuses (``qa train`` choosing its weights).
    """

    def __init__(self, index: Index, embedder: Embedder | None, fusion: FusionConfig | None = None,
                 memory=None, bridge=None, keep_rankings: bool = False):
        self.index = index
        self.embedder = embedder
        self.fusion = fusion or FusionConfig.configured()
        self.memory = memory  # qa.feedback.memory.FeedbackMemory: past questions and the clauses that answered
        self.bridge = bridge  # qa.retrieval.bridge.TermBridge: English words → the collection's Chinese terms
        metas = index.metas
        self.parser = QueryParser(metas)
        self._doc_region = np.array([m.region or "" for m in metas], dtype=object)
        self._doc_issuer = np.array([m.issuer or "" for m in metas], dtype=object)
        self._doc_year = np.array([m.year or 0 for m in metas], dtype=np.int32)
        self._doc_validity = np.array([m.validity or "" for m in metas], dtype=object)
        self._doc_date = [m.date or "" for m in metas]
        self._doc_pos = {doc_id: i for i, doc_id in enumerate(index.doc_order)}
        self._text_key = index.rows.text_keys
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.cache_size = 256
        self._rankings: dict | None = {} if keep_rankings else None

    @property
    def modes(self) -> list[str]:
        return ["hybrid", "dense", "lexical"] if self.embedder is not None else ["lexical"]

    def doc_mask(self, filters: Filters | None, parsed: ParsedQuery | None = None) -> np.ndarray | None:
        """Which documents may answer, or None for all."""
        n = len(self.index.doc_order)
        mask = np.ones(n, dtype=bool)
        restricted = False
        if filters:
            if filters.region:
                mask &= np.isin(self._doc_region, filters.region)
                restricted = True
            if filters.issuer:
                mask &= np.array([any(i in issuer for i in filters.issuer) for issuer in self._doc_issuer], bool)
                restricted = True
            if filters.doc_ids:
                mask &= np.isin(np.array(self.index.doc_order, dtype=object), filters.doc_ids)
                restricted = True
            if filters.year_from is not None:
                mask &= self._doc_year >= filters.year_from
                restricted = True
            if filters.year_to is not None:
                mask &= (self._doc_year <= filters.year_to) & (self._doc_year > 0)
                restricted = True
            if filters.validity:
                mask &= np.isin(self._doc_validity, filters.validity)
                restricted = True
        if parsed is not None and parsed.restrict and parsed.doc_ids:
            named = np.zeros(n, dtype=bool)
            named[[self._doc_pos[d] for d in parsed.doc_ids if d in self._doc_pos]] = True
            if (mask & named).any():
                mask &= named
                restricted = True
        return mask if restricted else None

    def search(self, query: str, k: int = 10, mode: SearchMode = "hybrid", filters: Filters | None = None,
               paragraphs: bool = False) -> list[Hit]:
        """Ranked clauses for ``query``.

        Args:
            query: the question or keywords.
            k: hits wanted.
            mode: ``hybrid``, ``dense`` or ``lexical`` (dense modes need an embedder).
            filters: region, issuer, documents, years, validity.
            paragraphs: each part of a clause too long to read as one hit is a hit of its own (an answer wants the
                paragraph that holds the fact, which need not be the part that matches the question best); ``k``
                still counts clauses.

        Returns:
            up to ``k`` hits, best first, each a whole clause with its citation.
        """
        if not self.index.passages:
            return []
        if mode != "lexical" and self.embedder is None:
            mode = "lexical"
        depth = max(self.fusion.depth, 3 * k)
        if self._rankings is None:
            ranked = self._rank(query, depth, mode, filters)
        else:
            key = (query, depth, mode, filters.model_dump_json() if filters is not None else "")
            ranked = self._rankings.get(key) or self._rankings.setdefault(key, self._rank(query, depth, mode, filters))
        parsed, mask, lexical, dense, remembered, confidence = ranked
        if mode == "hybrid":
            scored = fuse(lexical, dense, self.fusion, confidence,
                          covered=self.index.dense.covered if self.index.dense is not None else None,
                          memory=remembered)
        else:
            rows, scores = lexical if mode == "lexical" else dense
            scored = dict(zip(rows.tolist(), scores.tolist(), strict=True))
        self._boost(scored, parsed, mask, lexical_found=len(lexical[0]) > 0)
        return self._hits(scored, k, SAME_DOC_DECAY if parsed.across_documents else 1.0, paragraphs)

    def _rank(self, query: str, depth: int, mode: SearchMode, filters: Filters | None) -> tuple:
        """The query parsed, its passage mask, and its lexical, dense and memory rankings (before fusion)."""
        parsed = self.parser.parse(query)
        doc_mask = self.doc_mask(filters, parsed)
        mask = doc_mask[self.index.passage_doc] if doc_mask is not None else None
        lexical = dense = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        if mode in ("hybrid", "lexical"):
            lexical = self._lexical(parsed, depth, mask)
        if mode in ("hybrid", "dense"):
            dense = self._dense(parsed, depth, mask)
            dense = self._with_sentences(parsed, dense, lexical[0])
        remembered, confidence = None, 1.0
        if mode == "hybrid" and self.embedder is not None:
            if self.memory is not None and len(self.memory):
                remembered = self.memory.scores(self.query_vector(parsed.residual), mask=mask)
            confidence = self.lexical_confidence(self.lexical_text(parsed))
        return parsed, mask, lexical, dense, remembered, confidence

    def lexical_text(self, parsed: ParsedQuery) -> str:
        """What the lexical side searches: the query, and for an English one the collection terms the model finds
        for its words."""
        if self.bridge is not None and self.embedder is not None and is_english(parsed.residual):
            return " ".join([parsed.residual, *self.bridge.translate(parsed.residual, self.embedder)])
        return parsed.residual

    def _lexical(self, parsed: ParsedQuery, depth: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        scores = self.index.lexical.scores(self.index.get_tokenizer()(self.lexical_text(parsed)))
        rows = top_candidates(scores, depth, mask, positive=True)
        return rows, scores[rows]

    def _dense(self, parsed: ParsedQuery, depth: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        dense = self.index.dense
        if dense is None or self.embedder is None or not dense.coverage:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        vector = self.query_vector(parsed.residual)
        if mask is not None:
            scores, rows = dense.search(vector, depth, rows=np.flatnonzero(mask))
        else:
            scores, rows = dense.search(vector, depth)
        return rows, scores

    def lexical_confidence(self, text: str) -> float:
        """The share of the query's words (by IDF; unseen words as the rarest) that the collection uses."""
        tokens = self.index.get_tokenizer()(text)
        size = max(len(self.index.passages), 1)
        known = total = 0.0
        for token in set(tokens):
            df = self.index.lexical.doc_freq(token)
            weight = float(np.log(1 + (size - df + 0.5) / (df + 0.5)))
            total += weight
            known += weight if df else 0.0
        return known / total if total else 0.0

    def query_vector(self, text: str) -> np.ndarray:
        """The model's vector of a query (the last few are kept: /ask searches the same text several times)."""
        vector = self._query_cache.get(text)
        if vector is None:
            assert self.embedder is not None
            vector = self.embedder.encode_queries([text])[0]
            self._query_cache[text] = vector
            while len(self._query_cache) > max(self.cache_size, 256):
                self._query_cache.popitem(last=False)
        return vector

    def warm(self, queries: list[str]) -> None:
        """Encode many queries in batches ahead of searching them (evaluation, training)."""
        if self.embedder is None:
            return
        residuals = list(dict.fromkeys(self.parser.parse(q).residual for q in queries))
        todo = [r for r in residuals if r not in self._query_cache]
        self.cache_size = max(self.cache_size, len(residuals) + 256)
        for start in range(0, len(todo), 256):
            chunk = todo[start:start + 256]
            for text, vector in zip(chunk, self.embedder.encode_queries(chunk), strict=True):
                self._query_cache[text] = vector

    def _with_sentences(self, parsed: ParsedQuery, dense: tuple[np.ndarray, np.ndarray], lexical_rows: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Dense scores of the candidates as the mean of the clause's similarity and its best sentence's.

        A short sentence that states the fact is closer to a question than the long clause around it (an
        English question meets ``高新技术企业突破1000家`` better than the whole paragraph). Candidates found
        only lexically get a dense score too. Without stored sentence vectors the clause scores stand.
        """
        index = self.index
        if index.catalog is None or index.dense is None or self.embedder is None or not len(dense[0]):
            return dense
        rows = np.unique(np.concatenate([dense[0], lexical_rows]).astype(np.int64))
        vector = self.query_vector(parsed.residual)
        best = index.sentences.best(index.rows.pids[rows], vector)
        if np.isnan(best).all():
            return dense
        clause = index.dense.vectors_of(rows) @ vector
        best = np.where(np.isnan(best), clause, best).astype(clause.dtype)
        has_vector = index.dense.covered[rows]
        rows, scores = rows[has_vector], ((clause + best) / 2)[has_vector]
        order = np.argsort(-scores, kind="stable")
        return rows[order], scores[order].astype(np.float32)

    def _boost(self, scored: dict[int, float], parsed: ParsedQuery, mask: np.ndarray | None,
               lexical_found: bool = True) -> None:
        """Named article first; clauses of a document the query names slightly ahead; for a question about a
        document by its 文号 alone (nothing else in it matches), the clause that prints the 文号 first."""
        if not scored and not parsed.article:
            return
        top = max(scored.values(), default=1.0) or 1.0
        if parsed.article and parsed.doc_ids:
            for doc_id in parsed.doc_ids:
                doc = self.index.documents.get(doc_id)
                if doc is None:
                    continue
                start = self._first_row(doc_id)
                for offset, clause in enumerate(doc.clauses):
                    row = start + offset
                    if clause.label == parsed.article and (mask is None or mask[row]):
                        scored[row] = scored.get(row, 0.0) + ARTICLE_BOOST * top + 1.0
        elif parsed.doc_ids and not parsed.restrict:
            named = {self._doc_pos[d] for d in parsed.doc_ids if d in self._doc_pos}
            for row in list(scored):
                if int(self.index.passage_doc[row]) in named:
                    scored[row] += NAMED_DOC_BOOST * top
        if parsed.regions and len(parsed.regions) < len(set(self._doc_region)):
            named_regions = set(parsed.regions)
            for row in list(scored):
                if self._doc_region[self.index.passage_doc[row]] in named_regions:
                    scored[row] += REGION_BOOST * top
        bare = parsed.residual == parsed.text or not lexical_found
        if parsed.doc_number and parsed.doc_ids and bare:
            rows = list(scored)
            for row, clause in zip(rows, self.index.clause_rows(rows), strict=True):
                if parsed.doc_number in clause.text:
                    scored[row] += top

    def _first_row(self, doc_id: str) -> int:
        position = self._doc_pos[doc_id]
        return int(np.searchsorted(self.index.passage_doc, position, side="left"))

    def _hits(self, scored: dict[int, float], k: int, decay: float = 1.0, paragraphs: bool = False) -> list[Hit]:
        """Whole clauses, best first; one hit per clause (per part of a too-long clause with ``paragraphs``) and per
        wording; with ``decay`` < 1 documents take turns."""
        ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))[: max(4 * k, 50)]
        pending = list(ranked)
        clauses: dict[int, Clause] = {}

        def clause_of(row: int) -> Clause:
            # read as they are reached, k at a time: most searches stop after the first k or so of the 50
            if row not in clauses:
                batch = [row, *(r for r, _ in pending[:k] if r not in clauses and r != row)]
                clauses.update(zip(batch, self.index.clause_rows(batch), strict=True))
            return clauses[row]

        hits: list[Hit] = []
        seen_units: set[str] = set()  # clauses, or with ``paragraphs`` the parts of a too-long clause
        seen_clauses: set[str] = set()
        seen_text: dict[bytes, tuple[int, int]] = {}  # text key -> (position in hits, row)
        per_doc: dict[int, int] = {}
        while pending and len(seen_clauses) < k:
            best = 0 if decay == 1.0 else max(range(len(pending)), key=lambda i: pending[i][1] * decay ** per_doc.get(
                int(self.index.passage_doc[pending[i][0]]), 0))
            row, score = pending.pop(best)
            clause = clause_of(row)
            unit = clause.passage_id if paragraphs and self._whole_span(clause) is None else clause.clause_id
            if unit in seen_units:
                continue
            key = self._text_key[row]
            if key in seen_text:
                # the same wording in another version of the document: show the newest version
                position, kept = seen_text[key]
                if self._doc_date[self.index.passage_doc[row]] > self._doc_date[self.index.passage_doc[kept]]:
                    hits[position] = self._hit(row, hits[position].score, clause)
                    seen_text[key] = (position, row)
                continue
            if clause.clause_id not in seen_clauses:
                doc = int(self.index.passage_doc[row])
                per_doc[doc] = per_doc.get(doc, 0) + 1
            seen_units.add(unit)
            seen_clauses.add(clause.clause_id)
            seen_text[key] = (len(hits), row)
            hits.append(self._hit(row, score, clause))
        return hits

    def _whole_span(self, clause: Clause) -> tuple[int, int] | None:
        """The offsets of the whole of a split clause, None when it is too long to read as one hit."""
        if clause.parts <= 1:
            return clause.char_start, clause.char_end
        first, last = self.index.clause_span(clause.clause_id)
        return (first, last) if last - first <= MAX_HIT_CHARS else None

    def _hit(self, row: int, score: float, clause: Clause) -> Hit:
        start, end, text = clause.char_start, clause.char_end, clause.text
        whole = self._whole_span(clause)
        if clause.parts > 1 and whole is not None:  # the whole clause, verbatim, unless it is too long
            start, end = whole
            text = self.index.body_slice(clause.doc_id, start, end)
        meta = self.index.metas[int(self.index.passage_doc[row])]
        return Hit(clause_id=clause.clause_id, passage_id=clause.passage_id, doc_id=clause.doc_id,
                   doc_title=meta.title, doc_number=meta.doc_number, issuer=meta.issuer, region=meta.region,
                   date=meta.date, heading_path=clause.heading_path, label=clause.label, heading=clause.heading, text=text,
                   char_start=start, char_end=end, citation=clause.citation, score=round(float(score), 6))


def quote_key(text: str) -> str:
    """Whitespace-free, normalised text for comparing quotes with clauses."""
    return re.sub(r"\s", "", normalise(text))
