"""Practice with spaced repetition: what a learner sees next, a grade, their
progress, and progress moved between devices.  The web page and the API call
these (Slack will); they return internal records, each surface serialises
them its own way, and errors are ``usecases.Invalid`` (a grade that cannot be
used, with the message to show).

The deck is the bank's questions (those with a curated answer) that a scope
(bank, company, difficulty, tag: ``Filters``) allows, easiest first; a
"weak" deck keeps only the cards whose last grade was Again or Hard.  Cards
the learner has graded and that are due come first, the longest overdue
first; then questions they have never graded, at most
``QBANK_PRACTICE_NEW_PER_DAY`` new ones a day (UTC, across every scope).
Scheduling is FSRS, through the maintained ``fsrs`` package: its default
parameters and learning steps (1 and 10 minutes), fuzzed intervals once a
card is in review.  Nothing is written until a grade.

``mock`` scores a typed answer to a card against its insight box's
strong-answer signals (``qbank.mock``); it writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from fsrs import Card, Rating, Scheduler, State

from index.filters import Filters
from ingest.models import DIFFICULTY_LEVEL, Question, QuickRef
from qbank.mock import MockScore, MockScorer
from service.accuracy import WEAK_RATINGS, Accuracy, breakdown
from service.state import Engine
from service.store.practice import CardState, PracticeStore, ReviewRecord
from service.usecases import Invalid

RatingName = Literal["again", "hard", "good", "easy"]
StateName = Literal["learning", "review", "relearning"]
Standing = Literal["weak", "new", "known"]
RATINGS: dict[RatingName, Rating] = {
    "again": Rating.Again,
    "hard": Rating.Hard,
    "good": Rating.Good,
    "easy": Rating.Easy,
}
RATING_NAMES: dict[int, RatingName] = {int(rating): name for name, rating in RATINGS.items()}
STATES: dict[int, StateName] = {State.Learning: "learning", State.Review: "review", State.Relearning: "relearning"}
STATE_IDS: dict[StateName, int] = {name: int(state) for state, name in STATES.items()}
MAX_MOCK_ANSWER_CHARS = 5000
SCHEDULER = Scheduler()


@dataclass(frozen=True, slots=True)
class Item:
    """A question to practise: its card (``None``: never graded) and when each rating would bring it back."""

    record: Question
    card: CardState | None
    previews: dict[RatingName, datetime]


@dataclass(frozen=True, slots=True)
class Next:
    item: Item | None  # None: nothing due and no new card left today
    questions: int  # in the scope
    due: int  # cards in scope due now, ``item`` among them
    new_left: int  # never-graded questions in scope the learner may still start today
    next_due: datetime | None  # when the next card in scope that is not due yet falls due
    unseen: int = 0  # never-graded questions in scope, today's limit aside


@dataclass(frozen=True, slots=True)
class Progress:
    cards: int
    due: int
    states: dict[StateName, int]
    reviews: int
    reviews_today: int
    recalled: float | None  # share of reviews not graded "again"
    new_today: int
    new_left_today: int
    streak_days: int
    next_due: datetime | None
    by_tag: tuple[Accuracy, ...]  # ``service.accuracy`` says how each is counted
    by_difficulty: tuple[Accuracy, ...]
    weakest: tuple[Accuracy, ...]  # tags


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)


def deck(engine: Engine, scope: Filters) -> list[Question]:
    """The questions ``scope`` allows, easiest first, in bank order within a difficulty."""
    chosen = [q for q in engine.artifact.questions if scope.matches(q)]
    return sorted(chosen, key=lambda q: DIFFICULTY_LEVEL.get((q.difficulty or "").lower(), 1))


def _fsrs(card: CardState | None, now: datetime) -> Card:
    if card is None:
        return Card(card_id=0, due=now)
    return Card(0, State(card.state), card.step, card.stability, card.difficulty, card.due, card.last_review)


def previews(card: CardState | None, now: datetime) -> dict[RatingName, datetime]:
    """When the card would be due again after each rating given now."""
    current = _fsrs(card, now)
    return {name: SCHEDULER.review_card(current, rating, now)[0].due for name, rating in RATINGS.items()}


def standings(store: PracticeStore, learner: str) -> dict[str, Standing]:
    """Each question the learner graded: weak (last grade Again or Hard) or known (Good or Easy)."""
    last: dict[str, int] = {}
    for review in store.reviews(learner):  # oldest first: the last one stays
        last[review.question_id] = review.rating
    return {q: "weak" if rating in WEAK_RATINGS else "known" for q, rating in last.items()}


def next_card(
    engine: Engine,
    store: PracticeStore,
    learner: str,
    scope: Filters,
    now: datetime,
    per_day: int,
    weak: bool = False,
) -> Next:
    """What to practise next in ``scope`` (with ``weak``, among the cards last graded Again or Hard only)."""
    cards = {c.question_id: c for c in store.cards(learner)}
    in_scope = [(q, cards.get(q.id)) for q in deck(engine, scope)]
    if weak:
        shaky = {q for q, standing in standings(store, learner).items() if standing == "weak"}
        in_scope = [(q, c) for q, c in in_scope if q.id in shaky]
    questions = len(in_scope)
    due = sorted(((q, c) for q, c in in_scope if c is not None and c.due <= now), key=lambda qc: qc[1].due)
    unseen = [q for q, c in in_scope if c is None]
    new_left = min(len(unseen), new_cards_left(store, learner, now, per_day))
    upcoming = [c.due for _, c in in_scope if c is not None and c.due > now]
    if due:
        record, card = due[0]
    elif new_left:
        record, card = unseen[0], None
    else:
        return Next(None, questions, 0, 0, min(upcoming, default=None), len(unseen))
    item = Item(record, card, previews(card, now))
    return Next(item, questions, len(due), new_left, min(upcoming, default=None), len(unseen))


def mock(engine: Engine, question_id: str, answer: str) -> MockScore:
    """A typed answer scored against the question's strong-answer signals
    (``qbank.mock``).  Stateless: nothing is stored, no learner needed."""
    record = engine.searcher.records.get(question_id)
    if isinstance(record, QuickRef):
        # /api/questions lists it, so "unknown" would send the caller round in a circle
        raise Invalid(_row_refused(record, "has no interviewer's insight to score an answer against", "Score"))
    if not isinstance(record, Question):
        raise Invalid(f"unknown question_id {question_id!r}; use an id that /api/practice/next or /api/questions gives")
    return MockScorer(engine.searcher.embedder, engine.artifact.sparse).score(record, answer)


def _row_refused(row: QuickRef, why: str, verb: str) -> str:
    """Why a quick-reference row (which /api/questions lists) cannot be used here, and what can."""
    linked = f"; its full question {row.question_id!r} has one" if row.question_id else ""
    return (
        f"{row.id!r} is a quick-reference row: it {why}{linked}. {verb} a full question: an id "
        '/api/practice/next gives, or one /api/questions lists with kind "question"'
    )


def grade(
    engine: Engine, store: PracticeStore, learner: str, question_id: str, rating: str, now: datetime
) -> CardState:
    """Record ``rating`` for the learner's card on ``question_id`` and schedule it; the new card."""
    record = engine.searcher.records.get(question_id)
    if isinstance(record, QuickRef):
        raise Invalid(_row_refused(record, "has no curated answer to practise", "Practise"))
    if not isinstance(record, Question):
        raise Invalid(f"unknown question_id {question_id!r}; practise the ids /api/practice/next gives")
    given = RATINGS.get(rating)  # type: ignore[call-overload]
    if given is None:
        raise Invalid(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")

    def schedule(current: CardState | None) -> CardState:
        card, _ = SCHEDULER.review_card(_fsrs(current, now), given, now)
        lapsed = current is not None and current.state == State.Review and given == Rating.Again
        return CardState(
            question_id=question_id,
            state=int(card.state),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=card.due,
            last_review=card.last_review,
            reviews=(current.reviews if current else 0) + 1,
            lapses=(current.lapses if current else 0) + int(lapsed),
            introduced_at=current.introduced_at if current else now,
        )

    return store.grade(learner, question_id, int(given), now, schedule)


def _streak(days: set[date], today: date) -> int:
    """Consecutive days with a review, ending today (or yesterday, while today has none yet)."""
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def new_cards_left(store: PracticeStore, learner: str, now: datetime, per_day: int) -> int:
    """New cards the learner may still start today (UTC): the one count /next and /progress both use,
    every card started today included, whether or not the index still has its question."""
    return max(0, per_day - store.introduced_since(learner, day_start(now)))


def progress(engine: Engine, store: PracticeStore, learner: str, now: datetime, per_day: int) -> Progress:
    """The learner's cards (on questions the index still has) and reviews, counted; their accuracy
    by tag and difficulty, and their weakest topics (``service.accuracy``)."""
    records = engine.searcher.records
    cards = [c for c in store.cards(learner) if c.question_id in records]
    reviews = store.reviews(learner)
    start = day_start(now)
    new_today = store.introduced_since(learner, start)
    found = breakdown(records, cards, reviews)
    return Progress(
        cards=len(cards),
        due=sum(c.due <= now for c in cards),
        states={name: sum(c.state == state for c in cards) for state, name in STATES.items()},
        reviews=len(reviews),
        reviews_today=sum(r.reviewed_at >= start for r in reviews),
        recalled=round(sum(r.rating != Rating.Again for r in reviews) / len(reviews), 4) if reviews else None,
        new_today=new_today,
        new_left_today=new_cards_left(store, learner, now, per_day),
        streak_days=_streak({r.reviewed_at.date() for r in reviews}, now.astimezone(UTC).date()),
        next_due=min((c.due for c in cards if c.due > now), default=None),
        by_tag=found.by_tag,
        by_difficulty=found.by_difficulty,
        weakest=found.weakest,
    )


def export(store: PracticeStore, learner: str) -> tuple[list[CardState], list[ReviewRecord]]:
    return store.cards(learner), store.reviews(learner)


def import_(
    engine: Engine, store: PracticeStore, learner: str, cards: Sequence[CardState], reviews: Sequence[ReviewRecord]
) -> tuple[int, int, int]:
    """Merge exported progress into the learner's: a card is taken where it was
    reviewed later than the learner's own, a review unless already there.
    Cards and reviews of questions this index does not have are left out.
    Returns (cards taken, reviews added, items left out)."""
    records = engine.searcher.records
    known_cards = [c for c in cards if isinstance(records.get(c.question_id), Question)]
    known_reviews = [r for r in reviews if isinstance(records.get(r.question_id), Question)]
    left_out = len(cards) - len(known_cards) + len(reviews) - len(known_reviews)
    taken, added = store.merge(learner, known_cards, known_reviews)
    return taken, added, left_out


def in_words(delta: timedelta) -> str:
    """How long until something, as the Practice page says it: "1 min", "25 min", "3 h", "4 d", "2 mo"."""
    seconds = max(0.0, delta.total_seconds())
    if seconds < 90:
        return "1 min"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 86400 * 1.5:
        return f"{round(seconds / 3600)} h"
    if seconds < 86400 * 60:
        return f"{round(seconds / 86400)} d"
    return f"{round(seconds / (86400 * 30))} mo"
