"""Conversation and answer logic, shared by every surface: follow-up rewriting,
the composer that builds a typed ``Answer`` from retrieval, the markdown
rendering of that answer, and the optional LLM writing step."""

from qbank.answer.composer import ABSTAIN_TEXT, EXAMPLE_QUESTIONS, AnswerComposer, wants_code
from qbank.answer.markdown import meta_line, to_markdown
from qbank.answer.model import Answer, AnswerKind

__all__ = [
    "ABSTAIN_TEXT",
    "EXAMPLE_QUESTIONS",
    "Answer",
    "AnswerComposer",
    "AnswerKind",
    "meta_line",
    "to_markdown",
    "wants_code",
]
