"""What follows ``/ask practice``: a scope to practise, or ``remind on|off``.

A scope is the web practice page's (company, difficulty, topic, bank: one of
each, ``Filters``) written as words in any order, ``/ask practice google
medium``, plus ``weak`` for the cards last graded Again or Hard.  Each word
(or run of words: "deep learning", "goldman sachs") must name a value the
banks have, matched without regard to case, hyphens or underscores, a
company also by its alias ("facebook" is Meta); the longest run that names
something wins, and a name that is both, say, a topic and a bank is read as
the first of difficulty, company, bank, topic.  A word that names nothing,
or a second company (difficulty, …), is an ``Invalid`` whose message says
which word and what would be understood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from index.filters import Filters
from ingest.companies import COMPANY_ALIASES, canonical_company
from service.usecases import FacetCounts, Invalid

KINDS = ("difficulty", "company", "bank", "tag")  # in the order a name both kinds have is read
KIND_NAMES = {"difficulty": "difficulty", "company": "company", "bank": "bank", "tag": "topic"}
WEAK = "weak"
REMIND = "remind"
EXAMPLES_SHOWN = 5
_SEPARATORS = re.compile(r"[\s_-]+")


@dataclass(frozen=True, slots=True)
class Scope:
    """What to practise: the web page's filters, and ``weak`` (only cards last graded Again or Hard)."""

    filters: Filters = field(default_factory=Filters)
    weak: bool = False

    def describe(self) -> str:
        """The scope in words, as a context line shows it: "Google · Medium · weak cards"."""
        f = self.filters
        parts = [v for v in (f.company, f.difficulty, f.tag, f.bank) if v]
        if self.weak:
            parts.append("weak cards")
        return " · ".join(parts) if parts else "all questions"

    def as_dict(self) -> dict[str, Any]:
        """The scope as a button carries it (only what is set)."""
        out: dict[str, Any] = {f.name: getattr(self.filters, f.name) for f in fields(Filters)}
        out = {k: v for k, v in out.items() if v}
        return out | ({WEAK: True} if self.weak else {})

    @classmethod
    def from_dict(cls, data: object) -> Scope:
        """The scope a button carries; anything unreadable is no scope (everything)."""
        if not isinstance(data, dict):
            return cls()
        values = {f.name: data.get(f.name) for f in fields(Filters)}
        filters = Filters(**{k: v for k, v in values.items() if isinstance(v, str) and v})
        return cls(filters, data.get(WEAK) is True)


@dataclass(frozen=True, slots=True)
class Remind:
    """``remind on`` (True), ``remind off`` (False), or ``remind`` alone (None: say how it stands)."""

    on: bool | None


def normalise(text: str) -> str:
    return _SEPARATORS.sub(" ", text.lower()).strip()


class ScopeWords:
    """The names a scope can use, read off the banks' facets (``usecases.facets``)."""

    def __init__(self, facets: FacetCounts) -> None:
        self.names: dict[str, dict[str, str]] = {
            "difficulty": _names(facets.difficulties),
            "company": _names(facets.companies)
            | {alias: name for alias, name in COMPANY_ALIASES.items() if name in facets.companies},
            "bank": _names(facets.banks),
            "tag": _names(facets.tags),
        }
        self.facets = facets
        self.longest = max((len(n.split()) for names in self.names.values() for n in names), default=1)

    def parse(self, text: str) -> Scope | Remind:
        """``text`` (the words after ``practice``) as a scope or a reminder switch."""
        words = text.replace(",", " ").split()
        if words and words[0].lower() == REMIND:
            return self._remind(words[1:])
        chosen: dict[str, str] = {}
        weak = False
        i = 0
        while i < len(words):
            if words[i].lower() == WEAK:
                weak, i = True, i + 1
                continue
            found = self._longest(words, i)
            if found is None:
                raise Invalid(self._unknown(words[i]))
            kind, value, i = found
            if kind in chosen and chosen[kind] != value:
                name = KIND_NAMES[kind]
                raise Invalid(f"One {name} at a time: “{chosen[kind]}” or “{value}”?")
            chosen[kind] = value
        return Scope(replace(Filters(), **chosen), weak)

    def _longest(self, words: list[str], start: int) -> tuple[str, str, int] | None:
        """The kind and value of the longest run of words from ``start`` that names one, and where it ends."""
        for end in range(min(len(words), start + self.longest), start, -1):
            key = normalise(" ".join(words[start:end]))
            for kind in KINDS:
                value = self.names[kind].get(key)
                if value is not None:
                    return kind, canonical_company(value) if kind == "company" else value, end
        return None

    @staticmethod
    def _remind(words: list[str]) -> Remind:
        said = " ".join(words).lower()
        if said in ("", "on", "off"):
            return Remind(None if not said else said == "on")
        raise Invalid(f"`/ask practice remind` takes `on` or `off`, not “{' '.join(words)}”.")

    def _unknown(self, word: str) -> str:
        companies = ", ".join(name for name, _ in self.facets.companies.most_common(EXAMPLES_SHOWN))
        tags = ", ".join(name for name, _ in self.facets.tags.most_common(EXAMPLES_SHOWN))
        difficulties = ", ".join(sorted(self.facets.difficulties))
        return (
            f"I don't know “{word}” as a company, difficulty, topic or bank, so I can't practise it. "
            f"Companies include {companies}; difficulties are {difficulties}; topics include {tags}; "
            "`weak` keeps the cards you last graded Again or Hard. "
            "For example `/ask practice google medium` or `/ask practice weak`; "
            "to ask a question that starts with “practice”, word it another way."
        )


def _names(values: Iterable[str] | Mapping[str, int]) -> dict[str, str]:
    return {normalise(v): v for v in values}
