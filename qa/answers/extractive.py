"""The default answerer: every answer sentence is a verbatim quote of a retrieved clause, or a refusal.

1. Scope (``scope``): a question about a place, law or year the collection does not hold is refused
   with a sentence that names what is missing; the nearest clauses are still listed, as not an answer.
2. Parts (``sides``): a question over several places (太仓和如皋分别…, 比较…) is answered one place at a time from
   that place's own documents; a place without documents is said to have no basis.
3. Evidence: every sentence of the retrieved clauses is scored by ``AnswerModel`` from what the model
   and the words say — the multilingual model's similarity of question and sentence (and clause), the
   share of the question's content words the sentence and its clause hold (IDF-weighted), whether it
   states the kind of figure asked for, its clause's rank — into the probability that it holds the
   asked-for fact. Headings, bare 文号 lines and lead-ins (ending in ：) are never answers, nor, for a figure asked
   of a year, a sentence whose figures are another year's (a 2025 target does not say what 2024's is).
4. The best sentence comes first; up to two more follow when nearly as likely. A part whose best
   sentence is below the model's threshold is not answered; when no part is, the question is refused, with the
   reason (``reasons``) when the collection's lack can be named: an indicator, a rate or a year not stated.
5. ``CitedAnswer`` verifies each quote against the document body and gives each clause one number.

The model's weights and threshold are fitted by ``bench/fit_answers.py`` on the fit half of
``bench/data/dev_questions.jsonl``, the training-only questions and the probe sets already read (never on the held-out
half, which it reports beside the shared questions) and shipped in ``data/answer_model.json``.
"""

from __future__ import annotations

import numpy as np

from qa.answers.candidates import (
    ASKS_RESPONSIBILITY,
    ORGANISATION,
    RESPONSIBILITY,
    Candidate,
    answers_nothing,
    by_deadline_asked,
    coverage,
    figure_near,
    given_years,
    in_time_asked,
    overlaps,
    paragraph_label,
    states_another_year,
    with_responsibility,
)
from qa.answers.citations import CitedAnswer, refusal
from qa.answers.evidence import EvidenceVectors
from qa.answers.indicators import IndicatorCheck
from qa.answers.metadata import printed_lines, unprinted, validity_lines
from qa.answers.model import PART_FEATURES, AnswerModel
from qa.answers.question import Question, QuestionAnalyzer
from qa.answers.reasons import (
    formula_unexplained,
    missing_place,
    no_basis,
    province_reason,
    rate_unstated,
    unstated,
    year_unstated,
)
from qa.answers.scope import Scope, ScopeChecker
from qa.answers.sides import EVERY_PLACE, SIDE_CUE, Part, asked_in_turn, without_places
from qa.answers.text import figure_positions, normalise, sentence_spans
from qa.config import settings
from qa.retrieval.searcher import Searcher
from qa.schemas import Answer, AnswerPart, Filters, Hit

MAX_SENTENCES = 3
MAX_DOCUMENTS = 6
CLOSE_RATIO = 0.5  # further sentences of a part must be at least half as likely as its best


def part_features(question: Question, candidates: list[Candidate]) -> dict[str, float]:
    """What the answerability model sees of a part: its best sentences and what the question names."""
    if not candidates:
        return dict.fromkeys(PART_FEATURES, 0.0)
    best = candidates[0]
    second = candidates[1].probability if len(candidates) > 1 else 0.0
    return {"best": best.probability, "margin": best.probability - second,
            "best_sem": max(c.features["sem"] for c in candidates),
            "best_clause_sem": max(c.features["clause_sem"] for c in candidates),
            "best_lex": max(c.features["lex"] for c in candidates), "unknown": question.unknown,
            "english": 1.0 if question.english else 0.0,
            "figure_absent": best.features["figure_absent"]}


class ExtractiveAnswerer:
    """Answers questions by quoting the sentences of retrieved clauses that answer them.

    Args:
        searcher: the searcher over the loaded index.
        model: the evidence model (the shipped one by default).
    """

    name = "extractive"

    def __init__(self, searcher: Searcher, model: AnswerModel | None = None):
        self.searcher = searcher
        self.model = model or AnswerModel.shipped()
        override = settings().answer_threshold
        if model is None and override is not None:
            self.model.threshold = override
        index = searcher.index
        self.analyzer = QuestionAnalyzer(index)
        # a word the lexical index holds is mentioned; only others need the scan of every body
        self.scope = ScopeChecker(index.metas, mentioned=lambda text: index.lexical.doc_freq(text) > 0
                                  or index.mentions(text), equivalent=self._bridged)
        self.vectors = EvidenceVectors(searcher)
        self.indicators = IndicatorCheck(index)

    def _bridged(self, word: str) -> bool:
        """Whether the term bridge finds a collection term for an English word (by dictionary or model)."""
        bridge, embedder = self.searcher.bridge, self.searcher.embedder
        return bridge is None or embedder is None or bool(bridge.translate(word, embedder))

    # -- the answer ------------------------------------------------------------------------------
    def answer(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        """Answer ``question`` from the index.

        Args:
            question: the question.
            k: clauses listed as ``nearest``.
            filters: restrictions on the documents that may answer.

        Returns:
            a cited answer (per part, for questions over several places), or a refusal with its reason and
            the nearest clauses.
        """
        analysed = self.analyse(question)
        scope = self.scope.check(question)
        nearest = self.searcher.search(question, k=k, mode="hybrid", filters=filters)
        reason = self._scope_reason(scope, analysed)
        if reason:
            return refusal(nearest, english=analysed.english, reason=reason)
        parts = self.parts(analysed, scope)
        cited = CitedAnswer(self.searcher.index)
        answer_parts: list[AnswerPart] = []
        query_vector = self.vectors.query_vector(analysed.searched)
        notes: list[str] = []  # what the quotes alone do not say (a document's status as of today)
        lacking: str | None = None  # why a part has no answer when its document lacks what is asked
        for part in parts:
            if part.missing:
                answer_parts.append(AnswerPart(name=part.name, answered=False, reason=part.missing))
                continue
            asked = self.analyse(part.question) if part.question else analysed
            vector = self.vectors.query_vector(part.question) if part.question else query_vector
            ranked = self.retrieve(asked, part, filters)
            validity = validity_lines(asked, ranked, self.searcher, filters)
            if validity:
                notes.append(validity[1])
            printed = printed_lines(asked, ranked, self.searcher, filters)  # 文号, issuer, date lines
            if validity:  # and the line stating the plan period, when that is asked too
                printed += [line for line in validity[0] if line not in printed]
            lacking = None if printed else unprinted(asked, ranked, self.searcher) or \
                self._indicator_unstated(asked, part, scope.covered_places)
            scored = [] if printed or lacking else self.candidates(asked, ranked, vector)
            years = self._years_asked(scope, part) if asked.figure else []
            kept = [c for c in scored if not states_another_year(asked.text, years, c.hit, c.start, c.end)]
            if kept[:1] != scored[:1]:
                kept = []  # the likeliest sentence gives the figure for another year: less likely ones do not answer
            chosen = [Candidate(hit=hit, rank=rank, start=a, end=b, features={}, probability=1.0)
                      for rank, hit, a, b in printed] or self.choose(asked, kept)
            if not chosen and not lacking:
                lacking = formula_unexplained(asked, ranked) or rate_unstated(asked, ranked, part.regions) or \
                    (year_unstated([y for y in years if y not in given_years(asked.text)] or years, part.regions,
                                   analysed.english) if kept[:1] != scored[:1] else None)
            first = len(cited.sentences)
            for candidate in chosen:
                cited.add(candidate.text, candidate.hit, candidate.start, candidate.end)
            answered = len(cited.sentences) > first
            answer_parts.append(AnswerPart(
                name=part.name, answered=answered, sentences=list(range(first, len(cited.sentences))),
                reason=None if answered else lacking or no_basis(part.name, analysed.english)))
        if not len(cited):
            if len(parts) > 1:
                reason = next((p.reason for p in answer_parts if p.reason and p.name), None)
            else:  # one part: say why only when the reason is more than "no passage answers"
                reason = lacking
            return refusal(nearest, english=analysed.english, reason=reason)
        result = cited.answer(nearest, self.name)
        if len(parts) > 1:
            result.parts = answer_parts
            result.answer = cited.text_by_part(answer_parts)
        if analysed.english:
            notes.append("The quoted passages are in Chinese, as the documents state them.")
        if notes:
            result.note = " ".join(notes)
        return result

    def analyse(self, text: str) -> Question:
        """The question's words and cues; an English question's words also as the collection's Chinese terms the
        model finds for them (``high-tech enterprises`` → 高新技术企业), so sentences can be matched by wording."""
        question = self.analyzer.analyse(text)
        bridge, embedder = self.searcher.bridge, self.searcher.embedder
        if question.english and bridge is not None and embedder is not None:
            chinese = self.analyzer.analyse(" ".join(bridge.translate(text, embedder)))
            question.terms = {**question.terms, **chinese.terms}
        return question

    def _scope_reason(self, scope: Scope, question: Question) -> str | None:
        if not scope.outside:
            return province_reason(scope, question)
        if scope.places and scope.covered_places and scope.years and scope.missing_years:
            metas = self.searcher.index.metas
            ends = [metas[i].period_end or max(metas[i].years, default=0) for i in self.scope.documents_of(scope)]
            last = max((e for e in ends if e), default=None)
            places = "、".join(scope.covered_places)
            years = "、".join(f"{y}年" for y in scope.missing_years)
            if question.english:
                return f"The documents of {places} do not cover {years}" + (f" (they end in {last})." if last else ".")
            return f"文件库中{places}的文件没有涉及{years}" + (f"（只到{last}年）。" if last else "。")
        return scope.reason(english=question.english)

    def _indicator_unstated(self, question: Question, part: Part, places: list[str]) -> str | None:
        """Why a figure question about a place has no answer when it names an indicator, in the collection's wording,
        that the place's documents never use (a near miss: 太仓's plan sets no 技术合同成交额 target), counts things
        they never name (科技型中小企业) or names an indicator by a long compound they never write."""
        if question.figure is None or question.english or not part.regions or question.rates:
            return None  # a rate asked by name has its own reason, naming the rate (``_rate_unstated``)
        own = self._regions_of([part.name] if part.name else places, around=False)
        indicator = self.indicators.missing(question.text, part.regions, own=own)
        return unstated(indicator, own or part.regions, english=False) if indicator else None

    def _years_asked(self, scope: Scope, part: Part) -> list[int]:
        """The years the question names that the part's own documents speak of: within them, a figure stated for
        another year does not answer (one a place's documents never reach, “太仓呢?” after a 2025 question, is left to
        the scope check)."""
        metas = [m for m in self.searcher.index.metas if not part.regions or m.region in part.regions]
        return [year for year, covered in scope.years
                if covered and any(ScopeChecker.speaks_of(meta, year) for meta in metas)]

    def _regions_of(self, places: list[str], around: bool = True) -> list[str]:
        """The collection's regions that are the named places or lie within them and, ``around``, the cities around
        them whose documents also speak for them (南通市 for 如皋: 如皋市 and 南通市; without: 如皋市)."""
        regions = {m.region for m in self.searcher.index.metas if m.region}
        named = [d for place in places for d in self.scope.gazetteer.by_name.get(place, [])]
        return sorted(region for region in regions if any(
            d.code == division.code or d.contains(division) or (around and division.contains(d))
            for division in self.scope.gazetteer.lookup(region) for d in named))

    # -- parts -------------------------------------------------------------------------------------
    def parts(self, question: Question, scope: Scope) -> list[Part]:
        """The sides of the question: one part, or one per named place for questions over several."""
        places = [canonical for _, canonical, _ in scope.places]
        if not places and EVERY_PLACE.search(question.text) and (question.figure or SIDE_CUE.search(question.text)):
            regions = self._evidence_regions(question)  # "各地…分别是多少": each place the evidence comes from
            if len(regions) >= 2:
                return [Part(name=region, regions=[region]) for region in regions]
        in_turn = asked_in_turn(question.text, scope.places)
        several_places = len(dict.fromkeys(places)) >= 2 and (scope.joined or bool(SIDE_CUE.search(question.text))
                                                              or len(in_turn) >= 2)
        if not several_places:
            regions = self._regions_of(scope.covered_places) if scope.covered_places else None
            return [Part(name=None, regions=regions or None)]
        parts = []
        for _, canonical, covered in scope.places:
            if any(p.name == canonical for p in parts):
                continue
            if covered:  # the place's own documents; those of the places around it only when it has none
                own = [m.region for m in self.searcher.index.metas if m.region == canonical]
                others = [written for written, name, _ in scope.places if name != canonical]
                parts.append(Part(name=canonical, regions=sorted(set(own)) or self._regions_of([canonical]),
                                  question=in_turn.get(canonical) or without_places(question.text, others)))
            else:
                parts.append(Part(name=canonical, missing=missing_place(canonical, question.english)))
        return parts

    def _evidence_regions(self, question: Question) -> list[str]:
        """The places of the clauses that best answer ``question``, most relevant first (at most ``MAX_DOCUMENTS``)."""
        hits = self.searcher.search(question.searched, k=15, mode="hybrid")
        return list(dict.fromkeys(hit.region for hit in hits if hit.region))[:MAX_DOCUMENTS]

    def retrieve(self, question: Question, part: Part, filters: Filters | None) -> list[tuple[int, Hit]]:
        """(rank, clause) pairs to draw a part's answer from."""
        scoped = filters
        if part.regions:
            wanted = part.regions if not (filters and filters.region) else \
                [r for r in part.regions if r in filters.region]
            scoped = (filters or Filters()).model_copy(update={"region": wanted or part.regions})
        depth = 15 if question.several and part.name is None else 8
        # how things stand now is told in reports, whose long unnumbered text a search shows one paragraph of: such a
        # question reads every paragraph that ranks (targets, which plans state clause by clause, do not need to)
        hits = self.searcher.search(question.searched, k=depth, mode="hybrid", filters=scoped, paragraphs=question.now)
        ranked, clauses = [], set()
        for hit in hits:  # a clause's further paragraphs rank after the clauses found before them
            ranked.append((len(clauses - {hit.clause_id}), hit))
            clauses.add(hit.clause_id)
        return ranked

    # -- scoring ---------------------------------------------------------------------------------
    def candidates(self, question: Question, ranked: list[tuple[int, Hit]], query_vector: np.ndarray | None
                   ) -> list[Candidate]:
        """Every sentence of the ranked clauses, scored; most likely first."""
        sentence_vectors = self.vectors.sentence_vectors([h for _, h in ranked]) if query_vector is not None else {}
        clause_sims = self.vectors.clause_similarities([h for _, h in ranked], query_vector)
        found: list[Candidate] = []
        loosely: list[dict[str, float]] = []  # an English question's figures not beside its bridged words
        asks_responsibility = bool(ASKS_RESPONSIBILITY.search(question.text))
        for rank, hit in ranked:
            region = normalise(hit.region or "")
            context = coverage(question, normalise(" ".join(hit.heading_path) + " " + hit.text), region)
            for start, end in sentence_spans(hit.text):
                sentence = hit.text[start:end]
                asked_number = question.doc_number and bool(hit.doc_number) and hit.doc_number in sentence
                if (answers_nothing(question, sentence, hit, end) or self._organisation_line(sentence)) \
                        and not asked_number:
                    # a bare 文号 answers "文号是多少"
                    continue
                covered = normalise(sentence + " " + paragraph_label(hit.text, start))
                if asked_number:
                    covered += " " + normalise(hit.doc_title)
                vector = sentence_vectors.get((hit.passage_id, start))
                features = {
                    "sem": float(vector @ query_vector) if vector is not None else clause_sims.get(hit.passage_id, 0.0),
                    "clause_sem": clause_sims.get(hit.passage_id, 0.0),
                    "lex": coverage(question, covered, region),
                    "ctx": context,
                    "figure_near": 0.0, "figure_absent": 0.0,
                    "rank": 1.0 / (1 + rank),
                    "short": 1.0 if len(sentence) < 12 else 0.0,
                    "english": 1.0 if question.english else 0.0,
                }
                if question.figure is not None:  # the kind of figure asked for, next to the question's words
                    near = figure_near(question, sentence)
                    features["figure_near"] = 1.0 if near else 0.0
                    features["figure_absent"] = 0.0 if near or question.target_only else 1.0
                    if question.english and not near and figure_positions(sentence, question.figure):
                        loosely.append(features)
                # evidence that the clause is the one asked about, but not quoted unless asked who carries it out
                quotable = asks_responsibility or not RESPONSIBILITY.match(sentence.strip())
                found.append(Candidate(hit=hit, rank=rank, start=start, end=end, features=features, quotable=quotable))
        if loosely and not any(c.features.get("figure_near") for c in found):
            # no sentence has the kind of figure beside the Chinese terms an English question was bridged to (which
            # may miss the documents' word): the kind of figure alone says it is near (a rank is 第12位)
            for features in loosely:
                features["figure_near"], features["figure_absent"] = 1.0, 0.0
        if found:  # how each sentence compares with the part's best, whatever the question's own level
            top_sem = max(c.features["sem"] for c in found)
            top_lex = max(c.features["lex"] for c in found)
            for candidate in found:
                candidate.features["sem_gap"] = candidate.features["sem"] - top_sem
                candidate.features["lex_gap"] = candidate.features["lex"] - top_lex
                candidate.probability = self.model.sentence.probability(candidate.features)
        found.sort(key=lambda c: (-c.probability, c.rank, c.start))
        return found

    def _organisation_line(self, sentence: str) -> bool:
        """A line that only names a body (如皋市科技局, 南通市科技创新委员会办公室): a letterhead, not an answer."""
        stripped = sentence.strip()
        if len(stripped) > 24 or not ORGANISATION.match(stripped):
            return False
        spans = self.scope.gazetteer.find_spans(stripped)
        return bool(spans) and spans[0][1] == 0

    def answerable(self, question: Question, candidates: list[Candidate]) -> float:
        """The probability that the part these candidates belong to has an answer among them."""
        return self.model.answerable.probability(part_features(question, candidates))

    def choose(self, question: Question, candidates: list[Candidate]) -> list[Candidate]:
        """The sentences of one part: the best, and up to two more nearly as likely; none when the part looks
        unanswerable."""
        if not candidates or self.answerable(question, candidates) < self.model.threshold:
            return []
        strong = [c for c in candidates if c.probability >= CLOSE_RATIO * candidates[0].probability and c.quotable] \
            or [c for c in candidates if c.quotable][:1]
        if not strong:
            return []
        if question.several and not question.regions:
            by_doc: dict[str, Candidate] = {}
            for candidate in strong:  # precedent wording: the best sentence of each document
                by_doc.setdefault(candidate.hit.doc_id, candidate)
            return list(by_doc.values())[:MAX_DOCUMENTS]
        best = strong[0]
        chosen = [best]
        for candidate in strong[1:]:
            if len(chosen) == MAX_SENTENCES or candidate.probability < CLOSE_RATIO * best.probability:
                break
            if not any(overlaps(candidate, c) for c in chosen):
                chosen.append(candidate)
        chosen = by_deadline_asked(question, in_time_asked(question, chosen))
        if ASKS_RESPONSIBILITY.search(question.text):  # who carries it out: the chosen task's own note says
            return with_responsibility(chosen, candidates, MAX_SENTENCES)
        return chosen
