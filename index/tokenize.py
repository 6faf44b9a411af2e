"""The BM25 tokenizer: lowercase words, code identifiers kept whole and split,
hyphenated terms joined and split, stop words dropped, light stemming."""

from __future__ import annotations

import re

from ingest.textutil import stem

_RAW = re.compile(r"[A-Za-z0-9_]+(?:[-'][A-Za-z0-9_]+)*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "u",
        "ur",
        "pls",
        "plz",
        "please",
        "hey",
        "hi",
        "thanks",
        "explain",
        "tell",
        "show",
        "give",
        "me",
        "vs",
        "versus",
    ]
)


def _expand(raw: str) -> list[str]:
    """One raw token -> the index terms it yields (before stemming)."""
    lower = raw.lower()
    terms = [lower]
    if "-" in raw or "'" in raw:
        parts = re.split(r"[-']", raw)
        terms[0] = "".join(p.lower() for p in parts)
        for p in parts:
            terms.extend(_expand(p))
        return terms
    if "_" in raw:
        terms.extend(p.lower() for p in raw.split("_") if p)
    elif raw != lower and raw != raw.upper():
        parts = _CAMEL.findall(raw)
        if len(parts) > 1:
            terms.extend(p.lower() for p in parts)
    return terms


def _code(text: str, start: int, end: int) -> bool:
    """The word at ``text[start:end]`` is a name in code: an attribute (``np.where``,
    ``df.all``) or a call (``where(``, ``any()``)."""
    attribute = start >= 2 and text[start - 1] == "." and (text[start - 2].isalnum() or text[start - 2] in "_)]")
    return attribute or text[end : end + 1] == "("


def tokenize(text: str) -> list[str]:
    """Index terms of ``text``.  A stop word that is a name in code is kept: "np.where" was
    searched as "np" alone, and refused (tester)."""
    out: list[str] = []
    for m in _RAW.finditer(text):
        code = _code(text, m.start(), m.end())
        for term in _expand(m.group(0)):
            if len(term) < 2 or (term in STOP_WORDS and not code):
                continue
            out.append(stem(term) if term.isalpha() else term)
    return out
