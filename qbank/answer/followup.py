"""Follow-ups: make the last message of a conversation a standalone query."""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.query import GENERIC_TERMS
from index.tokenize import tokenize

FOLLOWUP_START = re.compile(r"^(and|but|also|so|then|ok|okay|what about|how about|compared|versus|vs\.?)\b", re.I)
ANAPHORA = re.compile(r"\b(it|its|it's|that|this|these|those|they|them|their|one|same|above|previous)\b", re.I)


def is_followup(message: str) -> bool:
    msg = message.strip()
    content = [t for t in tokenize(msg) if t not in GENERIC_TERMS]
    if FOLLOWUP_START.match(msg):
        return True
    if len(content) <= 2:
        return True  # "any downsides?", "how do i pick p and q": too little to stand alone
    return bool(ANAPHORA.search(msg)) and len(content) <= 4


def rewrite_followup(message: str, history: Sequence[str]) -> str:
    """Make a follow-up standalone by prefixing the previous user turn's topic."""
    if not history or not is_followup(message):
        return message
    previous = history[-1].strip()
    return f"{previous} {message.strip()}"
