"""Query understanding's building blocks, all mined from the corpus itself (no
hand-written lists about particular questions): acronyms defined in the text,
typo correction against the corpus vocabulary, and the analysed query type.
The analysis component that uses them is ``index.components.analysis``."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from index.tokenize import STOP_WORDS, tokenize

_LONG_THEN_SHORT = re.compile(r"((?:[A-Za-z][\w'-]*\s+){0,7}[A-Za-z][\w'-]*)\s*\(\s*([A-Za-z][A-Za-z0-9-]{1,9})\s*\)")
_SHORT_THEN_LONG = re.compile(r"\b([A-Z][A-Za-z0-9]{1,8})\s*\(\s*([A-Za-z][^()]{3,80})\)")
WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_MINOR = frozenset(["a", "an", "and", "the", "of", "in", "on", "for", "to", "with", "by", "vs"])

# Words that carry no topic in a question about interviews.
GENERIC = frozenset(
    [
        "ask",
        "asks",
        "asked",
        "asking",
        "interview",
        "interviews",
        "question",
        "questions",
        "qs",
        "common",
        "typical",
        "usually",
        "frequently",
        "does",
        "do",
        "did",
        "what",
        "which",
        "kind",
        "kinds",
        "type",
        "types",
        "they",
        "them",
        "topic",
        "topics",
        "about",
        "top",
        "list",
        "get",
        "got",
        "anything",
        "stuff",
        "prep",
        "round",
        "rounds",
        "come",
        "comes",
        "up",
        # quantity and degree words the stop list lacks (it has "few", "more", "very"): no topic
        "many",
        "much",
        "lot",
        "lots",
        "often",
        "really",
        "enough",
    ]
)
GENERIC_TERMS = frozenset(tokenize(" ".join(GENERIC))) | GENERIC


def _initials(words: Sequence[str]) -> str:
    out = []
    for w in words:
        for part in re.split(r"[-]", w):
            if part:
                out.append(part[0].lower())
    return "".join(out)


def mine_acronyms(texts: Iterable[str]) -> dict[str, str]:
    """Find 'Long Form (LF)' and 'LF (Long Form)' definitions whose initials match."""
    found: Counter[tuple[str, str]] = Counter()
    for text in texts:
        for long_form, short in _LONG_THEN_SHORT.findall(text):
            acr = short.rstrip("s") if short.endswith("s") and len(short) > 2 else short
            letters = re.sub(r"[^a-z]", "", acr.lower())
            if len(letters) < 2:
                continue
            words = long_form.split()
            for n in range(1, len(words) + 1):
                tail = words[-n:]
                content = [w for w in tail if w.lower() not in _MINOR]
                if _initials(tail) == letters or (content and content[0] == tail[0] and _initials(content) == letters):
                    found[(letters, " ".join(tail).lower())] += 1
                    break
        for short, long_form in _SHORT_THEN_LONG.findall(text):
            letters = re.sub(r"[^a-z]", "", short.lower().rstrip("s"))
            words = long_form.split()
            content = [w for w in words if w.lower() not in _MINOR]
            if len(letters) >= 2 and (_initials(words) == letters or _initials(content) == letters):
                found[(letters, long_form.lower())] += 1
    best: dict[str, tuple[int, str]] = {}
    for (acr, long_form), n in found.items():
        if acr not in best or n > best[acr][0]:
            best[acr] = (n, long_form)
    return {acr: long_form for acr, (_, long_form) in sorted(best.items())}


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


# British spellings as American ones: a real word the banks spell the other way
# ("neighbours", "labelled", "normalisation", "analyse", "centre") is the banks' word.
_BRITISH = (
    (re.compile(r"(?<=[a-z]{2})our(?=s?$|ed$|ing$|ite|able)"), "or"),
    (re.compile(r"(?<=[a-z]{2})is(?=e$|es$|ed$|ing$|ation|er$|ers$)"), "iz"),
    (re.compile(r"(?<=[aeiou])ll(?=ed$|ing$|er$|ers$)"), "l"),
    (re.compile(r"ys(?=e$|es$|ed$|ing$)"), "yz"),
    (re.compile(r"tre(?=s?$)"), "ter"),
    (re.compile(r"ogue(?=s?$)"), "og"),
)


def _american(word: str) -> str:
    for pattern, spelled in _BRITISH:
        word = pattern.sub(spelled, word)
    return word


def _swapped(word: str, other: str) -> bool:
    """``other`` is ``word`` with two neighbouring letters swapped."""
    return any(word[:i] + word[i + 1] + word[i] + word[i + 2 :] == other for i in range(len(word) - 1))


class SpellCorrector:
    """Corrects words that are not in the corpus vocabulary to the most frequent
    corpus word within edit distance 1 (2 for words of 8+ letters).  Candidates
    come from a symmetric-delete table; the distance is rapidfuzz's optimal
    string alignment (Damerau-Levenshtein without repeated edits of a substring).
    A four-letter word is corrected only by swapping two neighbouring letters
    ("bais" is bias): any other single edit of a word that short lands on too many
    real words ("bags" is not bias, "lost" is not loss).  Words of ``lexicon`` (the
    embedding model's vocabulary: real words the banks happen not to use) are never
    corrected: "later" is not layer, "decent" not descent, "beat" not beta."""

    def __init__(self, corpus_texts: Iterable[str], min_count: int = 2, lexicon: frozenset[str] = frozenset()) -> None:
        counts: Counter[str] = Counter()
        for text in corpus_texts:
            counts.update(WORD.findall(text.lower()))
        self.counts = counts
        self.lexicon = lexicon
        self.known = {w for w, n in counts.items() if n >= min_count and w.isalpha() and len(w) >= 3}
        self._by_delete: dict[str, set[str]] = {}
        for w in self.known:
            self._by_delete.setdefault(w, set()).add(w)
            for d in _deletes(w):
                self._by_delete.setdefault(d, set()).add(w)

    def correct_word(self, word: str) -> str:
        if len(word) < 4 or not word.isalpha() or word in self.counts or word in STOP_WORDS:
            return word
        american = _american(word)
        if american in self.known and american not in STOP_WORDS:
            return american
        if word in self.lexicon:
            return word
        candidates: set[str] = set(self._by_delete.get(word, ()))
        for d in _deletes(word):
            candidates |= self._by_delete.get(d, set())
        if len(word) == 4:
            candidates = {c for c in candidates if _swapped(word, c)}
        limit = 2 if len(word) >= 8 else 1
        scored = [(OSA.distance(word, c), -self.counts[c], c) for c in candidates]
        scored = [s for s in scored if s[0] <= limit]
        return min(scored)[2] if scored else word

    def correct(self, text: str) -> str:
        return WORD.sub(lambda m: self.correct_word(m.group(0)), text.lower())


# Words about the interview itself, its stages and the hiring around it ("how long is the
# interview process", "what should i wear to an onsite"): a query using them may be about
# the interview rather than a topic of the banks.
INTERVIEW_WORDS = re.compile(r"\b(?:interview\w*|onsite|on-site|rounds?|hiring|hire[sd]?)\b", re.I)
# An interview word that only frames a topic ("interview question: bn before relu", "asked in
# my interview: tfidf", "onsite question about tfidf"): what follows is the question.
INTERVIEW_FRAME = re.compile(
    r"\b(?:interview\w*|onsite|on-site|rounds?)(?:\s+(?:questions?|qs?|prep|topics?))?\s*:"
    r"|\b(?:interview|onsite|on-site)\s+(?:questions?|qs?|topics?)\s+(?:about|on|regarding)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class AnalyzedQuery:
    original: str
    text: str
    companies: tuple[str, ...]
    topic_terms: tuple[str, ...]
    expansions: tuple[str, ...]

    @property
    def company_only(self) -> bool:
        return bool(self.companies) and not self.topic_terms

    @property
    def about_interviews(self) -> bool:
        """The query speaks of interviews, their rounds or hiring (``INTERVIEW_WORDS``), other
        than in a frame around a topic (``INTERVIEW_FRAME``)."""
        return INTERVIEW_WORDS.search(INTERVIEW_FRAME.sub(" ", self.original)) is not None
