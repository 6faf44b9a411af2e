"""Search filters: company, difficulty, tag and bank, matched case-insensitively;
a company by its canonical name, so "Facebook" finds what the bank calls "Meta"."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ingest.companies import canonical_company
from ingest.models import Question, QuickRef


@dataclass(frozen=True, slots=True)
class Filters:
    company: str | None = None
    difficulty: str | None = None
    tag: str | None = None
    bank: str | None = None

    def matches(self, record: Question | QuickRef) -> bool:
        if self.company and _company_key(self.company) not in {_company_key(c) for c in record.companies}:
            return False
        if self.difficulty and (record.difficulty or "").lower() != self.difficulty.lower():
            return False
        if self.tag and self.tag.lower() not in {t.lower() for t in record.tags}:
            return False
        return not self.bank or self.bank.lower() in (record.bank_slug.lower(), record.bank.lower())

    def is_empty(self) -> bool:
        return not (self.company or self.difficulty or self.tag or self.bank)

    def with_company(self, company: str) -> Filters:
        """These filters narrowed to ``company`` unless they already name one."""
        return self if self.company else replace(self, company=company)


_MARKUP = re.compile(r"([\\`*_\[\]#|~<>])")


def shown(value: str) -> str:
    """A filter's value as words inside an answer's markdown: on one line, its markdown marks
    escaped.  A filter comes with the request (a shared link, a form), and it was pasted into
    the answer as markdown: "Google\n\n## Session expired\n\n[Sign in](https://…)" showed a
    heading and a link inside the answer (attack run)."""
    return _MARKUP.sub(r"\\\1", " ".join(value.split()))


def filter_phrase(filters: Filters) -> str:
    """What ``filters`` allow, as words that follow "No question": "asked at Uber and marked Hard"."""
    parts = []
    if filters.company:
        parts.append(f"asked at {shown(canonical_company(filters.company))}")
    if filters.difficulty:
        parts.append(f"marked {shown(filters.difficulty.capitalize())}")
    if filters.tag:
        parts.append(f"tagged “{shown(filters.tag)}”")
    if filters.bank:
        parts.append(f"in the bank “{shown(filters.bank)}”")
    return " and ".join(parts)


def _company_key(name: str) -> str:
    return canonical_company(name).lower()
