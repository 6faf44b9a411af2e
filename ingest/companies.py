"""One name per company: the aliases the banks use, mapped to one canonical name.

The banks name some companies two ways: the shipped ML bank's headings, table
and company lists say "Facebook" where its "Asked by" lines say "Meta", and
the site's newer ML page says "Google DeepMind" once and "DeepMind" elsewhere.
Ingestion writes every company through ``canonical_company``, so records,
facets and filters carry one name; the query side maps a name the user types
("what does Facebook ask?") through the same table.

Only clear aliases belong here: two names for the same company.  A division
("Meta AI", "Google Research") or a product ("WhatsApp", "YouTube") is not an
alias of its parent and keeps its own name.
"""

from __future__ import annotations

from collections.abc import Iterable

# alias (lowercase) -> canonical name: the company's current name.
COMPANY_ALIASES: dict[str, str] = {
    "facebook": "Meta",
    "deepmind": "Google DeepMind",
}

# Company names that are also words of the field or of everyday English ("slack variables",
# "meta learning", "apples"): in a query they name the company only when the query is about
# interviews or asking, names nothing else, or writes the name capitalised
# (``index.components.analysis``).
WORD_NAMES: frozenset[str] = frozenset(["apple", "meta", "slack"])


def canonical_company(name: str) -> str:
    """``name`` under its canonical spelling: 'Facebook' and 'facebook' -> 'Meta';
    a name without an alias is returned as given."""
    return COMPANY_ALIASES.get(" ".join(name.split()).lower(), name)


def canonical_companies(names: Iterable[str]) -> tuple[str, ...]:
    """The names mapped to their canonical spelling, first occurrence kept."""
    return tuple(dict.fromkeys(canonical_company(n) for n in names))


def company_aliases(canonical: Iterable[str]) -> dict[str, str]:
    """Every alias (lowercase) of the given canonical names, mapped to its name:
    what a query may call a company the corpus knows."""
    known = set(canonical)
    return {alias: name for alias, name in COMPANY_ALIASES.items() if name in known}
