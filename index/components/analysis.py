"""Query analysis: companies named, typos corrected, acronyms expanded, topic words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz.distance import OSA

from index.query import GENERIC_TERMS, WORD, AnalyzedQuery, SpellCorrector
from index.tokenize import STOP_WORDS, tokenize
from ingest.companies import WORD_NAMES, canonical_company, company_aliases

_NOT_TOPIC = frozenset(["ml", "learn"])
# The field and the job a question about interviews names ("oyo data scientist interview questions",
# "questions ola asks in machine learning interviews", "for ml roles"): no topic of their own.
_FIELD = re.compile(
    r"\b(?:machine[- ]learning|data[- ]scien\w*|data analysts?"
    r"|(?:ml|ai|software|research|applied)[- ](?:engineer|scientist|researcher)s?|roles?|jobs?|positions?)\b",
    re.I,
)


_LETTERS = re.compile(r"[A-Za-z]+")


def _one_typo(typed: str, name: str) -> bool:
    """``typed`` is ``name`` with one letter dropped, one added inside it, or two neighbours
    swapped; not the name with a letter added at its end ("apples", "googled")."""
    if OSA.distance(typed, name) != 1 or typed.startswith(name):  # "apples", "googled": a word of its own
        return False
    if len(typed) != len(name):
        return True
    diff = [i for i, (a, b) in enumerate(zip(typed, name, strict=True)) if a != b]
    return len(diff) == 2 and diff[1] == diff[0] + 1


# A job title ("ml engineers", "data scientist"): taken out of the text searched when the query
# names something else, so "how much do ml engineers make" is not searched as a question about
# ML engineering.  Titles only: "job titles", "word positions" and the field ("what is machine
# learning") keep their words.
_JOB = re.compile(
    r"\b(?:data[- ]scientists?|data analysts?"
    r"|(?:ml|ai|software|research|applied|machine[- ]learning)[- ](?:engineer|scientist|researcher)s?)\b",
    re.I,
)


# A query about interviews or asking: a company named in it is the company.
_ASKING = re.compile(r"\b(?:ask\w*|interview\w*|questions?|qs|onsite|rounds?|hiring|hire[sd]?)\b", re.I)
_FILLER = re.compile(r"what|about|how|and|or|so|ok|okay|then|also")


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
        # One-word names of five letters or more that a typo may reach ("gogle", "amazn").
        self._respellable = sorted(n for n in self.companies if len(n) >= 5 and n.isalpha())
        names = sorted(self.companies, key=len, reverse=True)
        self._company_re = (
            re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?:'s)?(?![\w-])", re.I)
            if names
            else None
        )

    def respell_companies(self, query: str) -> str:
        """``query`` with a company's name typed one letter off written right: a
        letter missing, one too many, or two neighbouring letters swapped ("what
        does gogle ask", "amazn questions", "facebok" for Meta's alias), for a
        word of five letters or more that the corpus does not use.  A letter
        typed in place of another is left alone: it makes other words of
        names ("snack", "ample"), and so does any word the corpus uses."""
        if not self._respellable:
            return query

        def respell(m: re.Match[str]) -> str:
            word = m.group(0).lower()
            if len(word) < 5 or word in self.companies or word in self.corrector.counts:
                return m.group(0)
            for name in self._respellable:
                if abs(len(name) - len(word)) <= 1 and _one_typo(word, name):
                    return name
            return m.group(0)

        return _LETTERS.sub(respell, query)

    @staticmethod
    def _names_company(match: re.Match[str], query: str) -> bool:
        """A name that is also a word ("slack", "meta", "apple": ``WORD_NAMES``) is the company
        only in a query about interviews or asking ("did slack ask about random forests"),
        written capitalised ("Slack"), or with nothing else to say ("what about meta?");
        "what are slack variables" and "meta learning" are about the words."""
        word = match.group(1)
        if word.lower() not in WORD_NAMES or word[:1].isupper():
            return True
        if _ASKING.search(query):
            return True
        rest = query[: match.start()] + " " + query[match.end() :]
        return not [w for w in WORD.findall(rest.lower()) if w not in STOP_WORDS and not _FILLER.fullmatch(w)]

    def run(self, query: str) -> AnalyzedQuery:
        companies: list[str] = []
        query_text = query
        # compatibility forms as their plain letters: full-width "ｄｒｏｐｏｕｔ" (an East Asian
        # keyboard's), ligatures, superscripts are the words the banks write plainly
        query = self.respell_companies(unicodedata.normalize("NFKC", query))
        text = query
        if self._company_re is not None:
            named = [m for m in self._company_re.finditer(query) if self._names_company(m, query)]
            for m in named:
                name = self.companies[m.group(1).lower()]
                if name not in companies:
                    companies.append(name)
            for m in reversed(named):
                text = text[: m.start()] + " " + text[m.end() :]
        corrected = self.corrector.correct(text)
        words = WORD.findall(corrected)
        expansions = []
        for w in words:
            key = re.sub(r"[^a-z]", "", w.rstrip("s") if len(w) > 3 else w)
            if key in self.acronyms and self.acronyms[key] not in corrected:
                expansions.append(self.acronyms[key])
            elif w in self.acronyms and self.acronyms[w] not in corrected:
                expansions.append(self.acronyms[w])
        without_job = _JOB.sub(" ", corrected)
        topic = tuple(
            t for t in tokenize(_FIELD.sub(" ", without_job)) if t not in GENERIC_TERMS and t not in _NOT_TOPIC
        )
        if topic and without_job != corrected:  # something besides the job: the job is not searched
            corrected = " ".join(without_job.split())
        full = " ".join([corrected, *[f"({e})" for e in expansions]])
        return AnalyzedQuery(
            original=query_text, text=full, companies=tuple(companies), topic_terms=topic, expansions=tuple(expansions)
        )
