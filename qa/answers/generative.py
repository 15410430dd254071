"""Optional answerer: an LLM behind any OpenAI-compatible chat endpoint composes the answer, and every
sentence it writes is checked against the clause it cites before it is shown.

Configuration (environment): ``QA_LLM_BASE_URL`` (e.g. ``http://127.0.0.1:8080/v1``; unset = no LLM),
``QA_LLM_MODEL``, ``QA_LLM_API_KEY`` (optional), ``QA_LLM_TIMEOUT`` (seconds, default 30),
``QA_LLM_MIN_CONTAINMENT`` (default 0.6) and ``QA_LLM_KEEP_UNSUPPORTED`` (default off).

Flow: the extractive answerer runs first. When it refuses (weak evidence) the refusal stands and the
LLM is not asked. Otherwise the LLM gets the numbered clauses (the extractive answer's cited clauses
first, then the nearest ones) and must end every sentence with ``[n]``. A sentence of the reply is
*supported* when at least ``min_containment`` of its character bigrams occur in the clauses it cites
(with their document's title and region) and every number it writes occurs there too. Unsupported
sentences — including sentences without a marker and markers pointing at no clause — are REMOVED by
default (``keep_unsupported`` keeps them, flagged ``verified=False``). Each kept sentence cites the
clause sentence it overlaps most, quoted verbatim. When the endpoint fails, times out, answers
garbage or nothing survives the check, the extractive answer is returned (``answerer="extractive"``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import httpx

from qa.answers.citations import CitedAnswer
from qa.answers.extractive import ExtractiveAnswerer
from qa.answers.text import bigrams, containment, numbers, numbers_supported, sentence_spans
from qa.schemas import Answer, Filters, Hit

log = logging.getLogger("qa.answers.llm")

SYSTEM_PROMPT = (
    "你是政策文件问答助手。只能依据用户给出的编号条款原文回答，不得使用条款以外的知识，不得推测或补充。"
    "回答用简体中文，简洁准确，数字必须与条款原文一致。"
    "每一句话都必须以引用标记结尾，例如“……。[1]”或“……。[1][3]”，标记中的数字是支持这句话的条款编号。"
    "条款中没有依据的内容一律不写。如果这些条款不能回答问题，只回答“无法回答”。"
)
_MARKERS = re.compile(r"(?:\s*[\[【［]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]】］])+")
_MARKER_NUMBERS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")
_WORDISH = re.compile(r"[\w\u4e00-\u9fff]")
MAX_CLAUSE_CHARS = 1200  # per clause in the prompt


class LLMError(RuntimeError):
    """The endpoint failed, timed out or answered something that is not a chat completion."""


@dataclass
class LLMConfig:
    """Where the chat endpoint is and how its replies are checked.

    Args:
        base_url: the API root (``…/v1``) or the full ``…/chat/completions`` URL.
        model: the model name sent with each request.
        api_key: sent as a bearer token when set.
        timeout: seconds for the whole request.
        min_containment: share of a sentence's character bigrams that must occur in the cited clauses.
        keep_unsupported: keep unsupported sentences flagged ``verified=False`` instead of removing them.
        max_tokens: reply length limit.
    """

    base_url: str
    model: str = "default"
    api_key: str | None = None
    timeout: float = 30.0
    min_containment: float = 0.6
    keep_unsupported: bool = False
    max_tokens: int = 800

    @classmethod
    def from_env(cls) -> LLMConfig | None:
        """The configuration from ``QA_LLM_*`` settings; None when ``QA_LLM_BASE_URL`` is unset."""
        from qa.config import settings

        config = settings()
        base = (config.llm_base_url or "").strip()
        if not base:
            return None
        return cls(base_url=base, model=config.llm_model, api_key=config.llm_api_key or None,
                   timeout=config.llm_timeout, min_containment=config.llm_min_containment,
                   keep_unsupported=config.llm_keep_unsupported)

    @property
    def url(self) -> str:
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"


def build_messages(question: str, clauses: list[Hit]) -> list[dict[str, str]]:
    """The chat messages: instructions, then the question and the numbered clauses."""
    numbered = []
    for n, hit in enumerate(clauses, 1):
        text = hit.text if len(hit.text) <= MAX_CLAUSE_CHARS else hit.text[:MAX_CLAUSE_CHARS] + "……"
        numbered.append(f"[{n}] {hit.citation}\n{text}")
    user = f"问题：{question}\n\n条款：\n\n" + "\n\n".join(numbered) + "\n\n请只依据以上条款回答，每句话以引用标记结尾。"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def split_reply(reply: str) -> list[tuple[str, list[int]]]:
    """Sentences of a reply with the clause numbers each cites (an empty list: no marker).

    A marker group belongs to the sentence just before it; other sentences in the same stretch of
    text have no marker of their own.
    """
    result: list[tuple[str, list[int]]] = []
    position = 0
    for match in _MARKERS.finditer(reply + "\n"):
        _add_stretch(reply[position:match.start()], [int(n) for n in _MARKER_NUMBERS.findall(match.group())], result)
        position = match.end()
    _add_stretch(reply[position:], [], result)
    return result


def _add_stretch(stretch: str, cited: list[int], result: list[tuple[str, list[int]]]) -> None:
    pieces = [p.strip() for p in _SENTENCE_END.split(stretch)]
    pieces = [p for p in pieces if _WORDISH.search(p)]
    if not pieces:
        if cited and result and not result[-1][1]:  # "…。\n[1]": the marker of the sentence before
            result[-1] = (result[-1][0], cited)
        return
    for piece in pieces[:-1]:
        result.append((piece, []))
    result.append((pieces[-1], cited))


class LLMAnswerer:
    """Answers through a chat model, keeping only sentences the cited clauses support.

    Args:
        extractive: the extractive answerer (evidence gate and fallback).
        config: endpoint and checking settings.
        client: an httpx client to reuse (one is created otherwise).
    """

    name = "llm"

    def __init__(self, extractive: ExtractiveAnswerer, config: LLMConfig, client: httpx.Client | None = None):
        self.extractive = extractive
        self.config = config
        self.client = client or httpx.Client(timeout=config.timeout)

    def answer(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        """Answer ``question``; falls back to the extractive answer on any failure.

        Args:
            question: the question.
            k: nearest clauses to list and to offer the model.
            filters: restrictions on the documents that may answer.

        Returns:
            an answer with ``answerer="llm"``, or the extractive answer or refusal.
        """
        fallback = self.extractive.answer(question, k, filters)
        if not fallback.answerable:
            return fallback
        clauses = _clauses_for_prompt(fallback)
        try:
            reply = self.complete(build_messages(question, clauses))
        except LLMError as err:
            log.warning("LLM endpoint failed, answering extractively: %s", err)
            return fallback
        cited = self.check(reply, clauses)
        if cited is None or not len(cited):
            log.info("no sentence of the LLM reply is supported by its clauses; answering extractively")
            return fallback
        return cited.answer(fallback.nearest, self.name)

    def complete(self, messages: list[dict[str, str]]) -> str:
        """POST the messages to ``{base}/chat/completions``; returns the reply text.

        Raises:
            LLMError: network error, timeout, non-2xx status or a body that is not a chat completion.
        """
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        body = {"model": self.config.model, "messages": messages, "temperature": 0,
                "max_tokens": self.config.max_tokens, "stream": False}
        try:
            response = self.client.post(self.config.url, json=body, headers=headers, timeout=self.config.timeout)
        except httpx.HTTPError as err:
            raise LLMError(f"{type(err).__name__}: {err}") from None
        if response.status_code >= 300:
            raise LLMError(f"HTTP {response.status_code} from {self.config.url}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMError("the reply is not a chat completion") from None
        if not isinstance(content, str) or not content.strip():
            raise LLMError("the reply has no text")
        return content

    def check(self, reply: str, clauses: list[Hit]) -> CitedAnswer | None:
        """Keep the sentences of ``reply`` that their cited clauses support.

        Returns:
            the checked answer, or None when the model declined to answer.
        """
        if "无法回答" in reply and not _MARKERS.search(reply):
            return None
        cited = CitedAnswer(self.extractive.searcher.index)
        for sentence, numbers_cited in split_reply(reply):
            hits = [clauses[n - 1] for n in dict.fromkeys(numbers_cited) if 1 <= n <= len(clauses)]
            supported = bool(hits) and self.supported(sentence, hits)
            if not supported and not self.config.keep_unsupported:
                log.info("removed unsupported sentence: %s", sentence)
                continue
            target = hits or clauses
            hit, start, end = _best_quote(sentence, target)
            if hit is not None:
                cited.add(sentence, hit, start, end, verified=supported)
        return cited

    def supported(self, sentence: str, hits: list[Hit]) -> bool:
        """Whether the cited clauses contain the sentence's wording and all its numbers."""
        source = "\n".join(f"{h.doc_title} {h.region or ''} {' '.join(h.heading_path)}\n{h.text}" for h in hits)
        if not numbers(sentence) and len(bigrams(sentence)) < 2:
            return False
        return containment(sentence, source) >= self.config.min_containment and numbers_supported(sentence, source)


def _clauses_for_prompt(fallback: Answer) -> list[Hit]:
    """The clauses the extractive answer cites first, then the nearest ones; each once."""
    seen: dict[str, Hit] = {}
    for citation in fallback.citations:
        if citation.clause_id not in seen:
            fields = citation.model_dump(include=set(Hit.model_fields))
            seen[citation.clause_id] = Hit(**fields, passage_id=citation.clause_id, score=0.0)
    for hit in fallback.nearest:
        seen.setdefault(hit.clause_id, hit)
    return list(seen.values())


def _best_quote(sentence: str, hits: list[Hit]) -> tuple[Hit | None, int, int]:
    """The clause sentence that shares most bigrams with ``sentence``: what the sentence is quoted as."""
    wanted = bigrams(sentence)
    best: tuple[float, Hit | None, int, int] = (-1.0, None, 0, 0)
    for hit in hits:
        for start, end in sentence_spans(hit.text, min_chars=2) or [(0, len(hit.text))]:
            shared = len(wanted & bigrams(hit.text[start:end]))
            if shared > best[0]:
                best = (shared, hit, start, end)
    return best[1], best[2], best[3]

