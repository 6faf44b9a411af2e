"""Typed, immutable records produced by ingestion and carried unchanged by the index.

One record type per stage: the parser yields ``Question`` and ``QuickRef``
records, the chunker turns them into ``Chunk`` objects.  Everything is a
frozen dataclass; change a copy with ``dataclasses.replace``.  ``to_dict`` /
``from_dict`` give the plain-JSON form stored in the index directory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RecordKind = Literal["question", "quick_reference"]


@dataclass(frozen=True, slots=True)
class CodeBlock:
    language: str
    code: str


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    markdown: str


@dataclass(frozen=True, slots=True)
class Section:
    heading: str | None
    markdown: str
    code_blocks: tuple[CodeBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceRef:
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    bank: str
    bank_slug: str
    title: str
    difficulty: str | None
    companies: tuple[str, ...]
    tags: tuple[str, ...]
    answer_markdown: str
    sections: tuple[Section, ...]
    code_blocks: tuple[CodeBlock, ...]
    tables: tuple[Table, ...]
    formulas: tuple[str, ...]
    insight: str | None
    source: SourceRef
    quick_ref_ids: tuple[str, ...] = ()
    practice_url: str | None = None
    kind: RecordKind = "question"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        return cls(
            id=data["id"],
            bank=data["bank"],
            bank_slug=data["bank_slug"],
            title=data["title"],
            difficulty=data["difficulty"],
            companies=tuple(data["companies"]),
            tags=tuple(data["tags"]),
            answer_markdown=data["answer_markdown"],
            sections=tuple(
                Section(
                    heading=s["heading"],
                    markdown=s["markdown"],
                    code_blocks=tuple(CodeBlock(**c) for c in s["code_blocks"]),
                )
                for s in data["sections"]
            ),
            code_blocks=tuple(CodeBlock(**c) for c in data["code_blocks"]),
            tables=tuple(
                Table(
                    header=tuple(t["header"]),
                    rows=tuple(tuple(r) for r in t["rows"]),
                    markdown=t["markdown"],
                )
                for t in data["tables"]
            ),
            formulas=tuple(data["formulas"]),
            insight=data["insight"],
            source=SourceRef(**data["source"]),
            quick_ref_ids=tuple(data.get("quick_ref_ids", ())),
            practice_url=data.get("practice_url"),
        )


@dataclass(frozen=True, slots=True)
class QuickRef:
    id: str
    bank: str
    bank_slug: str
    number: int
    title: str
    practice_url: str | None
    practice_label: str | None
    companies: tuple[str, ...]
    difficulty: str | None
    topics: tuple[str, ...]
    source: SourceRef
    question_id: str | None = None
    kind: RecordKind = "quick_reference"

    @property
    def tags(self) -> tuple[str, ...]:
        return self.topics

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuickRef:
        return cls(
            id=data["id"],
            bank=data["bank"],
            bank_slug=data["bank_slug"],
            number=int(data["number"]),
            title=data["title"],
            practice_url=data["practice_url"],
            practice_label=data["practice_label"],
            companies=tuple(data["companies"]),
            difficulty=data["difficulty"],
            topics=tuple(data["topics"]),
            source=SourceRef(**data["source"]),
            question_id=data.get("question_id"),
        )


Record = Question | QuickRef

ChunkKind = Literal["title", "section", "insight", "quick_reference"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable piece of one record.

    ``doc_id`` is the record the chunk scores for: a quick-reference row that
    is linked to a full question scores for that question.  ``text`` is what
    is embedded and BM25-indexed (title and heading prepended).
    """

    id: str
    doc_id: str
    record_id: str
    kind: ChunkKind
    title: str
    heading: str | None
    text: str
    section_index: int | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class ParseWarning:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class ParsedBank:
    path: str
    bank: str
    bank_slug: str
    questions: tuple[Question, ...]
    quick_refs: tuple[QuickRef, ...]
    warnings: tuple[ParseWarning, ...]
    company_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
