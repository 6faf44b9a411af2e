"""Short overviews of quick-reference rows, written by an LLM at ingest.

Only when an LLM is configured and the operator asks (``qbank ingest
--expand-rows``).  One non-streamed completion per row: what the topic is,
what problem it solves, and how a candidate might describe or ask about it.
The text is cleaned (no code, no headings, bounded), kept as an
``Expansion`` (the row title, the model, ``PROMPT_VERSION``) and marked as
generated wherever it is shown.  A failed call leaves the row as it was;
after ``max_failures_in_a_row`` failures the endpoint is taken to be down and
the remaining rows are left too, so a dead endpoint costs a few timeouts,
not one per row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from tqdm import tqdm

from ingest.models import Expansion, QuickRef
from ingest.readable import excerpt

log = logging.getLogger(__name__)

# Raise this when the prompt changes: cached expansions of another version are then written again.
PROMPT_VERSION = 1
SYSTEM_PROMPT = (
    "You write short study notes for a search index of machine-learning and software interview topics. "
    "Write plain prose: no headings, no lists, no code, no links. If you do not know the topic, say so in one sentence."
)
INSTRUCTION = (
    "In at most 120 words, say what it is, what problem it solves, and how a candidate might describe it or ask "
    "about it without knowing its name."
)
MAX_TOKENS = 220
MAX_CHARS = 1200
_FENCE = re.compile(r"```.*?(```|$)", re.S)
_LINE_MARK = re.compile(r"^\s*(#{1,6}\s+|[-*+]\s+|\d+[.)]\s+)")


class ChatCompleter(Protocol):
    """An OpenAI-compatible client (``qbank.answer.llm.LLMClient``): one
    non-streamed completion, a ``RuntimeError`` (its ``LLMError``) on any failure."""

    model: str

    def complete(self, messages: list[dict[str, str]], max_tokens: int) -> str: ...


def expansion_messages(row: QuickRef) -> list[dict[str, str]]:
    topics = ", ".join(row.topics)
    topic = f"Topic: {row.title}\n" + (f"Area: {topics}\n" if topics else "")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": f"{topic}\n{INSTRUCTION}"}]


def clean_expansion(text: str) -> str:
    """The model's reply as plain paragraphs: code, heading and list marks
    removed, whitespace tidied, bounded to ``MAX_CHARS``."""
    text = _FENCE.sub(" ", text)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [_LINE_MARK.sub("", line) for line in block.split("\n")]
        joined = " ".join(" ".join(lines).split())
        if joined:
            paragraphs.append(joined)
    return excerpt("\n\n".join(paragraphs), MAX_CHARS) if paragraphs else ""


@dataclass(frozen=True, slots=True)
class Expanded:
    """One row's outcome: its expansion, or why there is none."""

    row_id: str
    expansion: Expansion | None = None
    problem: str | None = None


class RowExpander:
    """Writes an ``Expansion`` per row with ``llm``."""

    def __init__(self, llm: ChatCompleter, max_failures_in_a_row: int = 3) -> None:
        if max_failures_in_a_row < 1:
            raise ValueError(f"max_failures_in_a_row must be at least 1, got {max_failures_in_a_row}")
        self.llm = llm
        self.model = llm.model
        self.max_failures_in_a_row = max_failures_in_a_row

    def expand_all(self, rows: Sequence[QuickRef], progress: bool = False) -> dict[str, Expanded]:
        """Each row's outcome, by row id, one call after the other (a local model serves one at a time)."""
        out: dict[str, Expanded] = {}
        failures = 0
        for row in tqdm(rows, desc="row expansions", unit="row", disable=not progress, leave=False):
            if failures >= self.max_failures_in_a_row:
                outcome = Expanded(row.id, problem=f"not asked: the endpoint failed {failures} times in a row")
            else:
                outcome = self.expand(row)
                failures = failures + 1 if outcome.problem else 0
            if outcome.problem:
                log.warning("row expansion skipped: %s: %s", row.title, outcome.problem)
            out[row.id] = outcome
        return out

    def expand(self, row: QuickRef) -> Expanded:
        try:
            reply = self.llm.complete(expansion_messages(row), MAX_TOKENS)
        except RuntimeError as exc:
            return Expanded(row.id, problem=str(exc))
        text = clean_expansion(reply)
        if len(text.split()) < 5:
            return Expanded(row.id, problem=f"the reply has no usable text ({reply[:60]!r})")
        expansion = Expansion(
            title=row.title,
            text=text,
            generated_by=self.model,
            prompt_version=PROMPT_VERSION,
            generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        return Expanded(row.id, expansion=expansion)
