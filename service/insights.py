"""What the bank's maintainer learns from the query log and the votes, over
the last ``days`` days:

- **gaps**: questions asked without an answer (abstained), grouped by meaning
  (``service.gaps``), the most asked first: what to write next;
- **weak answers**: questions answered, but by a best record whose cosine is
  under the calibrated floor that answers on meaning alone (they were let
  through by words, not meaning): worth checking;
- **feedback**: 👍 and 👎 per question with the comments, the most 👎 first;
- the questions that answered most and the companies asked about most;
- volume and abstain rate per day (UTC), and per surface.

The page, ``/api/admin/insights`` and ``qbank insights`` all show this one
``Insights`` object.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from index.components.abstain import AbstentionConfig
from ingest.models import Question, QuickRef
from service.feedback import FeedbackRecord, FeedbackStore
from service.gaps import Gap, GapClusterer, normalized
from service.store.queries import QueryLogStore

MAX_TEXTS = 1000  # distinct abstained texts clustered at most (the most asked)
COMMENTS = 5


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    queries: int
    abstained: int

    @property
    def abstain_rate(self) -> float:
        return self.abstained / self.queries if self.queries else 0.0


@dataclass(frozen=True, slots=True)
class WeakAnswer:
    """A text answered ``count`` times by ``record_id`` with a mean best cosine of ``dense``."""

    text: str
    count: int
    record_id: str | None
    title: str | None
    dense: float
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    helpful: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class QuestionVotes:
    question_id: str
    title: str | None
    up: int
    down: int
    comments: tuple[Comment, ...]  # the latest first
    reasons: tuple[tuple[str, int], ...] = ()  # why the 👎 (service.feedback.REASONS), the most given first

    @property
    def down_rate(self) -> float:
        return self.down / (self.up + self.down) if self.up + self.down else 0.0


@dataclass(frozen=True, slots=True)
class Asked:
    """A record (``id``) or a company, and how many times."""

    name: str
    count: int
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Insights:
    since: datetime
    until: datetime
    days: int
    queries: int
    abstained: int
    learners: int
    surfaces: dict[str, int]
    per_day: tuple[Day, ...]
    gaps: tuple[Gap, ...]
    weak: tuple[WeakAnswer, ...]
    votes: tuple[QuestionVotes, ...]
    questions: tuple[Asked, ...]
    companies: tuple[Asked, ...]
    weak_below: float

    @property
    def abstain_rate(self) -> float:
        return self.abstained / self.queries if self.queries else 0.0


Records = Mapping[str, Question | QuickRef]


class InsightsReport:
    """Builds ``Insights`` from the store: one call per page view or export."""

    def __init__(self, log: QueryLogStore, feedback: FeedbackStore, clusterer: GapClusterer, top: int = 20) -> None:
        if top <= 0:
            raise ValueError(f"top must be positive, got {top}")
        self.log = log
        self.feedback = feedback
        self.clusterer = clusterer
        self.top = top

    def gaps(self, days: int, now: datetime | None = None) -> tuple[Gap, ...]:
        since = _since(days, now)
        return tuple(self.clusterer.run(self.log.abstained_texts(since, MAX_TEXTS)))

    def run(
        self,
        days: int,
        records: Records | None = None,
        weak_below: float | None = None,
        now: datetime | None = None,
    ) -> Insights:
        """The last ``days`` days to ``now``.  ``records`` gives titles (ids
        alone without it); ``weak_below`` is the cosine under which an answer
        is weak (the index's calibrated floor; the built-in one without it)."""
        until = now or datetime.now(UTC)
        since = _since(days, until)
        records = records or {}
        floor = AbstentionConfig().dense_floor if weak_below is None else weak_below
        turns = self.log.turns(since)
        counts: Counter[date] = Counter()
        unanswered: Counter[date] = Counter()
        for turn in turns:
            day = turn.created_at.astimezone(UTC).date()
            counts[day] += 1
            unanswered[day] += turn.abstained
        dates = [since.date() + timedelta(days=i) for i in range(days)]
        top = self.log.top_records(since, self.top)
        return Insights(
            since=since,
            until=until,
            days=days,
            queries=len(turns),
            abstained=sum(t.abstained for t in turns),
            learners=len({t.learner for t in turns if t.learner}),
            surfaces=dict(Counter(t.surface for t in turns).most_common()),
            per_day=tuple(Day(d, counts[d], unanswered[d]) for d in dates),
            gaps=self.gaps(days, until)[: self.top],
            weak=self._weak(since, floor, records),
            votes=self._votes(since, records),
            questions=tuple(Asked(record_id, n, _title(records, record_id)) for record_id, n in top),
            companies=self._companies(since),
            weak_below=floor,
        )

    def _weak(self, since: datetime, floor: float, records: Records) -> tuple[WeakAnswer, ...]:
        merged: dict[tuple[str, str | None], list[WeakAnswer]] = {}
        for t in self.log.weak_texts(since, floor, MAX_TEXTS):
            answer = WeakAnswer(t.text, t.count, t.top_id, _title(records, t.top_id), t.top_dense or 0.0, t.last_seen)
            merged.setdefault((normalized(t.text), t.top_id), []).append(answer)
        weak = [
            WeakAnswer(
                text=max(group, key=lambda a: a.count).text,
                count=sum(a.count for a in group),
                record_id=group[0].record_id,
                title=group[0].title,
                dense=sum(a.dense * a.count for a in group) / sum(a.count for a in group),
                last_seen=max(a.last_seen for a in group),
            )
            for group in merged.values()
        ]
        return tuple(sorted(weak, key=lambda a: (-a.count, a.dense, a.text))[: self.top])

    def _votes(self, since: datetime, records: Records) -> tuple[QuestionVotes, ...]:
        by_question: dict[str, list[FeedbackRecord]] = {}
        for vote in self.feedback.all(since=since.timestamp()):
            by_question.setdefault(vote.question_id, []).append(vote)
        votes = [
            QuestionVotes(
                question_id=question_id,
                title=_title(records, question_id),
                up=sum(v.helpful for v in given),
                down=sum(not v.helpful for v in given),
                comments=tuple(
                    Comment(v.comment.strip(), v.helpful, datetime.fromtimestamp(v.created_at, UTC))
                    for v in sorted(given, key=lambda v: -v.created_at)
                    if v.comment and v.comment.strip()
                )[:COMMENTS],
                reasons=tuple(
                    sorted(
                        Counter(v.reason for v in given if v.reason and not v.helpful).items(),
                        key=lambda item: (-item[1], item[0]),
                    )
                ),
            )
            for question_id, given in by_question.items()
        ]
        return tuple(sorted(votes, key=lambda v: (-v.down, -v.down_rate, v.question_id))[: self.top])

    def _companies(self, since: datetime) -> tuple[Asked, ...]:
        """Companies asked about, spellings that differ in case counted as one (the most used shown)."""
        spelled: dict[str, Counter[str]] = {}
        for company, n in self.log.companies(since, self.top * 5):
            spelled.setdefault(company.lower(), Counter())[company] += n
        asked = [Asked(names.most_common(1)[0][0], names.total()) for names in spelled.values()]
        return tuple(sorted(asked, key=lambda a: (-a.count, a.name))[: self.top])


def _since(days: int, now: datetime | None) -> datetime:
    """The start of the first of the last ``days`` days (UTC), today being the last."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=days - 1), time.min, UTC)


def _title(records: Records, record_id: str | None) -> str | None:
    record = records.get(record_id) if record_id else None
    return record.title if record is not None else None
