"""Scores a typed mock-interview answer against a question's strong-answer
signals, one signal at a time, with the app's embedder and the index's term
statistics.

Per signal, two similarities:

- ``lexical``: the share of the signal's terms the answer uses, each term
  weighted by its rarity in the bank (the BM25 index's IDF), so "kernel"
  counts for more than "different";
- ``dense``: with the same MiniLM that embeds the index, how much closer one
  sentence of the answer is to the signal than to the question's title (the
  best sentence's cosine with the signal minus its cosine with the title), so
  a paraphrase with none of the signal's words can still count.

Both leave the question's topic out: the title's words do not count as the
signal's, and a sentence's closeness to the topic is taken off its closeness
to the signal.  Every answer to "What is PCA?" says "PCA"; a vague answer
on the topic scores low on every signal.

``score = dense_weight * dense + (1 - dense_weight) * lexical``; the signal is
hit when the score reaches ``threshold``.  The defaults are the ones the
hand-labelled answers in ``eval/data/mock_answers.jsonl`` support (``qbank
mock-eval``; figures in the README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.embed import Embedder
from index.sparse import SparseIndex
from index.tokenize import tokenize
from ingest.models import Question
from qbank.mock.probes import probes
from qbank.mock.signals import Signal, TermWeights, key_terms, strong_signals, what_is_tested

# Fitted on the dev split of eval/data/mock_answers.jsonl by `qbank mock-eval` (README, "Mock interviewer").
THRESHOLD = 0.08
DENSE_WEIGHT = 0.75
# A sentence's closeness to the topic counts as at least this much, so one far from both the signal and
# the topic ("asdf jkl", "I don't know") is not "closer to the signal than to the topic" by chance.
TOPIC_FLOOR = 0.15
MAX_SENTENCES = 60
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass(frozen=True, slots=True)
class Similarity:
    signal: Signal
    lexical: float
    dense: float
    evidence: str | None  # the answer's sentence that gave ``dense``


@dataclass(frozen=True, slots=True)
class SignalScore:
    signal: Signal
    lexical: float  # IDF-weighted share of the signal's terms the answer uses
    dense: float  # how much closer the answer's best sentence is to the signal than to the question
    score: float
    hit: bool
    evidence: str | None  # for a hit: that sentence


@dataclass(frozen=True, slots=True)
class KeyTerm:
    term: str  # as the curated answer writes it
    used: bool  # the candidate's answer has it


@dataclass(frozen=True, slots=True)
class MockScore:
    question: Question
    testing: str | None  # "What they're testing", from the insight box
    signals: tuple[SignalScore, ...]
    key_terms: tuple[KeyTerm, ...]
    probes: tuple[str, ...]
    threshold: float
    dense_weight: float

    @property
    def hits(self) -> int:
        return sum(s.hit for s in self.signals)


def sentences(answer: str) -> list[str]:
    """The answer cut into sentences (and lines), at most ``MAX_SENTENCES``."""
    return [s.strip() for s in _SENTENCE.split(answer) if s.strip()][:MAX_SENTENCES]


class MockScorer:
    """``score(question, answer)``: each strong-answer signal hit or missed, the
    answer's key terms used or not, and follow-up probes."""

    def __init__(
        self,
        embedder: Embedder,
        sparse: SparseIndex,
        threshold: float = THRESHOLD,
        dense_weight: float = DENSE_WEIGHT,
        topic_floor: float = TOPIC_FLOOR,
        key_term_count: int = 8,
        probe_count: int = 3,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be in [0, 1], got {dense_weight}")
        if key_term_count < 0 or probe_count < 0:
            raise ValueError("key_term_count and probe_count must be >= 0")
        self.embedder = embedder
        self.weights = TermWeights(sparse)
        self.threshold = threshold
        self.dense_weight = dense_weight
        self.topic_floor = topic_floor
        self.key_term_count = key_term_count
        self.probe_count = probe_count

    def similarities(self, question: Question, answer: str) -> list[Similarity]:
        """Each of ``question``'s signals against ``answer``, before the threshold."""
        signals = strong_signals(question.insight)
        if not signals:
            return []
        parts = sentences(answer)
        vectors = self.embedder.encode([question.title, *(s.content for s in signals), *parts])
        topic, signal_vectors, part_vectors = vectors[0], vectors[1 : len(signals) + 1], vectors[len(signals) + 1 :]
        # How much more each sentence is about a signal than about the question in general.
        contrast = (
            signal_vectors @ part_vectors.T - np.maximum(part_vectors @ topic, self.topic_floor) if parts else None
        )
        used = set(tokenize(answer))
        title = set(tokenize(question.title))
        out = []
        for i, signal in enumerate(signals):
            terms = [t for t in signal.terms if t not in title] or list(signal.terms)
            total = sum(self.weights(t) for t in terms)
            lexical = sum(self.weights(t) for t in terms if t in used) / total if total else 0.0
            if contrast is None:
                out.append(Similarity(signal, lexical, 0.0, None))
                continue
            best = int(np.argmax(contrast[i]))
            out.append(Similarity(signal, lexical, max(0.0, float(contrast[i, best])), parts[best]))
        return out

    def combine(self, lexical: float, dense: float) -> float:
        return self.dense_weight * dense + (1 - self.dense_weight) * lexical

    def score(self, question: Question, answer: str) -> MockScore:
        scored = []
        for s in self.similarities(question, answer):
            score = self.combine(s.lexical, s.dense)
            hit = score >= self.threshold
            evidence = s.evidence if hit else None
            scored.append(SignalScore(s.signal, round(s.lexical, 4), round(s.dense, 4), round(score, 4), hit, evidence))
        used = set(tokenize(answer))
        names = key_terms(question, self.weights, max(self.key_term_count, 20))
        terms = tuple(KeyTerm(name, set(tokenize(name)) <= used) for name in names[: self.key_term_count])
        return MockScore(
            question=question,
            testing=what_is_tested(question.insight),
            signals=tuple(scored),
            key_terms=terms,
            probes=probes(question, answer, {t for name in names for t in tokenize(name)}, self.probe_count),
            threshold=self.threshold,
            dense_weight=self.dense_weight,
        )
