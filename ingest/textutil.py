"""Small text helpers shared by the parser, chunker and index."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_len: int = 80) -> str:
    """Lowercase ASCII slug: 'What is PCA?' -> 'what-is-pca'.

    Truncated at a hyphen boundary to at most ``max_len`` characters so ids
    stay readable in URLs.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_ALNUM.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0]
    return slug or "untitled"


_COMPANY_SEP = re.compile(r",|\band\b|/|;")


def split_companies(text: str) -> list[str]:
    """A list of names as the banks write it: 'Google, **Meta** and Uber/Lyft'
    -> ['Google', 'Meta', 'Uber', 'Lyft'] (bold markers and blanks dropped)."""
    parts = _COMPANY_SEP.split(text)
    return [p.strip().strip("*").strip() for p in parts if p.strip().strip("*").strip()]


def question_id(bank_slug: str, title: str) -> str:
    return f"{bank_slug}--{slugify(title)}"


def quick_ref_id(bank_slug: str, number: int | str) -> str:
    return f"{bank_slug}--qr-{number}"


_SUFFIXES = (
    ("izations", "iz"), ("ization", "iz"), ("isation", "iz"), ("ations", "at"), ("ation", "at"),
    ("ments", ""), ("ment", ""), ("ings", ""), ("ing", ""), ("ies", "y"), ("ions", ""), ("ion", ""),
    ("ed", ""), ("es", ""), ("e", ""), ("s", ""),
)  # fmt: skip


def stem(word: str) -> str:
    """A light, deterministic suffix stripper: 'handling'/'handle' -> 'handl',
    'evaluation'/'evaluate' -> 'evaluat', 'trees'/'tree' -> 'tre'."""
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) + len(repl) >= 3:
            return word[: -len(suffix)] + repl
    return word
