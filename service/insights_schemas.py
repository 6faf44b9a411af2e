"""The insights as the admin API returns them (``/api/admin/insights``), apart
from the internal dataclasses of ``service.insights``; and a gap list as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime

from pydantic import BaseModel, Field

from service.gaps import Gap
from service.insights import Insights


class GapPublic(BaseModel):
    id: str = Field(description="Stable while its label is: the key of one gap's export.")
    label: str = Field(description="The most asked wording.")
    count: int = Field(description="Times asked without an answer.")
    phrasings: int = Field(description="Different wordings among them.")
    examples: list[str] = Field(description="Up to 5 wordings, the most asked first.")
    first_seen: datetime
    last_seen: datetime


class WeakAnswerPublic(BaseModel):
    text: str
    count: int
    question_id: str | None
    title: str | None
    dense: float = Field(description="Mean cosine of the best record: under `weak_below`.")
    last_seen: datetime


class CommentPublic(BaseModel):
    text: str
    helpful: bool
    at: datetime


class QuestionVotesPublic(BaseModel):
    question_id: str
    title: str | None
    up: int
    down: int
    down_rate: float
    comments: list[CommentPublic] = Field(description="The latest first, up to 5.")
    reasons: dict[str, int] = Field(
        default_factory=dict,
        description="Why 👎, as the voters said (wrong_question, incomplete, outdated, other), the most given first.",
    )


class CountPublic(BaseModel):
    name: str = Field(description="A question id, or a company.")
    title: str | None = None
    count: int


class DayPublic(BaseModel):
    day: date
    queries: int
    abstained: int
    abstain_rate: float


class InsightsResponse(BaseModel):
    since: datetime
    until: datetime
    days: int
    queries: int
    abstained: int
    abstain_rate: float
    learners: int = Field(description="Distinct anonymous learners among the queries that carried one.")
    surfaces: dict[str, int]
    per_day: list[DayPublic]
    gaps: list[GapPublic] = Field(description="Questions without an answer, grouped by meaning, most asked first.")
    weak_answers: list[WeakAnswerPublic] = Field(description="Answered with a best cosine under `weak_below`.")
    weak_below: float
    feedback: list[QuestionVotesPublic] = Field(description="Votes per question, the most 👎 first.")
    top_questions: list[CountPublic]
    top_companies: list[CountPublic]
    query_log: bool = Field(description="Whether the query log is on (QBANK_QUERY_LOG).")
    retention_days: int


def gap_public(gap: Gap) -> GapPublic:
    return GapPublic(
        id=gap.id,
        label=gap.label,
        count=gap.count,
        phrasings=gap.phrasings,
        examples=list(gap.examples),
        first_seen=gap.first_seen,
        last_seen=gap.last_seen,
    )


def insights_public(found: Insights, query_log: bool, retention_days: int) -> InsightsResponse:
    return InsightsResponse(
        since=found.since,
        until=found.until,
        days=found.days,
        queries=found.queries,
        abstained=found.abstained,
        abstain_rate=round(found.abstain_rate, 4),
        learners=found.learners,
        surfaces=found.surfaces,
        per_day=[
            DayPublic(day=d.day, queries=d.queries, abstained=d.abstained, abstain_rate=round(d.abstain_rate, 4))
            for d in found.per_day
        ],
        gaps=[gap_public(g) for g in found.gaps],
        weak_answers=[
            WeakAnswerPublic(
                text=w.text,
                count=w.count,
                question_id=w.record_id,
                title=w.title,
                dense=round(w.dense, 4),
                last_seen=w.last_seen,
            )
            for w in found.weak
        ],
        weak_below=found.weak_below,
        feedback=[
            QuestionVotesPublic(
                question_id=v.question_id,
                title=v.title,
                up=v.up,
                down=v.down,
                down_rate=round(v.down_rate, 4),
                comments=[CommentPublic(text=c.text, helpful=c.helpful, at=c.at) for c in v.comments],
                reasons=dict(v.reasons),
            )
            for v in found.votes
        ],
        top_questions=[CountPublic(name=q.name, title=q.title, count=q.count) for q in found.questions],
        top_companies=[CountPublic(name=c.name, count=c.count) for c in found.companies],
        query_log=query_log,
        retention_days=retention_days,
    )


CSV_COLUMNS = ("id", "count", "phrasings", "first_seen", "last_seen", "label", "examples")


def _cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one that starts like a formula gets a leading apostrophe."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gaps_csv(gaps: Sequence[Gap]) -> str:
    """The gaps as CSV, a to-do row each: examples joined by " | "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for g in gaps:
        row = (g.id, g.count, g.phrasings, g.first_seen.isoformat(), g.last_seen.isoformat(), g.label)
        writer.writerow([_cell(v) for v in (*row, " | ".join(g.examples))])
    return out.getvalue()
