"""The mock interviewer: a typed answer scored against a question's
strong-answer signals (``MockScorer``), the answer's key terms, and
follow-up probes from its section headings.  No LLM."""

from qbank.mock.scorer import DENSE_WEIGHT, THRESHOLD, TOPIC_FLOOR, KeyTerm, MockScore, MockScorer, SignalScore
from qbank.mock.signals import Signal, strong_signals

__all__ = [
    "DENSE_WEIGHT",
    "THRESHOLD",
    "TOPIC_FLOOR",
    "KeyTerm",
    "MockScore",
    "MockScorer",
    "Signal",
    "SignalScore",
    "strong_signals",
]
