"""How well a learner recalls each topic and each difficulty, and their weakest topics.

Counted from the learner's grades of questions the index still has, for
``service.practice.progress``:

- a group's **accuracy** is the share of its grades that were not "again"
  (what progress calls ``recalled``, per group);
- a question with several tags counts toward each; tags are grouped without
  regard to case and named as the bank first writes them;
- **lapses** are the FSRS lapses of the group's cards: "again" on a card
  already in review, forgotten after it was learnt;
- **weak** questions are those whose last grade was "again" or "hard" (the
  study plan's ``weak`` standing).

The **weakest topics** are the tags with a grade of "again" or a weak
question: the lowest accuracy first, then the most weak questions, the most
lapses, the most grades; at most ``WEAKEST`` of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from fsrs import Rating

from ingest.models import DIFFICULTY_LEVEL, Question
from service.store.practice import CardState, ReviewRecord

WEAKEST = 5
# A card is weak while its last grade is one of these (the study plan, "weak" decks, weakest topics).
WEAK_RATINGS = (Rating.Again, Rating.Hard)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """A group of the questions a learner graded (a tag, a difficulty), counted."""

    name: str | None  # the tag or difficulty as the bank writes it; None: questions without a difficulty
    questions: int
    reviews: int  # grades, at least one
    recalled: int  # grades not "again"
    lapses: int
    weak: int  # questions last graded "again" or "hard"

    @property
    def accuracy(self) -> float:
        return round(self.recalled / self.reviews, 4)


@dataclass(frozen=True, slots=True)
class Breakdown:
    by_tag: tuple[Accuracy, ...]  # the most graded first, then by name
    by_difficulty: tuple[Accuracy, ...]  # easiest first, questions without a difficulty last
    weakest: tuple[Accuracy, ...]  # tags, the weakest first


@dataclass(frozen=True, slots=True)
class _Graded:
    record: Question
    reviews: int
    recalled: int
    lapses: int
    weak: bool


def _graded(
    records: Mapping[str, object], cards: Sequence[CardState], reviews: Sequence[ReviewRecord]
) -> list[_Graded]:
    """Each graded question the index still has, with its counts; ``reviews`` oldest first, as the store gives them."""
    ratings: dict[str, list[int]] = {}
    for review in reviews:
        ratings.setdefault(review.question_id, []).append(review.rating)
    lapses = {c.question_id: c.lapses for c in cards}
    return [
        _Graded(
            record,
            reviews=len(given),
            recalled=sum(r != Rating.Again for r in given),
            lapses=lapses.get(question_id, 0),
            weak=given[-1] in WEAK_RATINGS,
        )
        for question_id, given in ratings.items()
        if isinstance(record := records.get(question_id), Question)
    ]


def _grouped(graded: Iterable[_Graded], names: Callable[[Question], Iterable[str | None]]) -> list[Accuracy]:
    groups: dict[str | None, tuple[str | None, list[_Graded]]] = {}
    for g in graded:
        keys: dict[str | None, str | None] = {}  # one count per group even where the bank writes a tag twice
        for name in names(g.record):
            keys.setdefault(name.lower() if name else None, name)
        for key, name in keys.items():
            groups.setdefault(key, (name, []))[1].append(g)
    return [
        Accuracy(
            name=name,
            questions=len(members),
            reviews=sum(m.reviews for m in members),
            recalled=sum(m.recalled for m in members),
            lapses=sum(m.lapses for m in members),
            weak=sum(m.weak for m in members),
        )
        for name, members in groups.values()
    ]


def breakdown(
    records: Mapping[str, object], cards: Sequence[CardState], reviews: Sequence[ReviewRecord], weakest: int = WEAKEST
) -> Breakdown:
    graded = _graded(records, cards, reviews)
    by_tag = sorted(_grouped(graded, lambda q: q.tags), key=lambda a: (-a.reviews, (a.name or "").lower()))
    by_difficulty = sorted(
        _grouped(graded, lambda q: [q.difficulty]),
        key=lambda a: (
            a.name is None,
            DIFFICULTY_LEVEL.get((a.name or "").lower(), len(DIFFICULTY_LEVEL)),
            (a.name or "").lower(),
        ),
    )
    weak = sorted(
        (a for a in by_tag if a.recalled < a.reviews or a.weak),
        key=lambda a: (a.accuracy, -a.weak, -a.lapses, -a.reviews, (a.name or "").lower()),
    )
    return Breakdown(tuple(by_tag), tuple(by_difficulty), tuple(weak[:weakest]))
