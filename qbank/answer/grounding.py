"""A cheap check of a generated synthesis against the sources it cites.

Every ``[n]`` must name a source that was given; every sentence must have
lexical support in the sources it cites (its own ``[n]``, or its
paragraph's): at least half of its topic words appear in them.  Sentences
that fail are marked, not dropped, so a reader sees what the model added.
Code fences the model wrote anyway are removed: code comes from the bank.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.tokenize import tokenize

CITATION = re.compile(r"\[(\d{1,2})\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[(*_`])")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
UNSUPPORTED = "_(not supported by the cited sources)_"
BAD_CITATION = "_(cites a source that was not given)_"
CODE_REMOVED = "_(Generated code removed: the bank's own code is below.)_"
MIN_SUPPORT = 0.5


@dataclass(frozen=True, slots=True)
class Checked:
    text: str
    unsupported: tuple[str, ...]  # sentences without support, as written
    bad_citations: tuple[int, ...]


def _support(sentence: str, cited: Sequence[str]) -> float:
    words = {w for w in tokenize(CITATION.sub(" ", sentence)) if not w.isdigit()}
    if not words:
        return 1.0  # nothing to check ("See [1].")
    found = set(tokenize(" ".join(cited)))
    return len(words & found) / len(words)


def check(text: str, sources: Sequence[tuple[str, str]]) -> Checked:
    """``text`` with unsupported sentences and bad citations marked."""
    text, fences = _FENCE.subn(CODE_REMOVED, text)
    unsupported: list[str] = []
    bad: set[int] = set()
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        para_cites = [int(n) for n in CITATION.findall(paragraph)]
        sentences = []
        for sentence in _SENTENCE.split(paragraph):
            if sentence.strip() == CODE_REMOVED:
                sentences.append(sentence)
                continue
            cites = [int(n) for n in CITATION.findall(sentence)] or para_cites
            wrong = [n for n in cites if not 1 <= n <= len(sources)]
            bad.update(wrong)
            cited = [f"{sources[n - 1][0]} {sources[n - 1][1]}" for n in cites if 1 <= n <= len(sources)]
            if wrong:
                sentence = f"{sentence} {BAD_CITATION}"
            elif not cited or _support(sentence, cited) < MIN_SUPPORT:
                unsupported.append(sentence)
                sentence = f"{sentence} {UNSUPPORTED}"
            sentences.append(sentence)
        paragraphs.append(" ".join(sentences))
    return Checked("\n\n".join(paragraphs), tuple(unsupported), tuple(sorted(bad)))
