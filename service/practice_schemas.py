"""API models of practice and progress, kept apart from the internal records
(``service.practice``, ``service.store.practice``)."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import date as date_
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from service.practice import MAX_MOCK_ANSWER_CHARS, RatingName, StateName
from service.schemas import QuestionSummary, clean_text

QuestionId = Field(..., min_length=1, max_length=300, pattern=r"^[A-Za-z0-9_.-]+$")


class PracticeCard(BaseModel):
    question: QuestionSummary
    status: Literal["new", "learning", "review", "relearning"] = Field(
        description="`new`: never graded; else FSRS's state of the card."
    )
    due: datetime | None = Field(description="When it fell due (null for a new card).")
    reviews: int
    answer_markdown: str = Field(description="The curated answer, to reveal after answering.")
    answer_html: str = Field(description="The same answer rendered, as the practice page shows it.")
    insight_html: str | None = Field(description="The interviewer's insight box, rendered.")
    next_due: dict[RatingName, datetime] = Field(description="When each grade, given now, would bring it back.")


class PracticeNext(BaseModel):
    learner: str = Field(description="The learner token: send it back as the X-Learner header (the page's cookie).")
    card: PracticeCard | None = Field(
        description="What to practise now; null when nothing is due and no new card is left today."
    )
    questions: int = Field(description="Questions in this scope (those with a curated answer).")
    due: int = Field(description="Cards in this scope due now, this one included.")
    new_left: int = Field(description="Never-graded questions in this scope the learner may still start today.")
    next_due: datetime | None = Field(description="When the next card in this scope that is not due yet falls due.")
    unseen: int = Field(
        description="Never-graded questions in this scope, today's limit on new cards aside: when `new_left` is 0 "
        "and this is not, more new cards come tomorrow."
    )
    new_per_day: int = Field(
        description="The daily limit on new cards (`QBANK_PRACTICE_NEW_PER_DAY`, across every scope): tomorrow "
        "deals `min(new_per_day, unseen)` of this scope's never-graded questions."
    )


class GradeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: str = QuestionId
    rating: RatingName


def _in_utc(value: datetime) -> datetime:
    """A date that has a UTC time: "9999-12-31T23:59:59-14:00" has none (it was a 500 on import)."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date is out of range once converted to UTC") from None
    return value


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class CardPublic(BaseModel):
    """A learner's card as exported and imported: FSRS's fields, and counts."""

    model_config = ConfigDict(extra="forbid")
    question_id: str = QuestionId
    state: StateName
    step: int | None = Field(None, ge=0, le=100)
    stability: float | None = Field(None, gt=0, le=1e6)
    difficulty: float | None = Field(None, ge=1, le=10)
    due: UtcDatetime
    last_review: UtcDatetime | None = None
    reviews: int = Field(0, ge=0, le=1_000_000)
    lapses: int = Field(0, ge=0, le=1_000_000)
    introduced_at: UtcDatetime

    @model_validator(mode="after")
    def _schedulable(self) -> CardPublic:
        """FSRS can only schedule a card whose fields fit its state: one that
        cannot be graded must be refused here, not fail every later request."""
        if self.state in ("review", "relearning") and (self.stability is None or self.difficulty is None):
            raise ValueError(f"a {self.state} card needs stability and difficulty")
        if self.state in ("learning", "relearning") and self.step is None:
            raise ValueError(f"a {self.state} card needs a step")
        if self.state in ("review", "relearning") and self.last_review is None:
            raise ValueError(f"a {self.state} card needs last_review")
        return self


class GradeResponse(BaseModel):
    learner: str
    rating: RatingName
    card: CardPublic


class ReviewPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: str = QuestionId
    rating: RatingName
    reviewed_at: UtcDatetime


class AccuracyPublic(BaseModel):
    """How the learner did on a group of the questions they graded (grades of questions the banks still have)."""

    questions: int = Field(description="Questions of the group the learner graded.")
    reviews: int = Field(description="Their grades (at least one).")
    recalled: int = Field(description="Grades that were not `again`.")
    accuracy: float = Field(description="`recalled / reviews`, 0 to 1, four decimals.")
    lapses: int = Field(
        description="Times a card of the group was forgotten once learnt (`again` on a card in review)."
    )
    weak: int = Field(
        description="Questions whose last grade was `again` or `hard` (the study plan's `weak` standing)."
    )


class TagAccuracy(AccuracyPublic):
    tag: str = Field(description="The tag (a topic) as the bank writes it; tags are grouped regardless of case.")


class DifficultyAccuracy(AccuracyPublic):
    difficulty: str | None = Field(description="`Easy`, `Medium` or `Hard` as the bank writes it; null: none given.")


class WeakTopic(TagAccuracy):
    practice_url: str = Field(description="The Practice page scoped to this tag (`/practice?tag=…`).")


class ProgressResponse(BaseModel):
    learner: str
    cards: int = Field(description="Questions graded at least once.")
    due: int = Field(description="Cards due now.")
    states: dict[StateName, int]
    reviews: int
    reviews_today: int = Field(description="Grades given since midnight UTC.")
    recalled: float | None = Field(description="Share of grades that were not `again` (null before any).")
    new_today: int
    new_left_today: int
    streak_days: int = Field(description="Days in a row with a grade, ending today (or yesterday).")
    next_due: datetime | None
    accuracy_by_tag: list[TagAccuracy] = Field(
        description="Per tag of the questions graded (a question counts toward each of its tags): "
        "the most graded first, then by name."
    )
    accuracy_by_difficulty: list[DifficultyAccuracy] = Field(
        description="Per difficulty of the questions graded: Easy, Medium, Hard, then questions without one."
    )
    weakest_topics: list[WeakTopic] = Field(
        description="At most five tags with a grade of `again` or a `weak` question: the lowest `accuracy` "
        "first, then the most `weak` questions, the most `lapses`, the most `reviews`; each with a link to "
        "practise it. Empty while every grade recalled the question."
    )


class ProgressFile(BaseModel):
    """A learner's progress as exported: what ``POST /api/progress/import`` takes back."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["qbank-progress"] = "qbank-progress"
    version: Literal[1] = 1
    exported_at: UtcDatetime = Field(default_factory=lambda: datetime.now(UTC))
    cards: list[CardPublic] = Field(default_factory=list, max_length=20_000)
    reviews: list[ReviewPublic] = Field(default_factory=list, max_length=200_000)


class ImportResponse(BaseModel):
    learner: str
    cards_taken: int = Field(description="Cards that replaced the learner's own (or were new to them).")
    reviews_added: int
    left_out: int = Field(description="Cards and reviews of questions this server's banks do not have.")


class MockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: str = QuestionId
    answer: str = Field(
        ...,
        description=f"The candidate's typed answer, plain text (lines and tabs allowed): at most "
        f"{MAX_MOCK_ANSWER_CHARS:,} characters as sent, spaces and line breaks included (as the page's box counts).",
        json_schema_extra={"maxLength": MAX_MOCK_ANSWER_CHARS},
    )

    @field_validator("answer")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        # The limit is on the answer as sent, as the page's box counts it: padding is no way past it.
        if len(value) > MAX_MOCK_ANSWER_CHARS:
            raise ValueError(f"answer is {len(value)} characters; the limit is {MAX_MOCK_ANSWER_CHARS}")
        return clean_text(value, MAX_MOCK_ANSWER_CHARS, "answer", "type what you would say in the interview")


class SignalResult(BaseModel):
    signal: str = Field(description="A 'Strong answer signals' bullet of the question's Interviewer's Insight box.")
    hit: bool = Field(description="The answer makes this point: `score` reached `threshold`.")
    score: float = Field(description="dense_weight × dense + (1 − dense_weight) × lexical.")
    lexical: float = Field(description="Share of the signal's words (weighted by rarity in the bank) the answer uses.")
    dense: float = Field(
        description="How much closer the answer's best sentence is to the signal than to the question (MiniLM cosines)."
    )
    evidence: str | None = Field(description="The sentence of the answer that made the hit (null when missed).")


class KeyTermPublic(BaseModel):
    term: str = Field(description="A key term of the curated answer, as it writes it.")
    used: bool = Field(description="The candidate's answer uses it.")


class MockResponse(BaseModel):
    question: QuestionSummary
    testing: str | None = Field(description="What the interviewer is testing, from the insight box.")
    signals: list[SignalResult] = Field(description="Each strong-answer signal, hit or missed, in the box's order.")
    hits: int
    threshold: float
    dense_weight: float
    key_terms: list[KeyTermPublic]
    probes: list[str] = Field(description="Follow-up questions from the answer's section headings.")
    answer_markdown: str = Field(description="The curated answer, revealed after the attempt.")
    answer_html: str
    insight_html: str | None = Field(description="The interviewer's insight box, rendered.")


class PlanItemPublic(BaseModel):
    question: QuestionSummary
    standing: Literal["weak", "new", "known"] = Field(
        description="From the learner's last grade: `weak` (again or hard), `known` (good or easy), "
        "`new` (never graded)."
    )


class PlanDayPublic(BaseModel):
    day: int = Field(description="1 for the first day.")
    date: date_ = Field(description="The day's date (UTC), the first being today.")
    questions: list[PlanItemPublic]


class StudyPlanResponse(BaseModel):
    learner: str
    company: str = Field(description="The company as the bank writes it.")
    days: int
    questions: int = Field(description="The company's questions with a curated answer, all of them in the plan.")
    plan: list[PlanDayPublic] = Field(
        description="Easy → Hard across the days; within a difficulty weak questions first, known ones last."
    )
    practice_url: str = Field(description="The Practice page scoped to the company.")
