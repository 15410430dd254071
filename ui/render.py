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

from qa.schemas import Document

# Highlight kinds, strongest first: the quoted span of an answer, wording shared with a draft, a query term.
QUOTE, SHARED, TERM = "q", "s", "t"
_PRIORITY = {QUOTE: 3, SHARED: 2, TERM: 1}

Span = tuple[int, int, str]

CSS = """
<style>
[data-testid="stAppDeployButton"]{display:none}
[data-testid="stMainBlockContainer"]{padding:2.2rem 3rem 2rem 3rem}
.qa-card{margin:0 0 .1rem 0}
.qa-title{font-weight:600;font-size:1.02rem;line-height:1.5}
.qa-title .qa-n{display:inline-block;min-width:1.7em;padding:0 .35em;margin-right:.4em;border-radius:4px;
  background:#1f4e79;color:#fff;font-size:.8rem;text-align:center;vertical-align:.1em}
.qa-meta{font-size:.84rem;opacity:.8;margin:.2rem 0 .1rem 0}
.qa-meta .qa-docno{font-weight:600;opacity:1}
.qa-meta .qa-sep{opacity:.5;margin:0 .35em}
.qa-path{font-size:.82rem;color:#1f6fb2;margin:.1rem 0 .35rem 0}
.qa-text{font-size:.95rem;line-height:1.8;text-align:justify}
.qa-cut{opacity:.6;font-size:.85em}
.qa-score{float:right;font-size:.78rem;opacity:.6;font-weight:400}
mark.qa-q{background:#ffe58f;color:#1a1a1a;padding:0 1px;border-radius:2px}
mark.qa-s{background:#c8f0c8;color:#1a1a1a;padding:0 1px;border-radius:2px}
mark.qa-t{background:transparent;color:inherit;border-bottom:2px solid #f08c00;padding:0}
.qa-answer{font-size:1.06rem;line-height:1.95;padding:.6rem .9rem;border-left:4px solid #1f4e79;
  background:rgba(31,78,121,.06);border-radius:0 6px 6px 0}
.qa-answer sup.qa-ref,.qa-sent sup.qa-ref{color:#1f4e79;font-weight:700;font-size:.72em;margin:0 1px}
.qa-refuse{font-size:1.02rem;line-height:1.8;padding:.6rem .9rem;border-left:4px solid #d4380d;
  background:rgba(212,56,13,.07);border-radius:0 6px 6px 0}
.qa-draft{font-size:1rem;line-height:1.9;padding:.5rem .8rem;border:1px dashed rgba(128,128,128,.5);border-radius:6px;
  margin-bottom:.6rem}
.qa-doc{font-size:.95rem;line-height:1.85}
.qa-doc .qa-u{margin:.25rem 0 .45rem 0;padding:.1rem .4rem;border-radius:4px}
.qa-doc .qa-h{font-weight:600}
.qa-doc .qa-hl{font-weight:600}
.qa-doc .qa-target{background:rgba(255,229,143,.35);outline:2px solid #f0b400;scroll-margin-top:4rem}
.qa-doc .qa-lbl{font-size:.72rem;opacity:.55;margin-left:.5em;font-weight:400}
.qa-head{font-size:1.15rem;font-weight:600;margin-bottom:.2rem}
table.qa-table{width:100%;border-collapse:collapse;font-size:.87rem;line-height:1.5;margin:.2rem 0 .6rem 0}
table.qa-table th{text-align:left;font-weight:600;white-space:nowrap;background:rgba(128,128,128,.09)}
table.qa-table th,table.qa-table td{padding:.4rem .55rem;border:none;border-bottom:1px solid rgba(128,128,128,.22);vertical-align:top}
table.qa-table td.qa-nw{white-space:nowrap}
table.qa-table td.qa-num{text-align:right;white-space:nowrap}
</style>
"""

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
    highlight (the quote, else the first shared wording, else the first query term), never cutting the quote."""
    if length <= limit * 1.3:
        return 0, length
    best = max(spans, key=lambda sp: (_PRIORITY[sp[2]], -sp[0]), default=None)
    start = max(0, best[0] - limit // 5) if best else 0
    end = min(length, start + limit)
    if best and best[2] == QUOTE:
        end = min(length, max(end, best[1] + 20))
    if end - start < limit:
        start = max(0, end - limit)
    return start, end


def highlight(text: str, query: str | None = None, quote: tuple[int, int] | None = None,
              shared: Sequence[tuple[int, int]] = (), limit: int | None = None) -> str:
    """Escaped clause text with the quoted span, shared wording and query terms marked.

    With ``limit``, a text much longer than that is cut to an excerpt around its strongest highlight,
    marked ``…`` at the cut ends (the whole text stays one click away, in 查看原文).
    """
    spans: list[Span] = []
    if query:
        spans += term_spans(query_terms(query, text), text)
    spans += [(s, e, SHARED) for s, e in shared]
    if quote:
        spans.append((quote[0], quote[1], QUOTE))
    if limit is None:
        return mark_html(text, spans)
    start, end = excerpt_window(len(text), spans, limit)
    body = mark_html(text[start:end], [(s - start, e - start, k) for s, e, k in spans if e > start and s < end])
    if start > 0:
        body = '<span class="qa-cut">…</span>' + body
    if end < len(text):
        body += f'<span class="qa-cut">…（节选，全文 {len(text)} 字）</span>'
    return body


def _meta_parts(doc_number: str | None, issuer: str | None, region: str | None, date: str | None) -> str:
    parts = []
    if doc_number:
        parts.append(f'<span class="qa-docno">{esc(doc_number)}</span>')
    if issuer:
        parts.append(esc(issuer))
    if region:
        parts.append(esc(region))
    if date:
        parts.append(f"日期 {esc(date)}")
    return '<span class="qa-sep">·</span>'.join(parts) if parts else "（无文号、发文机关信息）"


def clause_heading(label: str | None, text: str, limit: int = 30) -> str | None:
    """The clause's own number and heading as written at its start (``二、工作目标``, ``8.壮大高新技术企业``),
    else just its number."""
    if not label:
        return None
    first = re.split(r"[\n。；：:]", text.lstrip(), maxsplit=1)[0].strip()
    return first if first.startswith(label) and len(first) <= limit else label


def heading_trail(heading_path: Sequence[str], label: str | None = None, text: str = "") -> str:
    """``一、总体要求 › (二)主要目标 › 1.加强……`` as plain text."""
    trail = list(heading_path)
    own = clause_heading(label, text)
    if own:
        trail.append(own)
    return " › ".join(trail)


def card_html(*, title: str, doc_number: str | None, issuer: str | None, region: str | None, date: str | None,
              heading_path: Sequence[str], label: str | None, body_html: str, n: int | None = None,
              score: float | None = None, text: str = "") -> str:
    """One clause card: title, 文号 · issuer · region · date, heading path, then the (already safe) text."""
    badge = f'<span class="qa-n">{n}</span>' if n is not None else ""
    score_html = f'<span class="qa-score">相关度 {score:.3f}</span>' if score is not None else ""
    trail = heading_trail(heading_path, label, text)
    path_html = f'<div class="qa-path">{esc(trail)}</div>' if trail else '<div class="qa-path">（文件开头部分）</div>'
    return (f'<div class="qa-card"><div class="qa-title">{score_html}{badge}《{esc(title)}》</div>'
            f'<div class="qa-meta">{_meta_parts(doc_number, issuer, region, date)}</div>'
            f'{path_html}<div class="qa-text">{body_html}</div></div>')


def group_header_html(*, title: str, doc_number: str | None, region: str | None, date: str | None,
                      count: int) -> str:
    return (f'<div class="qa-card"><div class="qa-head">《{esc(title)}》</div>'
            f'<div class="qa-meta">{_meta_parts(doc_number, None, region, date)}'
            f'<span class="qa-sep">·</span>{count} 条相近表述</div></div>')


def library_table_html(docs: Sequence) -> str:
    """The documents (``DocumentMeta``) as a table: title, 文号, issuer, region, dates, validity, clauses."""
    head = "".join(f"<th>{h}</th>" for h in ("序号", "标题", "文号", "发文机关", "地区", "成文日期", "发布日期",
                                              "有效性", "条款数"))
    rows = []
    for i, d in enumerate(docs, 1):
        cells = [(str(i), "qa-num"), (d.title, ""), (d.doc_number, "qa-nw"), (d.issuer, ""), (d.region, "qa-nw"),
                 (d.written_date, "qa-nw"), (d.published_date, "qa-nw"), (d.validity, "qa-nw"),
                 (str(d.clause_count), "qa-num")]
        rows.append("<tr>" + "".join(f'<td class="{c}">{esc(v) or "—"}</td>' if c else f"<td>{esc(v) or '—'}</td>"
                                     for v, c in cells) + "</tr>")
    return f'<table class="qa-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


_REF = re.compile(r"\[(\d{1,3})\]")


def answer_html(answer: str) -> str:
    """The answer text, escaped, with its ``[n]`` markers as superscripts."""
    pieces = _REF.split(answer.strip())  # text, n, text, n, …, text
    body = "".join(_lines(p) if i % 2 == 0 else f'<sup class="qa-ref">[{int(p)}]</sup>' for i, p in enumerate(pieces))
    return f'<div class="qa-answer">{body}</div>'


def refusal_html(message: str) -> str:
    return f'<div class="qa-refuse">{_lines(message)}</div>'


def draft_html(draft: str, shared_pieces: Iterable[str]) -> str:
    """The draft with every piece of wording found in some result marked."""
    return f'<div class="qa-draft">{mark_html(draft, term_spans(shared_pieces, draft, SHARED))}</div>'


def document_html(doc: Document, target_clause_id: str | None = None, quote: tuple[int, int] | None = None,
                  query: str | None = None) -> str:
    """The whole document as a clause tree (indent by heading depth), the target clause marked and anchored.

    ``quote`` is a (start, end) pair of offsets into ``doc.body``. Text between clauses that belongs to no
    clause is shown too, so nothing of the document is hidden.
    """
    body = doc.body
    units: dict[str, list] = {}
    order: list[str] = []
    for clause in doc.clauses:
        if clause.clause_id not in units:
            units[clause.clause_id] = [clause, clause.char_start, clause.char_end]
            order.append(clause.clause_id)
        else:
            unit = units[clause.clause_id]
            unit[1] = min(unit[1], clause.char_start)
            unit[2] = max(unit[2], clause.char_end)
    order.sort(key=lambda cid: units[cid][1])
    out: list[str] = []
    cursor = 0

    def plain(start: int, end: int) -> None:
        if body[start:end].strip():
            out.append(f'<div class="qa-u">{mark_html(body[start:end])}</div>')

    for cid in order:
        clause, start, end = units[cid]
        if start < cursor:  # overlapping parts: show the remainder only
            start = cursor
        if start > cursor:
            plain(cursor, start)
        text = body[start:end]
        depth = len(clause.heading_path)
        is_header = bool(clause.heading) and text.strip() == f"{clause.label or ''}{clause.heading}"
        classes = ["qa-u"] + (["qa-h"] if is_header else [])
        spans: list[Span] = []
        anchor = ""
        if cid == target_clause_id:
            classes.append("qa-target")
            anchor = ' id="qa-target"'
            if quote:
                spans.append((quote[0] - start, quote[1] - start, QUOTE))
            if query:
                spans += term_spans(query_terms(query, text), text)
        lead = f"{clause.label or ''}{clause.heading or ''}"
        cut = len(lead) if clause.heading and text.startswith(lead) else 0
        shown = mark_html(text, spans)
        if cut:  # the clause's own number and heading in bold, as a run-in heading
            head = mark_html(text[:cut], [(s, min(e, cut), k) for s, e, k in spans if s < cut])
            rest = mark_html(text[cut:], [(s - cut, e - cut, k) for s, e, k in spans if e > cut])
            sep = "<br>" if rest and text[cut:cut + 1] in ("\n", "\r") else ""
            shown = f'<b class="qa-hl">{head}</b>{sep}{rest}'
        out.append(f'<div class="{" ".join(classes)}"{anchor} style="margin-left:{1.4 * depth:.1f}em">'
                   f"{shown}</div>")
        cursor = max(cursor, end)
    plain(cursor, len(body))
    return f'<div class="qa-doc">{"".join(out)}</div>'


# Scrolls the anchored clause of a document view into sight once it exists in the page.
SCROLL_SCRIPT = """
<script>
(function () {
  let tries = 0;
  const timer = setInterval(function () {
    const el = document.getElementById("qa-target");
    if (el || ++tries > 40) {
      clearInterval(timer);
      if (el) { el.scrollIntoView({block: "center", behavior: "smooth"}); }
    }
  }, 150);
})();
</script>
"""
