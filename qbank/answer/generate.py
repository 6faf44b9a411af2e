"""The optional LLM step: a short synthesis of the sources above the bank's own
answer, never in place of it.  The one place a generation failure is handled.

The model sees a capped prompt (the chosen sections, or the passages that
discuss a quick-reference topic, and the other sources' snippets), is told
to cite ``[n]`` for each paragraph and to write no code; what it writes is
checked (``qbank.answer.grounding``) and shown under a heading that says it
is generated, followed by the curated answer, code included, verbatim.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from qbank.answer.grounding import check
from qbank.answer.llm import LLMClient, LLMError
from qbank.answer.model import Answer

log = logging.getLogger(__name__)

FALLBACK_NOTE = "_(The generator was unavailable; showing the curated answer instead.)_"
# The prompt is capped so that a small model on a CPU server starts answering
# within about 2 s (prefill); the curated answer below carries the rest.
FIRST_SOURCE_CHARS = 1200
OTHER_SOURCE_CHARS = 240
SYNTHESIS_HEADING = "**Summary** (generated from the sources numbered below; the bank's answer follows):"
UNGROUNDED_HEADING = (
    "**Generated explanation** (the bank has no curated answer for this; this text is the model's own, "
    "not checked against any source):"
)
SEPARATOR = "\n\n---\n\n"


@dataclass(slots=True)
class Written:
    """The final text once ``AnswerWriter.write`` is exhausted."""

    text: str = ""
    generated_by: Literal["extractive", "llm"] = "extractive"
    unstreamed: str = ""  # the end of ``text`` not yet sent as deltas
    unsupported: tuple[str, ...] = ()


class AnswerWriter:
    """With an LLM configured, streams a synthesis over the answer's sources and
    settles on the checked synthesis followed by the curated text; on any
    failure, reports a reset and settles on the curated text with a note.
    Without one, for an abstention or a company list, the curated text."""

    def __init__(self, llm: LLMClient | None) -> None:
        self.llm = llm

    @staticmethod
    def sources(answer: Answer) -> list[tuple[str, str]]:
        """Numbered sources for the prompt, capped: the passages about a
        quick-reference topic; else the hits, the answering one carrying the
        chosen sections and the others their snippets."""
        if answer.passages:
            return [(f"{p.record.title}: {p.heading}", p.markdown[:FIRST_SOURCE_CHARS]) for p in answer.passages]
        sources = [(h.record.title, h.snippet[:OTHER_SOURCE_CHARS]) for h in answer.sources]
        if answer.sections and sources:
            sections = "\n\n".join(s.markdown for s in answer.sections)
            sources[0] = (sources[0][0], sections[:FIRST_SOURCE_CHARS])
        return sources

    async def write(self, answer: Answer, curated: str, out: Written) -> AsyncIterator[tuple[str, str]]:
        """Yields ``("delta", text)`` for each generated piece and ``("reset",
        reason)`` when generation failed (discard the deltas so far); ``out``
        then holds the final text, who wrote it and what is left to stream."""
        out.text, out.generated_by, out.unstreamed = curated, "extractive", curated
        if self.llm is None or answer.kind in ("abstain", "company_list", "reply"):
            return
        sources = self.sources(answer)
        grounded = answer.kind != "quick_reference" or bool(answer.passages)
        heading = SYNTHESIS_HEADING if grounded else UNGROUNDED_HEADING
        generated: list[str] = []
        try:
            yield "delta", f"{heading}\n\n"
            async for piece in self.llm.stream(answer.rewritten_query, sources):
                generated.append(piece)
                yield "delta", piece
        except LLMError as exc:
            log.warning("LLM failed, falling back to the extractive answer: %s", exc)
            yield "reset", str(exc)
            out.text = out.unstreamed = f"{FALLBACK_NOTE}\n\n{curated}"
            return
        synthesis = "".join(generated).strip()
        if grounded:
            checked = check(synthesis, sources)
            synthesis, out.unsupported = checked.text, checked.unsupported
        out.unstreamed = SEPARATOR + curated
        out.text, out.generated_by = f"{heading}\n\n{synthesis}{out.unstreamed}", "llm"
