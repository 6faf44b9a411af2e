"""Link quick-reference rows and company lists to the full questions they name.

The method is general title similarity, never a hand-written map: titles are
reduced to sets of content words (lowercased, light suffix stemming, stop and
question words removed, acronyms in parentheses kept), and a row links to the
full question whose title covers its words best, above a threshold.

Once embeddings exist (``refine_links``, at build time), a row may also link
to a full question of another bank, so a topic one page lists only as a row
gets the answer another page gives it.  Its own bank's questions are tried
first (the table was written for that page); another bank's question needs
both kinds of evidence at their strong level: titles that share enough words
to link on words alone *and* clearly the same meaning.  Within a bank one of
them may be weaker because the page frames the topic; across banks the same
words can name another domain's thing ("memory usage" of a dict and of a
DataFrame).  Each title's words are compared without the words too common in
its own bank's titles.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from ingest.models import Question, QuickRef
from ingest.textutil import stem

_WORD = re.compile(r"[a-z0-9]+")
_FILLER = frozenset(
    [
        "a",
        "an",
        "between",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "compare",
        "difference",
        "different",
        "do",
        "does",
        "explain",
        "for",
        "from",
        "give",
        "how",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "the",
        "their",
        "them",
        "to",
        "use",
        "used",
        "using",
        "vs",
        "versus",
        "what",
        "when",
        "which",
        "why",
        "with",
        "work",
        "works",
        "you",
        "your",
        "example",
        "examples",
        "basics",
        "basic",
        "interview",
        "question",
        "questions",
        "ml",
        "machine",
        "learning",
        "model",
        "models",
        "technique",
        "techniques",
        "method",
        "methods",
        "type",
        "types",
        "concept",
        "concepts",
    ]
)


def title_terms(title: str) -> frozenset[str]:
    words = _WORD.findall(title.lower().replace("-", " "))
    return frozenset(stem(w) for w in words if w not in _FILLER)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller title's terms found in the other (overlap coefficient),
    damped by the Dice coefficient so one shared word between long titles is weak."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    overlap = shared / min(len(a), len(b))
    dice = 2 * shared / (len(a) + len(b))
    return 0.5 * overlap + 0.5 * dice


def _common_terms(questions: Sequence[Question], share: float = 0.2) -> dict[str, frozenset[str]]:
    """Per bank, title words so frequent they say nothing ('pandas' in the Pandas bank)."""
    by_bank: dict[str, list[frozenset[str]]] = {}
    for q in questions:
        by_bank.setdefault(q.bank_slug, []).append(title_terms(q.title))
    out: dict[str, frozenset[str]] = {}
    for bank, term_sets in by_bank.items():
        counts = Counter(t for terms in term_sets for t in terms)
        limit = max(3, share * len(term_sets))
        out[bank] = frozenset(t for t, n in counts.items() if n > limit)
    return out


def best_match(
    title: str,
    candidates: Sequence[tuple[str, frozenset[str]]],
    threshold: float,
    ignore: frozenset[str] = frozenset(),
) -> str | None:
    terms = title_terms(title) - ignore
    scored = sorted(((similarity(terms, t), cid) for cid, t in candidates), reverse=True)
    if scored and scored[0][0] >= threshold:
        return scored[0][1]
    return None


LINK_THRESHOLD = 0.6


def link_quick_refs(
    questions: Sequence[Question], quick_refs: Sequence[QuickRef], threshold: float = LINK_THRESHOLD
) -> tuple[list[Question], list[QuickRef]]:
    """Return copies with ``QuickRef.question_id`` and ``Question.quick_ref_ids`` set."""
    common = _common_terms(questions)
    candidates = [(q.id, title_terms(q.title) - common[q.bank_slug]) for q in questions]
    links: list[str | None] = []
    for ref in quick_refs:
        own, _ = _by_bank(ref, questions, candidates)
        links.append(best_match(ref.title, own, threshold, ignore=common.get(ref.bank_slug, frozenset())))
    return _apply_links(questions, quick_refs, links)


Candidate = tuple[str, frozenset[str]]  # a question's id and title terms


def _by_bank(
    ref: QuickRef, questions: Sequence[Question], candidates: Sequence[Candidate]
) -> tuple[list[Candidate], list[tuple[str, frozenset[str], str]]]:
    """The candidates (one per question) of the row's own bank, and of the other banks (with their bank)."""
    own = [c for c, q in zip(candidates, questions, strict=True) if q.bank_slug == ref.bank_slug]
    other = [(*c, q.bank_slug) for c, q in zip(candidates, questions, strict=True) if q.bank_slug != ref.bank_slug]
    return own, other


# A title's closing phrase of purpose or setting: "Git Bisect for Debugging", "np.where() with Pandas".
_CONTEXT = re.compile(r"(?<=\s)(?:for|with|in|using|on|via)\s", re.I)


def _head(title: str) -> str:
    """``title`` without its closing phrase of purpose or setting (``_CONTEXT``), looked for after
    its last bracket only: one pass, where a pattern anchored at the end took seconds on a long
    title of spaces (review)."""
    tail = max(title.rfind("("), title.rfind(")")) + 1
    found = _CONTEXT.search(title, tail)
    return title[: found.start()] if found else title


def _apply_links(
    questions: Sequence[Question], quick_refs: Sequence[QuickRef], links: Sequence[str | None]
) -> tuple[list[Question], list[QuickRef]]:
    """Copies with each row's ``question_id`` set to its entry in ``links``, and
    each question's ``quick_ref_ids`` and ``practice_url`` taken from the rows
    that now link to it (in row order; the first row with a practice link)."""
    linked_refs = [replace(r, question_id=qid) for r, qid in zip(quick_refs, links, strict=True)]
    by_question: dict[str, list[QuickRef]] = {}
    for r in linked_refs:
        if r.question_id:
            by_question.setdefault(r.question_id, []).append(r)
    linked_questions = []
    for q in questions:
        refs = by_question.get(q.id, [])
        practice = next((r.practice_url for r in refs if r.practice_url), None)
        linked_questions.append(replace(q, quick_ref_ids=tuple(r.id for r in refs), practice_url=practice))
    return linked_questions, linked_refs


def attach_companies(
    questions: Sequence[Question],
    quick_refs: Sequence[QuickRef],
    company_lists: Iterable[tuple[str, str, Sequence[str]]],
    threshold: float = 0.75,
    unmatched: list[tuple[str, str, str]] | None = None,
) -> tuple[list[Question], list[QuickRef]]:
    """Add each listed company to the records its list names.

    ``company_lists`` yields (bank_slug, company, titles).  A listed title is
    matched against quick-reference titles first (the lists are built from
    that table), then against full-question titles; a matched row also passes
    the company on to its linked question.  A title that matches no record is
    added to ``unmatched`` as (bank_slug, company, title), for the ingest to say so.
    """
    q_extra: dict[str, list[str]] = {}
    r_extra: dict[str, list[str]] = {}
    for bank_slug, company, titles in company_lists:
        ref_cands = [(r.id, title_terms(r.title)) for r in quick_refs if r.bank_slug == bank_slug]
        q_cands = [(q.id, title_terms(q.title)) for q in questions if q.bank_slug == bank_slug]
        ref_by_id = {r.id: r for r in quick_refs}
        for title in titles:
            if rid := best_match(title, ref_cands, threshold):
                r_extra.setdefault(rid, []).append(company)
                if (qid := ref_by_id[rid].question_id) is not None:
                    q_extra.setdefault(qid, []).append(company)
            elif qid := best_match(title, q_cands, threshold):
                q_extra.setdefault(qid, []).append(company)
            elif unmatched is not None:
                unmatched.append((bank_slug, company, title))
    new_q = [replace(q, companies=tuple(dict.fromkeys([*q.companies, *q_extra.get(q.id, [])]))) for q in questions]
    new_r = [replace(r, companies=tuple(dict.fromkeys([*r.companies, *r_extra.get(r.id, [])]))) for r in quick_refs]
    return new_q, new_r


def refine_links(
    questions: Sequence[Question],
    quick_refs: Sequence[QuickRef],
    cosine: Callable[[str, str], float],
    lexical_alone: float = LINK_THRESHOLD,
    lexical_with_meaning: float = 0.35,
    meaning_floor: float = 0.5,
    meaning_strong: float = 0.64,
) -> tuple[list[Question], list[QuickRef]]:
    """Decide links on two kinds of evidence once embeddings exist.

    A row links to its best-matching full question of its own bank when the
    titles share enough words and mean roughly the same (``meaning_floor``),
    or share some words and mean clearly the same (``meaning_strong``).  A row
    no question of its bank answers links to another bank's best question
    whose title names every word of the row's, shares enough words
    (``lexical_alone``) and means clearly the same (``meaning_strong``).  ``cosine(row_id, question_id)`` compares the
    row's embedding with the question title's.
    """
    common = _common_terms(questions)
    candidates = [(q.id, title_terms(q.title) - common[q.bank_slug]) for q in questions]

    def own_bank(lex: float, sem: float) -> bool:
        return (lex >= lexical_alone and sem >= meaning_floor) or sem >= meaning_strong

    def other_bank(lex: float, sem: float) -> bool:
        return lex >= lexical_alone and sem >= meaning_strong

    def best(
        ref: QuickRef, terms: frozenset[str], cands: Sequence[Candidate], linked: Callable[[float, float], bool]
    ) -> str | None:
        found: tuple[float, float, str] | None = None
        for qid, q_terms in cands:
            lex = similarity(terms, q_terms)
            if lex < lexical_with_meaning:
                continue
            sem = cosine(ref.id, qid)
            if linked(lex, sem) and (found is None or (sem + lex) > found[0] + found[1]):
                found = (sem, lex, qid)
        return found[2] if found else None

    links: list[str | None] = []
    for ref in quick_refs:
        terms = title_terms(ref.title) - common.get(ref.bank_slug, frozenset())
        own, other = _by_bank(ref, questions, candidates)
        # Across banks the other title must name every word of the row's head (before a closing
        # "for debugging", "with pandas"): a word it leaves out is the row's own domain
        # ("dictionary" memory usage is not a DataFrame's, a "timezone-aware" datetime in
        # Pandas is not Python's datetime answer).
        head = title_terms(_head(ref.title)) - common.get(ref.bank_slug, frozenset())
        named = [(qid, q_terms) for qid, q_terms, bank in other if head - common[bank] <= q_terms]
        links.append(best(ref, terms, own, own_bank) or best(ref, terms, named, other_bank))
    return _apply_links(questions, quick_refs, links)
