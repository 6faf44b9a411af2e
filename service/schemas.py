"""API request and response models, kept apart from the internal dataclasses.

The search hit shape is the contract the chat UI and the Slack bot build on.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from index.results import SearchHit
from index.search import Mode
from ingest.models import Question, QuickRef
from qbank.answer import Answer
from qbank.answer.markdown import overview_label
from service.snippet import plain_snippet

_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and line breaks are text
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def blank(text: str) -> bool:
    """Nothing to read: only spaces, and zero-width or direction marks ("\u200b\u202e")."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


def clean_text(value: str, max_chars: int, what: str = "query", empty: str = "type a question") -> str:
    """Strip, reject control characters, empty and over-long text (``empty``: what to do instead)."""
    if CONTROL_CHARS.search(value):
        raise ValueError(f"{what} contains control characters; send plain text")
    if _SURROGATE.search(value):
        raise ValueError(f"{what} contains an unpaired UTF-16 surrogate (a \\udXXX escape); send valid Unicode text")
    value = value.strip()
    if blank(value):
        raise ValueError(f"{what} is empty; {empty}")
    if len(value) > max_chars:
        raise ValueError(f"{what} is {len(value)} characters; the limit is {max_chars}")
    return value


class CodePublic(BaseModel):
    language: str
    code: str


class HitPublic(BaseModel):
    id: str
    title: str
    bank: str
    kind: Literal["question", "quick_reference"]
    score: float
    difficulty: str | None
    companies: list[str]
    tags: list[str]
    section: str | None
    snippet: str = Field(description="The part that matched, as plain text (no markdown, no LaTeX).")
    generated: bool = Field(
        False,
        description="True when the part that matched (`section`, `snippet`) is a quick-reference row's overview "
        "that an LLM wrote when the index was built: not the bank's text, and not checked against any source.",
    )
    code: list[CodePublic]
    practice_url: str | None
    url: str


def question_url(base_url: str, record_id: str) -> str:
    return f"{base_url.rstrip('/')}/q/{record_id}"


def hit_public(hit: SearchHit, base_url: str = "") -> HitPublic:
    r = hit.record
    return HitPublic(
        id=r.id,
        title=r.title,
        bank=r.bank,
        kind=r.kind,
        score=round(hit.score, 6),
        difficulty=r.difficulty,
        companies=list(r.companies),
        tags=list(r.tags),
        section=hit.section,
        snippet=plain_snippet(hit.chunk),
        generated=hit.chunk is not None and hit.chunk.generated,
        code=[CodePublic(language=c.language, code=c.code) for c in hit.code],
        practice_url=r.practice_url,
        url=question_url(base_url, r.id),
    )


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company: str | None = Field(None, max_length=100)
    difficulty: str | None = Field(None, max_length=20)
    tag: str | None = Field(None, max_length=100)
    bank: str | None = Field(None, max_length=200)

    @field_validator("company", "difficulty", "tag", "bank")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        """A name on one line: a newline in a company let a shared link put a heading and a link
        into the answer (attack run)."""
        if value is not None and _LINE_BREAKING.search(value):
            raise ValueError("a filter is a name on one line; it contains a line break or control character")
        return value


class SearchRequest(FiltersIn):
    q: str = Field(..., description="Free-text query.")
    k: int = Field(10, ge=1, le=50)
    mode: Mode = "hybrid"

    @field_validator("k", mode="before")
    @classmethod
    def _not_a_bool(cls, value: object) -> object:
        """JSON's true is no count (pydantic took it for 1)."""
        if isinstance(value, bool):
            raise ValueError("k is a count of hits, not true or false")
        return value


class SearchResponse(BaseModel):
    query: str
    mode: str
    took_ms: float
    answerable: bool
    hits: list[HitPublic]
    unasked_company: str | None = Field(
        None,
        description="A company the query named that asks none of the questions answering it "
        "(“uber svm questions”): the hits are the whole bank's, not that company's.",
    )


class QuickRefPublic(BaseModel):
    id: str
    number: int
    title: str
    practice_url: str | None
    practice_label: str | None
    companies: list[str]
    difficulty: str | None
    topics: list[str]
    question_id: str | None


class ExpansionPublic(BaseModel):
    """A quick-reference row's overview, written by an LLM when the index was built."""

    generated: Literal[True] = Field(True, description="Always true: this text is not the bank's.")
    generated_by: str = Field(description="The model that wrote it.")
    generated_at: str
    label: str = Field(description="What to show with it wherever it is shown.")
    text: str


class SectionPublic(BaseModel):
    heading: str | None
    markdown: str
    code: list[CodePublic]


class QuestionSummary(BaseModel):
    id: str
    kind: Literal["question", "quick_reference"]
    title: str
    bank: str
    bank_slug: str
    difficulty: str | None
    companies: list[str]
    tags: list[str]
    practice_url: str | None
    url: str


class QuestionDetail(QuestionSummary):
    answer_markdown: str | None
    sections: list[SectionPublic]
    code: list[CodePublic]
    formulas: list[str]
    insight: str | None
    quick_reference: list[QuickRefPublic]
    linked_question_id: str | None
    related: list[QuestionSummary]
    expansion: ExpansionPublic | None = Field(
        None, description="A quick-reference row's generated overview, when one was written (not the bank's text)."
    )


class QuestionsPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[QuestionSummary]


class FacetCount(BaseModel):
    value: str
    count: int
    label: str | None = Field(
        None, description="What a menu shows for the value, when not the value itself (a bank's title)."
    )


class Facets(BaseModel):
    companies: list[FacetCount]
    difficulties: list[FacetCount]
    tags: list[FacetCount]
    banks: list[FacetCount]


def quick_ref_public(r: QuickRef) -> QuickRefPublic:
    return QuickRefPublic(
        id=r.id,
        number=r.number,
        title=r.title,
        practice_url=r.practice_url,
        practice_label=r.practice_label,
        companies=list(r.companies),
        difficulty=r.difficulty,
        topics=list(r.topics),
        question_id=r.question_id,
    )


def expansion_public(r: QuickRef) -> ExpansionPublic | None:
    e = r.expansion
    if e is None:
        return None
    label = overview_label(e)
    return ExpansionPublic(
        generated_by=e.generated_by,
        generated_at=e.generated_at,
        label=label[:1].upper() + label[1:],
        text=e.text,
    )


def summary(record: Question | QuickRef, base_url: str = "") -> QuestionSummary:
    return QuestionSummary(
        id=record.id,
        kind=record.kind,
        title=record.title,
        bank=record.bank,
        bank_slug=record.bank_slug,
        difficulty=record.difficulty,
        companies=list(record.companies),
        tags=list(record.tags),
        practice_url=record.practice_url,
        url=question_url(base_url, record.id),
    )


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=20000)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=50)
    filters: FiltersIn | None = None
    stream: bool = False
    render: Literal["markdown", "html"] = Field(
        "markdown",
        description="How a stream carries the answer: `markdown`, `delta` events with pieces of the markdown; "
        "`html`, `block` and `tail` events with its blocks rendered as HTML (what the web page shows).",
    )

    @field_validator("messages")
    @classmethod
    def _last_is_user(cls, v: list[ChatMessage]) -> list[ChatMessage]:
        if v[-1].role != "user":
            raise ValueError("the last message must be the user's question (role 'user')")
        return v


class ChatResponse(BaseModel):
    kind: Literal["question", "quick_reference", "company_list", "abstain", "reply"] = Field(
        "question",
        description="What answered: a curated question, a quick-reference row, a company's list, nothing, "
        "or a `reply` to a message that is only courtesy (“thanks!”, “hi”), which searches nothing.",
    )
    answer: str
    abstained: bool
    sources: list[HitPublic]
    suggestions: list[str]
    rewritten_query: str
    message_id: str
    generated_by: Literal["extractive", "llm"] = "extractive"


def chat_response(answer: Answer, text: str, generated_by: Literal["extractive", "llm"], base_url: str) -> ChatResponse:
    """The API's view of an answer whose text (curated or generated) is ``text``."""
    return ChatResponse(
        kind=answer.kind,
        answer=text,
        abstained=answer.abstained,
        sources=[hit_public(h, base_url) for h in answer.sources],
        suggestions=list(answer.suggestions),
        rewritten_query=answer.rewritten_query,
        message_id=uuid.uuid4().hex,
        generated_by=generated_by,
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: str | None = Field(None, max_length=100)
    query: str | None = Field(None, max_length=2000)
    question_id: str = Field(..., min_length=1, max_length=300)
    # true or false only: "yes", 1 or "false" as text would be read as a vote the sender may not have meant.
    helpful: StrictBool
    comment: str | None = Field(None, max_length=2000)
    source: Literal["web", "slack", "api"] = "api"
    reason: Literal["wrong_question", "incomplete", "outdated", "other"] | None = Field(
        None,
        description="Why a 👎 (helpful: false only): answered a different question, incomplete, outdated or wrong, "
        "something else (say what in `comment`). Sent again for the same `message_id` by the same learner, "
        "it replaces their vote, so it can follow the 👎.",
    )

    @field_validator("query", "comment", "message_id")
    @classmethod
    def _no_control(cls, v: str | None) -> str | None:
        if v is not None and CONTROL_CHARS.search(v):
            raise ValueError("contains control characters; send plain text")
        return v


class FeedbackResponse(BaseModel):
    id: int
    stored: bool = True
    replaced: bool = Field(False, description="It replaced this learner's earlier vote on the same message.")


class ErrorResponse(BaseModel):
    detail: str
