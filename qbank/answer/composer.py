"""Compose the answer to a conversation from the curated bank (extractive, nothing invented).

The best record's chosen sections, its code (first when the user asked for
code), the interviewer's insight, and the next-best records as related
questions and suggestions; or an abstention with questions to try.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal
from urllib.parse import quote

import numpy as np

from index.filters import Filters, filter_phrase, shown
from index.results import SearchHit, SearchResult
from index.search import Searcher
from index.tokenize import tokenize
from ingest.models import Question, QuickRef, Section
from qbank.answer.banks import SHORT_EXAMPLES, BankCatalog
from qbank.answer.conversation import (
    ConversationResolver,
    Turn,
    asked_company,
    courtesy,
    is_step,
    names_something,
    strayed_chip,
)
from qbank.answer.model import Answer, without_code

CODE_REQUEST = re.compile(
    r"\b(code|implement\w*|snippet|example|python|sklearn|scikit|script|write|program"
    r"|pytorch|torch|tensorflow|tf|keras|numpy|jax)\b",
    re.I,
)

RELATED_SHARE = 0.5  # of the best record's score, for a record shown beside it
QUICK_REF_TEXT = "The bank has no curated answer for this topic: it is one of its quick-reference entries."


def wants_code(query: str) -> bool:
    return bool(CODE_REQUEST.search(query))


Reading = Literal["on", "again", "through"]  # reading on, from the start again, nothing more to show
MAX_READ_BACK = 8  # earlier answers a follow-up asking for more reads back through (each a cached search)


class AnswerComposer:
    """Retrieves for a conversation and composes the extractive ``Answer``."""

    def __init__(
        self, searcher: Searcher, max_sections: int = 2, related: int = 3, sources: int = 4, passages: int = 3
    ) -> None:
        if max_sections <= 0 or related < 0 or sources <= 0 or passages < 0:
            raise ValueError("max_sections and sources must be positive, related and passages non-negative")
        self.passages = passages
        self.searcher = searcher
        self.catalog = BankCatalog.of(searcher.records.values())
        self.resolver = ConversationResolver(searcher, catalog=self.catalog)  # one catalog: picks read what was shown
        self.max_sections = max_sections
        self.related = related
        self.sources = sources
        # each full answer's section chunks (position in the index, section): what a follow-up's own
        # words are compared with when they name no heading
        self._section_chunks: dict[str, list[tuple[int, int]]] = {}
        for position, chunk in enumerate(searcher.artifact.chunks):
            if chunk.kind == "section" and chunk.section_index is not None:
                self._section_chunks.setdefault(chunk.doc_id, []).append((position, chunk.section_index))

    def compose(self, messages: Sequence[tuple[str, str]], filters: Filters | None = None, _depth: int = 0) -> Answer:
        """The answer to the last user message, resolved against the earlier ones."""
        turn = self.resolver.resolve([content for role, content in messages if role == "user"], filters)
        if turn.kind == "company_list":
            return self._listing(turn)
        if turn.kind == "courtesy":
            return self._reply(turn)
        if turn.kind == "company_check" and turn.record is not None:
            return self._who_asks(turn.record, turn.asked, turn.message)
        if turn.kind == "practice":
            return self._practice(turn.asked, turn.message)
        if turn.kind == "list_end":
            return self._list_end(turn)
        result = turn.result
        if result is None or not result.answerable or not result.hits:
            text = self._abstain_text(turn.query, result, turn.message)
            chip = strayed_chip(turn)
            if turn.strayed is not None:
                # taken for a new subject: say so, and offer it as a follow-up in one click, first
                text = f"That doesn't read as a follow-up on “{turn.strayed.title}”. {text}"
            return Answer(
                kind="abstain",
                rewritten_query=turn.query,
                suggestions=(*chip, *self.catalog.examples[:SHORT_EXAMPLES]),
                message=text,
                examples=self.catalog.examples,
                retry=chip[0] if chip else None,
            )
        best = self._best(turn, result.hits)
        others = tuple(h for h in result.hits if h is not best and self._relevant(h, best))
        related = others[: self.related]
        found = Answer(
            kind="question",
            rewritten_query=turn.query,
            record=best.record,
            sources=(best, *others)[: self.sources],
            related=related,
            suggestions=tuple(h.record.title for h in related),
            banks=self.catalog.banks if self.catalog.several else (),
            other_bank=next((h for h in others if h.record.bank != best.record.bank), None),
            unasked=result.unasked,
        )
        if isinstance(best.record, QuickRef):
            passages = self.searcher.find_passages(best.record.title, k=self.passages) if self.passages else ()
            return replace(found, kind="quick_reference", message=QUICK_REF_TEXT, passages=passages)
        named = turn.message if turn.kind == "followup" else ""
        sections = self.relevant_sections(
            best.record, turn.focus, best, anchored=turn.kind != "comparison", named=named
        )
        code_first = wants_code(messages[-1][1])
        read: tuple[Section, ...] = ()
        restarted = False
        if turn.kind in ("followup", "comparison") and not code_first and _depth < MAX_READ_BACK:
            sections, read, reading = self._read_on(messages, filters, best.record, sections, turn.message, _depth)
            if reading == "through":
                return self._read_through(found, best.record)
            restarted = reading == "again"
        elif turn.kind in ("followup", "comparison") and _depth < MAX_READ_BACK:
            # "show me code": what was read before still counts, so "go on" after it reads on
            # (it showed the part read before the code again, word for word)
            before = self._answer_before(messages, filters, _depth)
            read = before.read if before is not None and before.record is best.record else ()
        main = best.code[:1]
        in_sections = any(c in s.code_blocks for s in sections for c in main)
        code = main if code_first or not in_sections else ()
        # a section that is only code counts as read once its code is shown ("Practical Example")
        as_code = (s for s in best.record.sections if s.code_blocks and set(s.code_blocks) <= set(code))
        displayed = (*sections, *(s for s in as_code if not without_code(s.markdown).strip()))
        read = (*read, *(s for s in displayed if s not in read))
        return replace(found, sections=sections, code=code, code_first=code_first, read=read, restarted=restarted)

    def _read_through(self, found: Answer, record: Question) -> Answer:
        """A request for more of an answer shown whole and then again: what else to ask."""
        text = (
            f"That is all the bank has on “{record.title}”, and it was just shown again above. "
            "Ask about one of its parts, a related question, or a new one."
        )
        asks = found.suggestions or self.catalog.examples[:SHORT_EXAMPLES]
        return Answer(kind="reply", rewritten_query=found.rewritten_query, suggestions=asks, message=text)

    def _read_on(
        self,
        messages: Sequence[tuple[str, str]],
        filters: Filters | None,
        record: Question,
        sections: tuple[Section, ...],
        message: str,
        depth: int,
    ) -> tuple[tuple[Section, ...], tuple[Section, ...], Reading]:
        """A follow-up on the answer shown last that asks only for more of it ("why?", "i don't get
        it", "more detail please"): the sections not read yet, in the answer's order ("on"), from
        the start again once all have been read ("again": the answer says so), or nothing more
        when that was just done and would repeat it word for word ("through": "go on", then "why?"
        after an answer short enough to show whole).  One that names a part already shown keeps
        that part first and adds the next unread one.  Also what had been read before this turn.
        Without it, such a follow-up got the same answer word for word."""
        before = self._answer_before(messages, filters, depth)
        if before is None or before.record is not record or not before.sections:
            return sections, (), "on"
        unread = tuple(s for s in record.sections if s not in before.read)
        if names_something(message):
            words = set(tokenize(message))
            overlap = [(len(words & set(tokenize(s.heading or ""))), s) for s in sections]
            best, named = max(overlap, key=lambda pair: pair[0], default=(0, None))
            # the parts chosen are the ones just shown, or all read before (after "code pls" in
            # between, "and in production?" chose the first answer's parts and repeated it word for
            # word: tester)
            repeated = set(sections) == set(before.sections) or set(sections) <= set(before.read)
            if not repeated or named is None:
                return sections, before.read, "on"
            if not unread:
                # nothing left to add ("when would i not use boosting" after a short answer shown
                # whole): shown again, and the answer says it starts over; asked once more, nothing
                # more is shown (it started over on every ask: review)
                through = before.restarted and set(before.sections) == set(sections)
                return sections, (), "through" if through else "again"
            # the part it names ("what is the update rule?"), and the next part not read yet; naming
            # none ("rmse vs mae" after the regression metrics, "what about for trees?" after
            # overfitting), the parts chosen for it again and the next part: not the same answer
            # word for word
            kept = {named} if best else set(sections)
            return tuple(s for s in record.sections if s in kept or s is unread[0]), before.read, "on"
        if not unread:
            through = before.restarted and set(before.sections) == set(sections)
            return sections, (), "through" if through else "again"
        return unread[: self.max_sections], before.read, "on"

    def _answer_before(self, messages: Sequence[tuple[str, str]], filters: Filters | None, depth: int) -> Answer | None:
        """The last answer with a record's sections before the last user message, past replies
        to courtesy and company checks ("explain dropout", "thanks", "go on"); None if none."""
        users = [i for i, (role, _) in enumerate(messages) if role == "user"]
        for end in reversed(users[:-1]):
            if depth >= MAX_READ_BACK:
                return None
            depth += 1
            before = self.compose(messages[: end + 1], filters, _depth=depth)
            if before.kind == "question":
                return before
            if before.kind != "reply":
                return None
        return None

    def _reply(self, turn: Turn) -> Answer:
        """A message that is only courtesy gets a reply in kind, not a search: the topic
        so far to follow up on, or questions to start with."""
        said = courtesy(turn.message)
        topic = turn.record.title if turn.record is not None and turn.answered else None
        thanks = "You're welcome. " if said == "thanks" else ""
        if said == "bye":
            text = "Good luck with your interviews! Come back with any question when you want to practise more."
        elif turn.listing:
            text = f"{thanks}Ask about any question of the list (“the second one”, “only the hard ones”), or a new one."
        elif said == "help":
            more = f" Or ask a follow-up on “{topic}”." if topic is not None else ""
            text = f"{self.catalog.intro_text}{more}"
        elif said != "greeting" and topic is None and turn.result is not None:
            # after a refusal ("ok cool"): not the first visit's introduction again
            text = f"{thanks or 'OK. '}Ask another question, for example one of these."
        elif said == "greeting" or topic is None:
            text = f"{thanks or 'Hi! '}{self.catalog.intro_text}"
        else:
            text = (
                f"{thanks}Ask a follow-up on “{topic}” (“show me the code”, “when would I not use it?”), "
                "or ask a new question."
            )
        hits = turn.result.hits if topic is not None and turn.result is not None else ()
        related = tuple(h.record.title for h in hits if h.record is not turn.record and self._relevant(h, hits[0]))[
            : self.related
        ]
        # after a list, the list is what to pick from: other questions to try beside it confused
        # "the second one" (tester finding)
        examples = () if topic is not None or turn.listing else self.catalog.examples[:SHORT_EXAMPLES]
        return Answer(
            kind="reply", rewritten_query=turn.message, suggestions=related or examples, message=text, examples=examples
        )

    def _who_asks(self, record: Question | QuickRef, company: str | None, message: str) -> Answer:
        """Whether ``company`` asks the question of the topic so far, or which companies do,
        from its "Asked by" line."""
        title, companies = record.title, ", ".join(record.companies)
        where = f"the bank lists it for {companies}" if companies else "the bank names no company for it"
        if company is None:
            text = f"“{title}”: {where}."
        elif company in record.companies:
            text = f"Yes: {company} asks “{title}” ({where})."
        else:
            text = f"No: {company} is not listed for “{title}”; {where}."
        asks = (f"What does {company} ask?",) if company else ()
        return Answer(kind="reply", rewritten_query=message, message=text, suggestions=asks, examples=asks)

    @staticmethod
    def _list_end(turn: Turn) -> Answer:
        """A pick past either end of the list: how long it is; the list stays to pick from."""
        n = len(turn.listing)
        if not n:
            company = turn.filters.company
            whole = f" (“what does {shown(company)} ask?”)" if company else ""
            text = f"That list has no questions to pick from: ask for the whole list{whole}, or a new question."
            return Answer(kind="reply", rewritten_query=turn.message, message=text)
        size = f"{n} question{'s' if n != 1 else ''}"
        step = is_step(turn.message)  # "previous one", "next one": from the item shown
        if step and turn.position is not None and turn.position < 0 and turn.record in turn.listing:
            text = f"That is the first question of the list ({size}): pick another, or ask a new question."
        elif step and turn.position == n and turn.record in turn.listing:
            text = f"That was the last question of the list ({size}): pick another, or ask a new question."
        else:
            text = f"The list has {size}: pick one from 1 to {n} (“the second one”, “#{n}”), or ask a new question."
        return Answer(kind="reply", rewritten_query=turn.message, message=text)

    def _practice(self, company: str | None, message: str) -> Answer:
        """Where to practise ("quiz me", "im prepping for a google interview"): the practice page,
        for the company named."""
        scope = f"?company={quote(company)}" if company else ""
        mock = f"?mode=mock&company={quote(company)}" if company else "?mode=mock"
        whose = f"the bank's {company} questions" if company else "the bank's questions"
        text = (
            f"To practise, open [Practice](/practice{scope}): it asks you {whose} one at a time, shows the "
            "answer when you are ready, and brings each back by how well you knew it. "
            f"[Mock interview](/practice{mock}) scores an answer you type against what interviewers look for."
        )
        asks = (f"What does {company} ask?",) if company else self.catalog.examples[:SHORT_EXAMPLES]
        return Answer(kind="reply", rewritten_query=message, message=text, suggestions=asks, examples=asks)

    def _abstain_text(self, query: str, result: SearchResult | None, message: str | None = None) -> str:
        """Why nothing is answered.  Under filters (the page's, or a company the
        question names), say so, and name what answers without them, if anything."""
        narrowed = result.filters if result is not None else Filters()
        # Named only when its question would have answered, had it been a bank's (the upper dense
        # floor): "how do i negotiate salary" is no NumPy question at a cosine of 0.29.
        floor = self.searcher.abstention.config.dense_floor
        strong = result is not None and (result.neighbour_cosine or 0.0) >= floor
        if result is not None and result.neighbour is not None and strong and narrowed.is_empty():
            return self.catalog.neighbour_text(result.neighbour[0])
        unknown = asked_company(message or query)  # the message's own words, not the previous topic's
        if unknown is not None and narrowed.is_empty() and (result is None or not result.analyzed.companies):
            return self.catalog.unknown_company_text(unknown)
        if narrowed.is_empty():
            return self.catalog.abstain_text
        text = f"No question {filter_phrase(narrowed)} answers that, so I won't guess."
        wider = self.searcher.search(query, k=1, rerank=False)
        if wider.answerable and wider.hits:
            best = wider.hits[0].record
            level = f" ({best.difficulty})" if best.difficulty else ""
            text += f" Without the filter, the closest answer is “{best.title}”{level}."
        return text

    def _relevant(self, hit: SearchHit, best: SearchHit) -> bool:
        """A record is shown beside the answer (as a source, a related question)
        only when it would be an answer on its own evidence (the abstention's
        floors) and scores at least ``RELATED_SHARE`` of the best."""
        floors = self.searcher.abstention.config
        strong = hit.dense_score >= floors.dense_floor or hit.bm25_score >= floors.bm25_floor
        return strong and hit.score >= RELATED_SHARE * best.score

    @staticmethod
    def _best(turn: Turn, hits: Sequence[SearchHit]) -> SearchHit:
        """The hit the turn is answered with: the list item it picked, else the best."""
        if turn.kind == "list_item" and turn.record is not None:
            return next((h for h in hits if h.record.id == turn.record.id), hits[0])
        return hits[0]

    def _listing(self, turn: Turn) -> Answer:
        picks = tuple(r.title for r in turn.listing[:2])
        only_company = turn.filters.difficulty is None and turn.filters.tag is None
        whole = only_company and len(turn.listing) == len(self.resolver.listable) > 1
        listed = Answer(
            kind="company_list",
            rewritten_query=turn.query,
            listing=turn.listing,
            list_filters=turn.filters,
            whole_bank=whole,
        )
        hard = ("Which of those are hard?",) if listed.narrowable else ()  # offered only where it narrows
        return replace(listed, suggestions=(*hard, *picks))

    def _closest_section(self, q: Question, words: str, default: int) -> int:
        """The section whose text is closest in meaning to a follow-up's own words ("how do i pick
        k" after k-means: "Choosing K (Elbow Method)"), by the cosine of its chunks."""
        chunks = self._section_chunks.get(q.id)
        if not chunks:
            return default
        vector = self.searcher.embedder.encode_query(words)
        cosines = self.searcher.artifact.embeddings[[p for p, _ in chunks]] @ vector
        return chunks[int(np.argmax(cosines))][1]

    def relevant_sections(
        self, q: Question, query: str, best: SearchHit, anchored: bool = True, named: str = ""
    ) -> tuple[Section, ...]:
        """The sections that best match the query: the hit's section (when
        ``anchored``; a comparison's own words choose instead), then the next by
        lexical overlap (cheap; the dense score already chose the question).
        ``named``: a follow-up's own words; a section whose heading they name
        is chosen first ("target encoding leaks?" after a question on encoding a
        column shows "Target Encoding" rather than the sections shown before);
        the chosen sections are shown in the answer's order."""
        if not q.sections:
            return ()
        terms = set(tokenize(query))
        own = set(tokenize(named))
        scores = []
        for idx, s in enumerate(q.sections):
            words = tokenize(f"{s.heading or ''} {s.markdown}")
            overlap = len(terms & set(words)) / (1 + np.log1p(len(words)))
            heading = set(tokenize(s.heading or ""))
            if not anchored and terms & heading:
                overlap += 1.0  # a comparison shows the section named after its side first
            if own & heading:
                overlap += 1.0 + len(own & heading)  # a follow-up shows the section it names first
            scores.append((overlap, -idx, idx))
        order = [i for _, _, i in sorted(scores, reverse=True)]
        first = best.chunk.section_index if best.chunk and best.chunk.section_index is not None else order[0]
        if best.chunk is not None and best.chunk.kind == "title":
            first = 0
        if not anchored or own & set(tokenize(q.sections[order[0]].heading or "")):
            first = order[0]
        elif named and names_something(named):
            first = self._closest_section(q, named, first)
        chosen = [first] + [i for i in order if i != first]
        return tuple(q.sections[i] for i in sorted(chosen[: self.max_sections]))
