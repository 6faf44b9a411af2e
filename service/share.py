"""A conversation as a link: its questions and each one's filters, nothing else.

The chat page's ``?c=`` parameter carries it, for a shared link and for the
page without JavaScript (a hidden field holds the turns so far).  The answers
are not in it: the server composes them again (``usecases.conversation``),
so a link can only ever show what the bank answers, never text someone wrote
into it.  The encoding is base64url of compact JSON,
``[{"q": "explain GANs"}, {"q": "what does Uber ask?", "f": {"difficulty": "Hard"}}]``,
bounded in turns and length, and strictly validated.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from index.filters import Filters
from service.schemas import FiltersIn, clean_text

# The last questions a link keeps (an answer reads the four questions before it, courtesy such as
# "thanks" not counted, and further back only past picks from a list and follow-ups that name nothing:
# a chain of more than this many such follow-ups loses its topic in a link).
MAX_TURNS = 12
MAX_LINK_CHARS = 8000  # of the encoded turns: under the 8 KB request line proxies accept


class Invalid(ValueError):
    """A link that cannot be read, with the message to show."""


class SharedTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    q: str = Field(..., min_length=1, max_length=2000)
    f: FiltersIn | None = None

    @property
    def filters(self) -> Filters | None:
        f = self.f
        if f is None:
            return None
        filters = Filters(f.company or None, f.difficulty or None, f.tag or None, f.bank or None)
        return None if filters.is_empty() else filters


_TURNS = TypeAdapter(list[SharedTurn])


def new_turn(question: str, filters: dict[str, str], max_chars: int) -> SharedTurn:
    """The turn a form submits: its question (cleaned) and the filters it picked."""
    try:
        text = clean_text(question, max_chars, "question")
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    picked = {name: value for name, value in filters.items() if value}
    try:
        return SharedTurn(q=text, f=FiltersIn(**picked) if picked else None)
    except ValidationError as exc:
        raise Invalid(f"question or filter too long for a conversation: {exc.errors()[0]['msg']}") from exc


def encode(turns: Sequence[SharedTurn]) -> str:
    """The last turns that fit in a link, encoded; oldest dropped first."""
    kept = list(turns[-MAX_TURNS:])
    while kept:
        data = [t.model_dump(exclude_none=True, exclude_defaults=True) for t in kept]
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if len(token) <= MAX_LINK_CHARS:
            return token
        kept = kept[1:]
    return ""


def decode(token: str) -> list[SharedTurn]:
    if len(token) > MAX_LINK_CHARS:
        raise Invalid(f"the conversation in this link is {len(token)} characters; the limit is {MAX_LINK_CHARS}")
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        turns = _TURNS.validate_python(json.loads(raw.decode("utf-8")))
    # JSON and UTF-8 errors are ValueErrors; JSON nested a few thousand deep is a RecursionError
    except (binascii.Error, ValueError, ValidationError, RecursionError) as exc:
        raise Invalid("this conversation link is damaged or incomplete; check that it was copied whole") from exc
    if not turns:
        raise Invalid("this conversation link holds no questions")
    if len(turns) > MAX_TURNS:
        raise Invalid(f"this conversation link holds {len(turns)} questions; the limit is {MAX_TURNS}")
    return turns
