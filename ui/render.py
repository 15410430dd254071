"""Safe HTML for the UI: every piece of document, clause and answer text is escaped before it is marked up.

The returned strings are single-line HTML blocks (``<div …>…</div>`` with newlines turned into ``<br>``), so
Streamlit's markdown renderer passes them through as one raw HTML block and never interprets the document
text as markdown either (no links, images, emphasis or LaTeX smuggled in through a policy file).
Highlights are added by escaping each text segment and only then wrapping it in ``<mark>``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

# Highlight kinds, strongest first: the quoted span of an answer, wording shared with a draft, a query term.
QUOTE, SHARED, TERM = "q", "s", "t"
_PRIORITY = {QUOTE: 3, SHARED: 2, TERM: 1}

Span = tuple[int, int, str]


_STOP_TERMS = {"多少", "什么", "哪些", "如何", "怎么", "怎样", "是否", "哪里", "为什么", "几个", "有没有", "哪个"}
_EDGE_CHARS = set("的了是在和与及要有对把被等为之其或而并也都就将从到向以于吗呢啊")
_PUNCT = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
                    r",.;:!?'\"()\[\]{}<>/\\|~`@#$%^&*+=_\-—…“”‘’·]+")


# Characters markdown (and Streamlit's extensions: :emoji:, :color[..], $latex$) give meaning to, as numeric
# references. html.escape's own output (&amp; &lt; &gt; &quot; &#x27;) contains none of them.
_MD_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "[]*_`$~:\\|!{}"})


def _escape(text: str) -> str:
    return html.escape(text, quote=True).translate(_MD_ENTITIES)


def esc(text: object) -> str:
    """``html.escape`` (quotes included) of a one-line value, markdown syntax neutralised too.

    Line breaks become spaces; None becomes "".
    """
    return "" if text is None else re.sub(r"\s*[\r\n]+\s*", " ", _escape(str(text)))


def _lines(text: str) -> str:
    """Escaped ``text`` with line breaks as ``<br>``, so the HTML stays on one line."""
    return re.sub(r"(?:\r\n|\r|\n)+", "<br>", _escape(text))


def md_escape(text: object) -> str:
    """Backslash-escape markdown syntax for labels (button, expander) that render markdown but not HTML."""
    if text is None:
        return ""
    return re.sub(r"([\\`*_{}\[\]<>#!|~$:])", r"\\\1", str(text)).replace("\n", " ")


def mark_html(text: str, spans: Iterable[Span] = ()) -> str:
    """Escaped ``text`` with ``spans`` (start, end, kind) wrapped in ``<mark class="qa-KIND">``."""
    n = len(text)
    kinds: list[str | None] = [None] * n
    for start, end, kind in spans:
        start, end = max(0, start), min(n, end)
        for i in range(start, end):
            current = kinds[i]
            if current is None or _PRIORITY[kind] > _PRIORITY[current]:
                kinds[i] = kind
    out: list[str] = []
    i = 0
    while i < n:
        j = i
        while j < n and kinds[j] == kinds[i]:
            j += 1
        segment = _lines(text[i:j])
        out.append(f'<mark class="qa-{kinds[i]}">{segment}</mark>' if kinds[i] else segment)
        i = j
    result = "".join(out)
    return re.sub(r"^(?:<br>)+|(?:<br>)+$", "", result)


def _clean_term(term: str) -> str:
    while term and (term[0] in _EDGE_CHARS or _PUNCT.match(term[0])):
        term = term[1:]
    while term and (term[-1] in _EDGE_CHARS or _PUNCT.match(term[-1])):
        term = term[:-1]
    return term


def query_terms(query: str, text: str, min_len: int = 2, max_query: int = 200) -> list[str]:
    """Longest pieces of ``query`` (≥ ``min_len`` characters) that also occur in ``text``.

    Works without a word segmenter: greedy longest common substrings, trimmed of function characters and
    punctuation, question words dropped.
    """
    q = query[:max_query]
    terms: list[str] = []
    i = 0
    while i < len(q):
        found = 0
        for j in range(len(q), i + min_len - 1, -1):
            if q[i:j] in text:
                found = j - i
                break
        if found >= min_len:
            for piece in _PUNCT.split(q[i:i + found]):
                term = _clean_term(piece)
                if len(term) >= min_len and term not in _STOP_TERMS and term not in terms:
                    terms.append(term)
            i += found
        else:
            i += 1
    return terms


def term_spans(terms: Iterable[str], text: str, kind: str = TERM) -> list[Span]:
    """Every occurrence of each term in ``text`` as a span."""
    spans: list[Span] = []
    for term in terms:
        if not term:
            continue
        start = text.find(term)
        while start >= 0:
            spans.append((start, start + len(term), kind))
            start = text.find(term, start + len(term))
    return spans


def excerpt_window(length: int, spans: Sequence[Span], limit: int) -> tuple[int, int]:
    """The part of a long text a card shows: ``limit`` characters from a little before the strongest
    highlight (the first quote, else the first shared wording, else the first query term), never cutting a
    quote: with several quotes the excerpt runs to the last one."""
    if length <= limit * 1.3:
        return 0, length
    best = max(spans, key=lambda sp: (_PRIORITY[sp[2]], -sp[0]), default=None)
    start = max(0, best[0] - limit // 5) if best else 0
    end = min(length, start + limit)
    if best and best[2] == QUOTE:
        last_quote = max(e for s, e, k in spans if k == QUOTE)
        end = min(length, max(end, last_quote + 20))
    if end - start < limit:
        start = max(0, end - limit)
    return start, end


def highlight(text: str, query: str | None = None, quote: tuple[int, int] | None = None,
              shared: Sequence[tuple[int, int]] = (), limit: int | None = None,
              quotes: Sequence[tuple[int, int]] = (), excerpt_note: str = "…（节选，全文 {n} 字）") -> str:
    """Escaped clause text with the quoted spans, shared wording and query terms marked.

    ``quote`` and ``quotes`` are offsets into ``text`` (every sentence an answer quotes from the clause is
    marked). With ``limit``, a text much longer than that is cut to an excerpt around its strongest
    highlight, marked ``…`` at the cut ends (the whole text stays one click away, in 查看原文).
    """
    spans: list[Span] = []
    if query:
        spans += term_spans(query_terms(query, text), text)
    spans += [(s, e, SHARED) for s, e in shared]
    spans += [(s, e, QUOTE) for s, e in ([quote] if quote else []) + list(quotes)]
    if limit is None:
        return mark_html(text, spans)
    start, end = excerpt_window(len(text), spans, limit)
    body = mark_html(text[start:end], [(s - start, e - start, k) for s, e, k in spans if e > start and s < end])
    if start > 0:
        body = '<span class="qa-cut">…</span>' + body
    if end < len(text):
        body += f'<span class="qa-cut">{esc(excerpt_note.format(n=len(text)))}</span>'
    return body


_REF = re.compile(r"\[(\d{1,3})\]")


def _ref(n: int) -> str:
    """A ``[n]`` marker as a link to its clause card (``ui.style.REF_SCRIPT`` scrolls there and flashes it)."""
    return f'<a class="qa-ref-link" href="#qa-cite-{n}" data-n="{n}"><sup class="qa-ref">[{n}]</sup></a>'


def answer_html(answer: str) -> str:
    """The answer text, escaped, with its ``[n]`` markers as links to their cards."""
    pieces = _REF.split(answer.strip())  # text, n, text, n, …, text
    body = "".join(_lines(p) if i % 2 == 0 else _ref(int(p)) for i, p in enumerate(pieces))
    return f'<div class="qa-answer">{body}</div>'


def sentences_html(sentences: Sequence, heading: str | None = None, missing: str | None = None) -> str:
    """Some of an answer's sentences (``AnswerSentence``), each followed by its marker, as the service writes
    them (the marker before the sentence's final stop); under ``heading`` when given (a place's part), or
    the reason that part has no answer (``missing``)."""
    out = []
    for sentence in sentences:
        body = sentence.text.rstrip()
        stop = body[-1] if body and body[-1] in "。；！？.!?;" else "。"
        core = body[:-1] if body and body[-1] in "。；！？.!?;" else body
        out.append(f"{_lines(core)}{_ref(sentence.citation)}{esc(stop)}")
    head = f'<div class="qa-part-head">{esc(heading)}</div>' if heading else ""
    text = "".join(out) if out else f'<span class="qa-miss">{esc(missing or "")}</span>'
    return f'<div class="qa-answer">{head}{text}</div>'


def refusal_html(message: str) -> str:
    return f'<div class="qa-refuse">{_lines(message)}</div>'


def draft_html(draft: str, shared_pieces: Iterable[str]) -> str:
    """The draft with every piece of wording found in some result marked."""
    return f'<div class="qa-draft">{mark_html(draft, term_spans(shared_pieces, draft, SHARED))}</div>'
