"""How well the mock interviewer's hits agree with a person's: ``qbank mock-eval``.

``eval/data/mock_answers.jsonl`` holds typed answers written by hand from the
bank's insight boxes, one object per line::

    {"id": "m001", "question_id": "...", "kind": "strong", "covers": [0, 2], "answer": "..."}

``covers`` lists the strong-answer signals (their positions in the insight
box, from 0) that the answer makes, as a person judged it; every other
signal of the question is one it misses.  Each (answer, signal) pair is one
judgement: the scorer agrees when it calls the signal hit exactly where
``covers`` has it.

Every mix of the scorer's two similarities (``dense_weight``) and every
threshold is measured on both splits (the ``eval.dataset`` hash of the id,
with its own seed); the shipped threshold and weight are the dev split's best
F1 (a tie goes to the higher threshold: fewer hits claimed), and the test
split says how that holds up.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.dataset import split_of
from ingest.models import Question
from qbank.mock.scorer import MockScorer
from qbank.mock.signals import strong_signals

DATA = Path(__file__).resolve().parent / "data" / "mock_answers.jsonl"
SPLIT_SEED = "qbank-mock-1"
KINDS = ("strong", "partial", "paraphrase", "weak", "misconception", "off_topic", "nonsense")
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # dense_weight: 0 is lexical alone, 1 the embedding alone
THRESHOLDS = tuple(round(0.01 * i, 2) for i in range(1, 61))  # 0.01 .. 0.60
TOPIC_FLOORS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)  # the scorer's topic_floor: each needs its own judging


@dataclass(frozen=True, slots=True)
class MockItem:
    id: str
    question_id: str
    kind: str
    covers: frozenset[int]
    answer: str

    @property
    def split(self) -> str:
        return split_of(self.id, SPLIT_SEED)


@dataclass(frozen=True, slots=True)
class Judgement:
    """One (answer, signal) pair: what the person said and the scorer's two similarities."""

    item: MockItem
    signal: int
    signal_text: str
    covered: bool
    lexical: float
    dense: float

    def score(self, dense_weight: float) -> float:
        return dense_weight * self.dense + (1 - dense_weight) * self.lexical


@dataclass(frozen=True, slots=True)
class Agreement:
    threshold: float
    dense_weight: float
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def pairs(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.pairs if self.pairs else 0.0

    @property
    def kappa(self) -> float:
        """Cohen's kappa: agreement beyond what the two sides' hit rates alone would give."""
        n = self.pairs
        if not n:
            return 0.0
        expected = ((self.tp + self.fp) * (self.tp + self.fn) + (self.fn + self.tn) * (self.fp + self.tn)) / n**2
        return (self.accuracy - expected) / (1 - expected) if expected < 1 else 1.0

    def figures(self) -> dict[str, float | int]:
        return {
            "threshold": self.threshold,
            "dense_weight": self.dense_weight,
            "pairs": self.pairs,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "f1": round(self.f1, 3),
            "agreement": round(self.accuracy, 3),
            "kappa": round(self.kappa, 3),
        }


class MockDataError(ValueError):
    pass


def load_items(path: Path, questions: Mapping[str, Question]) -> tuple[MockItem, ...]:
    """The labelled answers, checked against the bank: every problem listed with its line."""
    problems: list[str] = []
    items: list[MockItem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            item = MockItem(row["id"], row["question_id"], row["kind"], frozenset(row["covers"]), row["answer"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            problems.append(f"line {n}: not an item ({exc})")
            continue
        question = questions.get(item.question_id)
        signals = strong_signals(question.insight) if question else ()
        if question is None:
            problems.append(f"line {n}: unknown question_id {item.question_id!r}")
        elif not signals:
            problems.append(f"line {n}: {item.question_id} has no strong-answer signals")
        elif not all(isinstance(i, int) and 0 <= i < len(signals) for i in item.covers):
            problems.append(f"line {n}: covers {sorted(item.covers)} outside 0..{len(signals) - 1}")
        if item.kind not in KINDS:
            problems.append(f"line {n}: kind {item.kind!r} is not one of {', '.join(KINDS)}")
        if not item.answer.strip():
            problems.append(f"line {n}: empty answer")
        items.append(item)
    repeated = sorted(i for i, c in Counter(item.id for item in items).items() if c > 1)
    problems += [f"id {i!r} is used more than once" for i in repeated]
    if problems:
        raise MockDataError(f"{path}: " + "; ".join(problems))
    return tuple(items)


def judge(scorer: MockScorer, items: Iterable[MockItem], questions: Mapping[str, Question]) -> list[Judgement]:
    """Every (answer, signal) pair with the scorer's similarities."""
    return [
        Judgement(item, i, s.signal.text, i in item.covers, s.lexical, s.dense)
        for item in items
        for i, s in enumerate(scorer.similarities(questions[item.question_id], item.answer))
    ]


def agreement(judgements: Iterable[Judgement], threshold: float, dense_weight: float) -> Agreement:
    tp = fp = fn = tn = 0
    for j in judgements:
        hit = j.score(dense_weight) >= threshold
        tp += hit and j.covered
        fp += hit and not j.covered
        fn += not hit and j.covered
        tn += not hit and not j.covered
    return Agreement(threshold, dense_weight, tp, fp, fn, tn)


def best(judgements: Sequence[Judgement], dense_weight: float) -> Agreement:
    """The threshold with the best F1 for one mix; a tie goes to the higher threshold."""
    return max((agreement(judgements, t, dense_weight) for t in THRESHOLDS), key=lambda a: (a.f1, a.threshold))


def best_mix(judgements: Sequence[Judgement]) -> Agreement:
    """The mix and threshold with the best F1; ties go to the higher threshold."""
    return max((best(judgements, w) for w in WEIGHTS), key=lambda a: (a.f1, a.threshold))


def split(judgements: Iterable[Judgement], name: str) -> list[Judgement]:
    return [j for j in judgements if name == "all" or j.item.split == name]


def by_kind(judgements: Sequence[Judgement], threshold: float, dense_weight: float) -> dict[str, dict[str, float]]:
    """Per kind of answer: signals a person marked covered, signals the scorer called hit, and its agreement."""
    out: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        chosen = [j for j in judgements if j.item.kind == kind]
        if chosen:
            a = agreement(chosen, threshold, dense_weight)
            out[kind] = {
                "answers": len({j.item.id for j in chosen}),
                "covered": a.tp + a.fn,
                "hit": a.tp + a.fp,
                "agreement": round(a.accuracy, 3),
            }
    return out


def disagreements(judgements: Iterable[Judgement], threshold: float, dense_weight: float) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for j in judgements:
        score = j.score(dense_weight)
        if (score >= threshold) != j.covered:
            out.append(
                {
                    "id": j.item.id,
                    "split": j.item.split,
                    "kind": j.item.kind,
                    "signal": j.signal_text,
                    "person": "covered" if j.covered else "missed",
                    "scorer": "hit" if score >= threshold else "missed",
                    "lexical": round(j.lexical, 3),
                    "dense": round(j.dense, 3),
                    "score": round(score, 3),
                }
            )
    return out
