"""Query analysis: companies named, typos corrected, acronyms expanded, topic words."""

from __future__ import annotations

import re
from collections.abc import Iterable

from index.query import GENERIC_TERMS, WORD, AnalyzedQuery, SpellCorrector
from index.tokenize import tokenize
from ingest.companies import canonical_company, company_aliases

_NOT_TOPIC = frozenset(["ml", "learn"])
# The field and the job a question about interviews names ("oyo data scientist interview questions",
# "questions ola asks in machine learning interviews", "for ml roles"): no topic of their own.
_FIELD = re.compile(
    r"\b(?:machine[- ]learning|data[- ]scien\w*|data analysts?"
    r"|(?:ml|ai|software|research|applied)[- ](?:engineer|scientist|researcher)s?|roles?|jobs?|positions?)\b",
    re.I,
)


class QueryAnalysis:
    """Turns a user's query into the text the retrievers search, all from the
    corpus itself: company names (whole words only) are taken out and kept
    apart under their canonical name (an alias such as "Facebook" names the
    corpus's "Meta", ``ingest.companies``), words outside the corpus vocabulary
    are corrected, and acronyms the corpus defines get their long form appended."""

    def __init__(self, acronyms: dict[str, str], corrector: SpellCorrector, companies: Iterable[str]) -> None:
        self.acronyms = acronyms
        self.corrector = corrector
        canonical = {canonical_company(c) for c in companies}
        self.companies = {c.lower(): c for c in canonical if len(c) >= 2} | company_aliases(canonical)
        names = sorted(self.companies, key=len, reverse=True)
        self._company_re = (
            re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?:'s)?(?![\w-])", re.I)
            if names
            else None
        )

    def run(self, query: str) -> AnalyzedQuery:
        companies: list[str] = []
        text = query
        if self._company_re is not None:
            for m in self._company_re.finditer(query):
                name = self.companies[m.group(1).lower()]
                if name not in companies:
                    companies.append(name)
            text = self._company_re.sub(" ", text)
        corrected = self.corrector.correct(text)
        words = WORD.findall(corrected)
        expansions = []
        for w in words:
            key = re.sub(r"[^a-z]", "", w.rstrip("s") if len(w) > 3 else w)
            if key in self.acronyms and self.acronyms[key] not in corrected:
                expansions.append(self.acronyms[key])
            elif w in self.acronyms and self.acronyms[w] not in corrected:
                expansions.append(self.acronyms[w])
        full = " ".join([corrected, *[f"({e})" for e in expansions]])
        topic = tuple(t for t in tokenize(_FIELD.sub(" ", corrected)) if t not in GENERIC_TERMS and t not in _NOT_TOPIC)
        return AnalyzedQuery(
            original=query, text=full, companies=tuple(companies), topic_terms=topic, expansions=tuple(expansions)
        )
