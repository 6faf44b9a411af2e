"""What the loaded banks cover, in the assistant's own words: the abstention's
text and the example questions come from the banks present, never from a
list written for one bank."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.models import Question, QuickRef

EXAMPLES = 5
SHORT_EXAMPLES = 3  # the questions a greeting (and a list of suggestions) offers: the first of ``examples``


@dataclass(frozen=True, slots=True)
class BankCatalog:
    """The banks in the index, most questions first, and what to offer when
    nothing answers: example questions (each the title of a full answer, so
    each one is answered) and a company question."""

    banks: tuple[str, ...]
    examples: tuple[str, ...]
    companies: tuple[str, ...] = ()  # the companies the banks name, the most questions first

    @classmethod
    def of(cls, records: Iterable[Question | QuickRef], n: int = EXAMPLES) -> BankCatalog:
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        records_list = list(records)
        questions = [r for r in records_list if isinstance(r, Question)]
        sizes = Counter(q.bank for q in questions)
        banks = tuple(sorted(sizes, key=lambda b: (-sizes[b], b)))
        # Per bank, its answers with code first (they show the most), in bank order.
        queues = {b: sorted((q for q in questions if q.bank == b), key=lambda q: not q.code_blocks) for b in banks}
        picked: list[str] = []
        while len(picked) < n - 1 and any(queues.values()):
            for bank in banks:
                if queues[bank] and len(picked) < n - 1:
                    picked.append(queues[bank].pop(0).title)
        companies = Counter(c for q in questions for c in q.companies)
        if companies:
            picked.append(f"What does {companies.most_common(1)[0][0]} ask?")
        every = Counter(c for r in records_list for c in r.companies)
        named = tuple(sorted(every, key=lambda c: (-every[c], c)))
        return cls(banks=banks, examples=tuple(picked), companies=named)

    @property
    def abstain_text(self) -> str:
        covered = _listed(self.banks) if self.banks else "no question bank yet"
        return (
            "I couldn't find that in the question banks I cover, so I won't guess. "
            f"I answer from {covered}: curated explanations, formulas, code and what interviewers look for."
        )

    @property
    def intro_text(self) -> str:
        """What the assistant does, for a greeting."""
        covered = _listed(self.banks) if self.banks else "no question bank yet"
        return (
            f"I answer interview questions from {covered}: ask about a topic (“how does dropout work?”), "
            "describe a problem you hit (“my model does great on train data but badly on test data”), "
            "or ask what a company asks (“what does Google ask?”)."
        )

    def unknown_company_text(self, name: str, shown: int = 8) -> str:
        """Refused as a question about a company the banks name nowhere ("what does tiktok ask?")."""
        if not self.companies:
            return f"The banks list no questions by company, so none for “{name}”."
        listed = ", ".join(self.companies[:shown]) + (", …" if len(self.companies) > shown else "")
        return (
            f"The banks list no questions asked at “{name}”. They list questions for {listed}: "
            f"ask “what does {self.companies[0]} ask?”, or ask about a topic."
        )

    def neighbour_text(self, subject: str) -> str:
        """Refused as a neighbouring subject's question: say which subject, and what is covered.
        (Not its closest question: a title match is right about the subject more often than
        about the question.)"""
        covered = _listed(self.banks) if self.banks else "no question bank yet"
        return (
            f"That reads like a question for “{subject}”, which I don't cover, so I won't guess. "
            f"I answer from {covered}: curated explanations, formulas, code and what interviewers look for."
        )

    @property
    def several(self) -> bool:
        return len(self.banks) > 1


def _listed(names: tuple[str, ...]) -> str:
    quoted = [f"“{n}”" for n in names]
    if len(quoted) == 1:
        return f"the {quoted[0]} bank"
    return "the " + ", ".join(quoted[:-1]) + f" and {quoted[-1]} banks"
