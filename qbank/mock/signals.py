"""What a mock answer is scored against, read from a question's own text: the
"Strong answer signals" bullets of its Interviewer's Insight box, the
"What they're testing" line above them, and the curated answer's key terms.

A signal keeps its bullet as written (``text``, shown to the candidate) and
what is compared with an answer (``content``): the bullet without the words
about the candidate ("Knows", "Can explain", "Mentions:"), which an answer
never says, and without quote marks.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from index.sparse import SparseIndex
from index.tokenize import tokenize
from ingest.models import Question

_SIGNALS_HEAD = re.compile(r"^\s*\*{0,2}\s*strong answer signals", re.I)
_TESTING = re.compile(r"^\s*\*\*what they(?:'|’)re (?:really )?testing:?\*\*:?\s*(?P<text>.+)$", re.I)
_BULLET = re.compile(r"^\s*[-*+]\s+(?P<text>.+)$")
_MARKUP = re.compile(r"\*\*|__|`|\$")
_LATEX = re.compile(r"\\(?:frac)\{([^{}]*)\}\{([^{}]*)\}")
_QUOTES = re.compile(r"[\"“”]")
_LEAD = re.compile(r"\s*([\w'’-]+|[:,])\s*")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_NAME = re.compile(r"`[A-Za-z_][\w.]*`|\b[A-Za-z][A-Za-z0-9+]*(?:-[A-Za-z0-9+]+)*\b")
_FORMULA = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)

# Words about the candidate, not about the topic: a leading run of them is not
# compared ("Can explain why ..." -> "why ...", "Mentions solutions: ..." -> "...").
_META = """
    can knows know mentions mention explains explain discusses discuss gives give uses use warns warn about
    immediately first asks ask suggests suggest compares compare chooses choose implements implement understands
    understand draws draw lists list reviews review checks check combines combine describe describes interpret
    calculate derive name adjust concrete example examples real scenarios practical considerations tips solutions
    application experience limitation limitations alternatives popular
"""
META_WORDS = frozenset(_META.split())
RARE_SHARE = 0.03  # a key term is in at most this share of the bank's chunks (or is a name)


@dataclass(frozen=True, slots=True)
class Signal:
    text: str  # the bullet, markup removed: what the candidate is shown
    content: str  # what an answer is compared with: the topic words of the bullet

    @property
    def terms(self) -> tuple[str, ...]:
        """The content's index terms (stemmed, stop words and words about the candidate dropped), once each."""
        return tuple(dict.fromkeys(t for t in tokenize(self.content) if t not in META_WORDS))


def plain(text: str) -> str:
    return " ".join(_MARKUP.sub("", _LATEX.sub(r"\1/\2", text)).split())


def _content(bullet: str) -> str:
    """``bullet`` without its leading words about the candidate and its quote marks."""
    text = _QUOTES.sub("", bullet).strip()
    while (m := _LEAD.match(text)) and (m.group(1) in ":," or m.group(1).lower() in META_WORDS):
        text = text[m.end() :]
    return text or _QUOTES.sub("", bullet).strip()


def strong_signals(insight: str | None) -> tuple[Signal, ...]:
    """The bullets under "Strong answer signals" in an insight box (none when it has no such list)."""
    if not insight:
        return ()
    lines = insight.splitlines()
    start = next((i for i, line in enumerate(lines) if _SIGNALS_HEAD.match(line)), None)
    if start is None:
        return ()
    signals: list[Signal] = []
    for line in lines[start + 1 :]:
        bullet = _BULLET.match(line)
        if bullet:
            text = plain(bullet.group("text"))
            signals.append(Signal(text, _content(text)))
        elif line.strip() and signals:
            break  # the list is over
    return tuple(signals)


def what_is_tested(insight: str | None) -> str | None:
    """The box's "What they're testing:" line, without its label."""
    for line in (insight or "").splitlines():
        m = _TESTING.match(line)
        if m:
            return plain(m.group("text"))
    return None


def prose(question: Question) -> str:
    """The curated answer's text without its code blocks and formulas."""
    return _FORMULA.sub(" ", _FENCE.sub(" ", question.answer_markdown))


def _named(word: str) -> bool:
    """An acronym or a name written with inner capitals: PCA, PR-AUC, ReLU, XGBoost."""
    letters = word.replace("-", "")
    return len(letters) >= 2 and (letters.isupper() or any(c.isupper() for c in letters[1:]))


class TermWeights:
    """A term's rarity across the bank's chunks: BM25's IDF (the +1 form, never negative) from the index."""

    def __init__(self, sparse: SparseIndex) -> None:
        self.sparse = sparse

    def _df(self, term: str) -> int:
        col = self.sparse.term_ids.get(term)
        return int(self.sparse.doc_freq[col]) if col is not None else 0

    def __call__(self, term: str) -> float:
        n, df = self.sparse.size, self._df(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def share(self, term: str) -> float:
        """The share of the bank's chunks that hold ``term``."""
        return self._df(term) / max(1, self.sparse.size)


def key_terms(question: Question, weights: TermWeights, limit: int = 8) -> tuple[str, ...]:
    """The curated answer's key terms, most telling first: the names it uses
    (PCA, ReLU, LightGBM, `class_weight`) and the words of five letters or
    more its prose says at least twice that are rare in the bank (in at most
    ``RARE_SHARE`` of its chunks), ranked by how often times their rarity
    (the index's IDF).  Terms of the title are left out: every answer says
    them."""
    title = set(tokenize(question.title))
    counts: Counter[str] = Counter()
    written: dict[str, str] = {}
    names: set[str] = set()
    for raw in _NAME.findall(prose(question)):
        name = raw.strip("`")
        terms = tokenize(name)
        if not terms or set(terms) <= title:
            continue
        key = name.lower()
        counts[key] += 1
        if raw.startswith("`") or _named(name):
            names.add(key)
        if key not in written or name.islower():
            written[key] = name
    chosen = [
        k
        for k in counts
        if k in names or (counts[k] >= 2 and len(k) >= 5 and max(weights.share(t) for t in tokenize(k)) <= RARE_SHARE)
    ]
    score = {k: counts[k] * max(weights(t) for t in tokenize(k)) for k in chosen}
    return tuple(written[k] for k in sorted(chosen, key=lambda k: (-score[k], k))[:limit])
