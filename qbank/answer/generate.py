"""The optional LLM step: write the answer from the retrieved sources, or fall
back to the curated text.  The one place a generation failure is handled."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from qbank.answer.llm import LLMClient, LLMError
from qbank.answer.model import Answer

log = logging.getLogger(__name__)

FALLBACK_NOTE = "_(The generator was unavailable; showing the curated answer instead.)_"
SECTIONS_CHARS = 4000


@dataclass(slots=True)
class Written:
    """The final text once ``AnswerWriter.write`` is exhausted."""

    text: str = ""
    generated_by: Literal["extractive", "llm"] = "extractive"


class AnswerWriter:
    """With an LLM configured, streams its answer over the answer's sources (the
    best one carrying the chosen sections); on any failure, reports a reset and
    settles on the curated text with a note.  Without one, or for an
    abstention, the curated text as it is."""

    def __init__(self, llm: LLMClient | None) -> None:
        self.llm = llm

    @staticmethod
    def sources(answer: Answer) -> list[tuple[str, str]]:
        if answer.passages:  # a topic without an answer of its own: ground in what discusses it
            return [(f"{p.record.title}: {p.heading}", p.markdown[:SECTIONS_CHARS]) for p in answer.passages]
        sources = [(h.record.title, h.snippet) for h in answer.sources]
        sections = "\n\n".join(s.markdown for s in answer.sections)
        if sections and sources:
            sources[0] = (sources[0][0], sections[:SECTIONS_CHARS])
        return sources

    async def write(self, answer: Answer, curated: str, out: Written) -> AsyncIterator[tuple[str, str]]:
        """Yields ``("delta", text)`` for each generated piece and ``("reset",
        reason)`` when generation failed (discard the deltas so far); ``out``
        then holds the final text and who wrote it."""
        out.text, out.generated_by = curated, "extractive"
        if self.llm is None or answer.kind in ("abstain", "company_list"):
            return
        if answer.kind == "quick_reference" and not answer.passages:
            return  # only titles to go on: nothing to ground a generated answer in
        generated: list[str] = []
        try:
            async for piece in self.llm.stream(answer.rewritten_query, self.sources(answer)):
                generated.append(piece)
                yield "delta", piece
        except LLMError as exc:
            log.warning("LLM failed, falling back to the extractive answer: %s", exc)
            yield "reset", str(exc)
            out.text = f"{FALLBACK_NOTE}\n\n{curated}"
            return
        out.text, out.generated_by = "".join(generated), "llm"
