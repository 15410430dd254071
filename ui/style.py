"""The UI's style sheet and its two small scripts (inserted once per page; no document text in them)."""

from __future__ import annotations

CSS = """
<style>
[data-testid="stAppDeployButton"]{display:none}
[data-testid="stMainBlockContainer"]{padding:2.2rem 3rem 2rem 3rem}
.qa-card{margin:0 0 .1rem 0;scroll-margin-top:4.5rem}
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
.qa-badges{margin:.15rem 0 .1rem 0}
.qa-badge{display:inline-block;font-size:.74rem;line-height:1.5;padding:0 .45em;margin:0 .3em .1em 0;border-radius:3px;
  border:1px solid rgba(128,128,128,.35);white-space:nowrap}
.qa-badge.qa-k-media{border-color:#d48806;color:#ad6800}
.qa-badge.qa-k-law{border-color:#531dab;color:#531dab}
.qa-badge.qa-st-valid{border-color:#389e0d;color:#237804}
.qa-badge.qa-st-expired,.qa-badge.qa-st-repealed{border-color:#d4380d;color:#ad2102;font-weight:600}
.qa-badge.qa-match{border-style:dashed}
.qa-badge.qa-up-added,.qa-badge.qa-up-replaced{border-color:#389e0d;color:#237804;font-weight:600}
.qa-badge.qa-up-duplicate{border-color:#d48806;color:#ad6800}
.qa-badge.qa-up-rejected{border-color:#d4380d;color:#ad2102;font-weight:600}
.qa-warn{font-size:.84rem;color:#ad2102;background:rgba(212,56,13,.07);border-radius:4px;padding:.15rem .5rem;
  margin:.25rem 0}
a.qa-ref-link{text-decoration:none;cursor:pointer}
a.qa-ref-link:hover sup{text-decoration:underline}
.qa-part-head{font-weight:600;font-size:1.02rem;margin:.7rem 0 .2rem 0;color:#1f4e79}
.qa-part-head .qa-miss{font-weight:400;color:#ad2102;font-size:.9rem;margin-left:.4em}
.qa-anchor{display:block;position:relative;top:-4rem;visibility:hidden}
.qa-card.qa-flash{animation:qa-flash 1.8s ease-out}
@keyframes qa-flash{0%{background:rgba(255,200,60,.75);box-shadow:0 0 0 6px rgba(255,200,60,.75)}
  100%{background:transparent;box-shadow:0 0 0 6px transparent}}
.qa-doc mark.qa-q{scroll-margin-top:4rem}
</style>
"""

# Scrolls the first quote (else the anchored clause) of a document view into sight once it is in the page.
SCROLL_SCRIPT = """
<script>
(function () {
  let tries = 0;
  const timer = setInterval(function () {
    const el = document.getElementById("qa-quote") || document.getElementById("qa-target");
    if (el || ++tries > 40) {
      clearInterval(timer);
      if (el) { el.scrollIntoView({block: "center", behavior: "smooth"}); }
    }
  }, 150);
})();
</script>
"""

# A [n] marker in an answer scrolls its clause card into view and flashes it (again on every click). The
# handler is attached to the page once; the links' href="#qa-cite-n" still jumps there without it.
REF_SCRIPT = """
<script>
(function () {
  if (window.__qaRefs) { return; }
  window.__qaRefs = true;
  document.addEventListener("click", function (event) {
    const link = event.target.closest ? event.target.closest("a.qa-ref-link") : null;
    if (!link) { return; }
    const anchor = document.getElementById("qa-cite-" + link.dataset.n);
    if (!anchor) { return; }
    event.preventDefault();
    const card = anchor.closest(".qa-card") || anchor;
    card.scrollIntoView({block: "start", behavior: "smooth"});
    card.classList.remove("qa-flash");
    void card.offsetWidth;
    card.classList.add("qa-flash");
  }, true);
})();
</script>
"""
