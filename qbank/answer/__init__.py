"""Conversation and answer logic, shared by every surface: follow-up rewriting,
the composer that builds a typed ``Answer`` from retrieval, the markdown
rendering of that answer, and the optional LLM writing step."""

from qbank.answer.banks import BankCatalog
from qbank.answer.composer import AnswerComposer, wants_code
from qbank.answer.markdown import meta_line, to_markdown
from qbank.answer.model import Answer, AnswerKind

__all__ = [
    "Answer",
    "AnswerComposer",
    "AnswerKind",
    "BankCatalog",
    "meta_line",
    "to_markdown",
    "wants_code",
]
