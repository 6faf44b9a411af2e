"""Sentence units of the answers: the abstention's finer dense evidence.

A chunk is a whole section of an answer, so its vector averages several
ideas; a short query about one of them ("gini impurity") can sit closer to
one sentence of the section than to the section.  At ingest each answer
section (and its key insight) is split into units here, each embedded with
the chunks' model and stored with the index (``sentences.json``,
``sentence_embeddings.npy``); search takes the best unit's cosine as dense
evidence beside the best chunk's when it decides whether to answer
(``index.components.abstain``).  Units never rank anything.

Code blocks and display math are dropped (a formula embeds as noise); list
items and lines are units, long lines split at sentence ends; a table row is
one unit, its first cell followed by the other cells under their headers;
markdown markup is stripped and units under ``MIN_WORDS`` words dropped.
Chunks of generated or fetched text, titles and quick-reference rows give no
units: only the bank's own answers do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.models import Chunk

UNIT_KINDS = frozenset(["section", "insight"])
MIN_WORDS = 4

_FENCE = re.compile(r"```.*?(```|$)", re.S)
_MATH = re.compile(r"\$\$.*?\$\$", re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_MARKUP = re.compile(r"[*_`#>]+|^\s*(?:[-+]|\d+[.)])\s+", re.M)


def _clean(text: str) -> str:
    return " ".join(_MARKUP.sub(" ", text).split())


def _cells(line: str) -> list[str]:
    return [_clean(c) for c in line.strip().strip("|").split("|")]


def split_sentences(body: str) -> list[str]:
    """The sentence units of a markdown ``body``, in order."""
    body = _MATH.sub("\n", _FENCE.sub("\n", body))
    out: list[str] = []
    header: list[str] | None = None
    for raw in body.splitlines():
        line = raw.strip()
        if not line.startswith("|"):
            header = None
        if not line or line.startswith("$"):
            continue
        if line.startswith("|"):
            cells = _cells(line)
            if all(set(c) <= set("-: ") for c in cells):  # the header's separator row
                continue
            if header is None:
                header = cells
                continue
            rest = "; ".join(f"{h} {c}" if h else c for h, c in zip(header[1:], cells[1:], strict=False) if c)
            unit = f"{cells[0]}: {rest}" if rest else cells[0]
            if len(unit.split()) >= MIN_WORDS:
                out.append(unit)
            continue
        for part in _SENTENCE_END.split(line):
            unit = _clean(part)
            if len(unit.split()) >= MIN_WORDS:
                out.append(unit)
    return out


def chunk_body(chunk: Chunk) -> str:
    """A chunk's text without the title (and heading) lines prepended for embedding."""
    lines = chunk.text.split("\n")
    skip = 1 + (chunk.heading is not None and len(lines) > 1 and lines[1] == chunk.heading)
    return "\n".join(lines[skip:])


def chunk_sentences(chunks: Sequence[Chunk]) -> list[tuple[int, str]]:
    """(chunk position, unit text) for every unit of the answer chunks, in chunk order."""
    return [
        (position, unit)
        for position, chunk in enumerate(chunks)
        if chunk.kind in UNIT_KINDS
        for unit in split_sentences(chunk_body(chunk))
    ]
