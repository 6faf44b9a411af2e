"""An answer being written, as HTML blocks: what the chat page is streamed.

In the chat stream's ``render: "html"`` mode (``service/routes/chat.py``) the
answer goes out as top-level blocks of its markdown (a paragraph, a heading, a
list, a table, a code block, a quote) rendered by ``service.render``, the
same renderer as the final ``answer_html``, so the page ends as it would have
been rendered whole.  The page never receives markdown.

- ``Block(index, html)``: block ``index`` is finished. It replaces whatever
  the client shows from that position on (the blocks after it and the tail).
- ``Tail(index, html)``: block ``index`` is still being written (an LLM's
  text, token by token): a preview with its unclosed markdown marks hidden
  (``**bo`` shows as ``bo``). It replaces whatever the client shows from that
  position on; ``html`` is empty when nothing is unfinished.

A block counts as finished once the next one has begun: later text cannot
change it in CommonMark's block structure.  The rare exceptions (a display
formula with a blank line inside) are corrected by sending the changed block
again, and the ``done`` event's ``answer_html`` is the final word anyway.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from service.render import render_blocks


@dataclass(frozen=True, slots=True)
class Block:
    index: int
    html: str


@dataclass(frozen=True, slots=True)
class Tail:
    index: int
    html: str


LiveEvent = Block | Tail


class LiveBlocks:
    """Turns text that grows piece by piece into ``Block`` and ``Tail`` events.

    Re-rendering the whole text costs about a millisecond per 4 KB, so it is
    done at most once per ``min_interval_s`` (pieces in between are only
    added), and once more by ``finish``."""

    def __init__(self, min_interval_s: float = 0.05, clock: Callable[[], float] = time.monotonic) -> None:
        if min_interval_s < 0:
            raise ValueError(f"min_interval_s must be >= 0, got {min_interval_s}")
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.text = ""
        self.sent: list[str] = []  # the finished blocks the client holds
        self.tail = ""  # the preview the client shows after them
        self._rendered_at = -math.inf

    def feed(self, piece: str) -> list[LiveEvent]:
        """Add ``piece``; the events that bring the client up to date, if it is time to render."""
        self.text += piece
        now = self.clock()
        if now - self._rendered_at < self.min_interval_s:
            return []
        self._rendered_at = now
        blocks = render_blocks(self.text, unfinished=True)
        return self._update(blocks[:-1], blocks[-1] if blocks else "")

    def finish(self) -> list[LiveEvent]:
        """The text is complete: every block is finished."""
        return self._update(render_blocks(self.text), "")

    def reset(self) -> None:
        """Start over (the client was told to drop what it had)."""
        self.text, self.sent, self.tail = "", [], ""
        self._rendered_at = -math.inf

    def _update(self, finished: list[str], tail: str) -> list[LiveEvent]:
        same = 0
        while same < min(len(self.sent), len(finished)) and self.sent[same] == finished[same]:
            same += 1
        events: list[LiveEvent] = [Block(i, finished[i]) for i in range(same, len(finished))]
        shrunk = len(self.sent) > len(finished)  # a block the client holds went back to being unfinished
        shown_tail = "" if events else self.tail  # a Block event drops the tail the client showed
        if tail != shown_tail or shrunk:
            events.append(Tail(len(finished), tail))
        self.sent, self.tail = finished, tail
        return events
