"""A hit's snippet as plain text, for the pages and the API.

The index's snippet is the matching chunk's markdown cut short; shown as text
it would carry table pipes, ``$...$`` LaTeX, ``**`` and backticks.  Here the
same part of the chunk is written as text first: a table's rows become
"cell · cell;" phrases, a formula its text (read by latex2mathml, as the page
renders it, and written back as text: ``\\frac{TP}{TP + FP}`` is
``TP/(TP + FP)``, ``\\lambda \\sum_{i=1}^{n} w_i^2`` is ``λ ∑_(i=1)^n w_i²``;
LaTeX it cannot read loses its commands and braces); links keep their label,
emphasis and code marks go.  Then it is cut to length, so a formula or a
table is never cut in its markup.

(``service/slack/formula.py`` writes formulas as text more finely, for Slack;
it is not imported here because importing anything under ``service.slack``
loads slack-bolt, which a server without Slack never does.)
"""

from __future__ import annotations

import re
from functools import lru_cache
from xml.etree import ElementTree

from latex2mathml.converter import convert as latex_to_mathml

from index.results import SNIPPET_CHARS, SNIPPETS_KEPT, below_heading, body_of, cut_snippet, linked_row, row_line
from ingest.answer import DISPLAY_MATH, INLINE_MATH
from ingest.models import Chunk
from ingest.textutil import plain_title

_TABLE_RULE = re.compile(r"^\|?[\s:|-]+\|?$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINE_MARK = re.compile(r"^(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)+")
_WRAPPERS = re.compile(
    r"\\(?:text|textrm|textbf|textit|mathrm|mathbf|mathit|mathcal|mathbb|operatorname|boldsymbol"
    r"|hat|bar|tilde|vec|underbrace|overbrace|left|right|big|Big|bigg|Bigg|displaystyle)\b"
)


def plain_snippet(chunk: Chunk | None, limit: int = SNIPPET_CHARS) -> str:
    """The snippet of ``chunk`` as plain text on one line, at most ``limit`` characters."""
    if chunk is None:
        return ""
    if linked_row(chunk):
        return cut_snippet(row_line(chunk.text), limit)
    return _plain_snippet(chunk.text, below_heading(chunk), limit)


@lru_cache(maxsize=SNIPPETS_KEPT)
def _plain_snippet(text: str, after_heading: bool, limit: int) -> str:
    return cut_snippet(plain_text(body_of(text, after_heading)), limit)


def plain_text(markdown: str) -> str:
    """Markdown prose (code already removed) as text, one line per line."""
    text = DISPLAY_MATH.sub(lambda m: f" {_formula(m.group(1))} ", markdown)
    text = INLINE_MATH.sub(lambda m: _formula(m.group(1)), text)
    lines = []
    for line in text.split("\n"):
        line = line.strip()
        if line.startswith("|"):
            if _TABLE_RULE.match(line):
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            line = " · ".join(c for c in cells if c) + ";"
        line = _LINE_MARK.sub("", line)
        lines.append(_CODE_SPAN.sub(r"\2", plain_title(line)))
    return "\n".join(lines)


SUPERSCRIPTS = dict(zip("0123456789+-−=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿ", strict=True))
BIG = frozenset("∑∏∫⋃⋂")
_COMPOUND = re.compile(r"[\s+−\-·×/=,<>≤≥]")


def _formula(latex: str) -> str:
    try:
        root = ElementTree.fromstring(latex_to_mathml(latex))
    except Exception:  # latex2mathml raises many kinds on bad input, and can write unparsable XML
        return _bare(latex)
    return " ".join(_math_text(root).split())


def _bare(latex: str) -> str:
    """LaTeX without its commands and braces: the letters and symbols left."""
    bare = _WRAPPERS.sub("", latex)
    bare = re.sub(r"\\([A-Za-z]+)", r"\1", bare)
    return " ".join(re.sub(r"[{}]|\\.", " ", bare).split())


def _math_text(node: ElementTree.Element) -> str:
    tag = node.tag.rsplit("}", 1)[-1]
    parts = [_math_text(child) for child in node]
    if tag in ("mi", "mn", "mtext", "ms", "mo"):
        text = re.sub(r"\\([A-Za-z]+)", r"\1", (node.text or "").replace("\u00a0", " ").strip())
        if text and text in "=+−<>≤≥≈≠±×·→∈":
            return f" {text} "
        return f"{text} " if text in (",", ";", ":") else text
    if tag == "mfrac" and len(parts) == 2:
        return f"{_grouped(parts[0])}/{_grouped(parts[1])}"
    if tag == "msqrt":
        return "√" + _grouped("".join(parts))
    if tag == "mroot" and len(parts) == 2:
        return f"{parts[1]}√{_grouped(parts[0])}"
    if tag in ("msup", "mover") and len(parts) == 2:
        return parts[0] + _script(parts[1], "^", node.get("accent") == "true")
    if tag in ("msub", "munder") and len(parts) == 2:
        return parts[0] + _script(parts[1], "_", node.get("accentunder") == "true")
    if tag in ("msubsup", "munderover") and len(parts) == 3:
        return parts[0] + _script(parts[1], "_") + _script(parts[2], "^") + (" " if parts[0] in BIG else "")
    return "".join(parts)


def _script(text: str, mark: str, accent: bool = False) -> str:
    text = text.strip()
    if accent or text in ("^", "⏟", "⏞", "‾", "~", "→", "˙", "¨"):  # a hat, bar or brace: the base says it
        return ""
    if mark == "^" and text and all(ch in SUPERSCRIPTS for ch in text):
        return "".join(SUPERSCRIPTS[ch] for ch in text)
    return f"{mark}{_grouped(text)}"


def _grouped(text: str) -> str:
    text = " ".join(text.split())
    return f"({text})" if _COMPOUND.search(text) and not (text.startswith("(") and text.endswith(")")) else text
