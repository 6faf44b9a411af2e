"""The typed answer every surface renders: the web page, the JSON/SSE API and Slack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from index.filters import Filters, shown
from index.results import Passage, SearchHit
from ingest.models import CodeBlock, Question, QuickRef, Section
from ingest.textutil import without_code

AnswerKind = Literal["question", "quick_reference", "company_list", "abstain", "reply"]


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer, as data until a surface renders it.

    ``record`` is the record that answers (None when abstaining).  ``sections``
    are the parts of its curated answer chosen for the query; ``code`` the
    code shown apart from them (before them when ``code_first``: the user asked
    for code).  ``sources`` are the best hits (the answering record first),
    ``related`` the next-best records, ``suggestions`` what to ask next.
    ``message`` is the answer's own words when it has no curated text (an
    abstention, a quick-reference row, a ``reply`` to a message that is only
    courtesy such as "thanks!"), ``examples`` questions to try.
    A company list has its records in ``listing`` (easy to hard) and what
    chose them in ``list_filters``.  A quick-reference row, which has no
    curated answer, brings the ``passages`` of full answers that discuss it.
    With several banks loaded, ``banks`` names them (so the answer can say
    which one it comes from) and ``other_bank`` is the best relevant record of
    another bank, offered beside it.  ``unasked`` is a company the question
    named that asks none of the questions answering it ("uber svm questions"):
    the answer is the bank's, and says so."""

    kind: AnswerKind
    rewritten_query: str
    record: Question | QuickRef | None = None
    sections: tuple[Section, ...] = ()
    code: tuple[CodeBlock, ...] = ()
    code_first: bool = False
    sources: tuple[SearchHit, ...] = ()
    related: tuple[SearchHit, ...] = ()
    suggestions: tuple[str, ...] = ()
    message: str | None = None
    examples: tuple[str, ...] = ()
    listing: tuple[Question | QuickRef, ...] = ()
    list_filters: Filters | None = None
    whole_bank: bool = False  # a company list that is every question of the banks (each lists the company)
    # the record's sections shown in this answer and the answers before it that read on through it
    read: tuple[Section, ...] = ()
    # a follow-up asking for more once every section had been read: the answer from the start again
    restarted: bool = False
    # a refused new subject, offered again as a follow-up on the topic before ("About “…”: …")
    retry: str | None = None
    passages: tuple[Passage, ...] = ()
    banks: tuple[str, ...] = ()
    other_bank: SearchHit | None = None
    unasked: str | None = None

    @property
    def abstained(self) -> bool:
        return self.kind == "abstain"

    @property
    def title(self) -> str | None:
        if self.kind == "company_list" and self.list_filters is not None:
            return list_title(self.list_filters)
        return self.record.title if self.record is not None else None

    @property
    def narrowable(self) -> bool:
        """A company list that "which of those are hard?" narrows: some of its questions are
        Hard and some are not, and it is not narrowed to a difficulty already."""
        levels = {r.difficulty for r in self.listing}
        narrowed = self.list_filters is not None and self.list_filters.difficulty is not None
        return not narrowed and "Hard" in levels and len(levels) > 1

    @property
    def insight(self) -> str | None:
        return self.record.insight if isinstance(self.record, Question) else None

    @property
    def main_code(self) -> CodeBlock | None:
        """The code a short rendering shows: the code asked for first, else the
        first code of the chosen sections, else the code shown after them, else
        the best hit's first block."""
        if self.code_first and self.code:
            return self.code[0]
        for section in self.sections:
            if section.code_blocks:
                return section.code_blocks[0]
        if self.code:
            return self.code[0]
        best = self.sources[0] if self.sources else None
        return best.code[0] if best is not None and best.code else None

    def code_heading(self, block: CodeBlock) -> str | None:
        """The heading of the bank's section that is all of ``block``, when that section is
        not among the chosen ones: "Choosing K (Elbow Method)" says what the code is about,
        "Code" does not.  None when the section is shown (its heading is there already),
        has no heading, or has prose that is not shown with the code."""
        if not isinstance(self.record, Question):
            return None
        shown = {s.heading for s in self.sections}
        for section in self.record.sections:
            if block in section.code_blocks:
                all_code = section.code_blocks == (block,) and not without_code(section.markdown)
                return section.heading if all_code and section.heading and section.heading not in shown else None
        return None


def unasked_line(company: str) -> str:
    """What an answer says when the company the question named asks none of the questions on it."""
    return f"None of {company}'s questions in the bank is close to this; this is the bank's answer."


def restarted_line(title: str) -> str:
    """What an answer read to its end says when asked for more again: it starts over, and why."""
    return f"That was all of “{title}”; here it is again from the start."


def list_title(filters: Filters) -> str:
    """'Hard questions asked at Uber on Deep Learning', from what chose the list."""
    what = f"{filters.difficulty.capitalize()} questions" if filters.difficulty else "Questions"  # "hard" from a filter
    return what + f" asked at {shown(filters.company or '')}" + (f" on {shown(filters.tag)}" if filters.tag else "")
