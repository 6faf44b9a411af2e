"""Typed, immutable records produced by ingestion and carried unchanged by the index.

One record type per stage: the parser yields ``Question`` and ``QuickRef``
records, the chunker turns them into ``Chunk`` objects.  Everything is a
frozen dataclass; change a copy with ``dataclasses.replace``.  ``to_dict`` /
``from_dict`` give the plain-JSON form stored in the index directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from functools import cache
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Any, Literal, Self, cast, get_args, get_origin, get_type_hints

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

RecordKind = Literal["question", "quick_reference"]
# Difficulties easiest first, as the banks write them (lower-cased): for ordering by difficulty.
DIFFICULTY_LEVEL = {"easy": 0, "medium": 1, "hard": 2}


class JsonRecord:
    """The plain-JSON form of a frozen record: ``to_dict`` gives nested dicts
    and lists (``dataclasses.asdict``), ``from_dict`` rebuilds the record from
    them as its field annotations say: tuples (of tuples) and nested records
    are restored, ``int`` fields coerced, other values kept as stored.  Keys the
    record does not declare are ignored; a field with a default may be missing."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(cast("DataclassInstance", self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return _record_reader(cast(type, cls))(data)


Reader = Callable[[Any], Any]


@cache
def _record_reader(cls: type) -> Reader:
    """Reads a dataclass ``cls`` from its dict.  Built once per class."""
    hints = get_type_hints(cls)
    specs = [
        (f.name, _reader(hints[f.name]), f.default is MISSING and f.default_factory is MISSING) for f in fields(cls)
    ]

    def read(data: dict[str, Any]) -> Any:
        return cls(
            **{
                name: data[name] if read_value is None else read_value(data[name])
                for name, read_value, required in specs
                if required or name in data
            }
        )

    return read


@cache
def _reader(tp: Any) -> Reader | None:
    """Reads a value of type ``tp`` from its JSON form, or None where that form
    already is the value.  Built once per type."""
    if isinstance(tp, type) and is_dataclass(tp):
        return _record_reader(tp)
    origin = get_origin(tp)
    if origin is tuple:  # tuple[X, ...]
        item = _reader(get_args(tp)[0])
        return tuple if item is None else lambda values: tuple(map(item, values))
    if origin is UnionType:  # X | None
        (arm,) = (a for a in get_args(tp) if a is not NoneType)
        read = _reader(arm)
        return None if read is None else lambda value: None if value is None else read(value)
    if tp is int:
        return int
    return None  # str, Literal, dict[str, Any]


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
class Question(JsonRecord):
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


@dataclass(frozen=True, slots=True)
class Article(JsonRecord):
    """The readable text of a row's practice-link page, fetched at ingest when
    the operator allows the network (``qbank ingest --fetch-links``) and kept
    in the index so a later ingest reuses it instead of fetching again."""

    url: str  # the practice link as the bank writes it
    title: str | None  # the page's own title
    text: str  # the excerpt that is indexed: paragraphs of the page's readable text, bounded
    fetched_at: str  # UTC, ISO 8601
    content_hash: str  # sha256 of the page's bytes as served


@dataclass(frozen=True, slots=True)
class Expansion(JsonRecord):
    """A short overview of a row that an LLM wrote at ingest (``qbank ingest
    --expand-rows``): generated text, not the bank's, and shown as such.
    Written once per row title, model and prompt version, and kept in the index."""

    title: str  # the row title it was written for
    text: str
    generated_by: str  # the model that wrote it
    prompt_version: int
    generated_at: str  # UTC, ISO 8601


@dataclass(frozen=True, slots=True)
class QuickRef(JsonRecord):
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
    article: Article | None = None  # its practice link's text, when fetched
    expansion: Expansion | None = None  # an LLM's overview of it, when one was written

    @property
    def tags(self) -> tuple[str, ...]:
        return self.topics

    def to_dict(self) -> dict[str, Any]:
        # A row without knowledge beyond the bank is written exactly as before these fields existed.
        data = asdict(self)
        for key in ("article", "expansion"):
            if data[key] is None:
                del data[key]
        return data


Record = Question | QuickRef

ChunkKind = Literal["title", "section", "insight", "quick_reference", "article", "expansion"]
# Chunks whose text no one checked: an LLM wrote it at ingest.
GENERATED_KINDS: frozenset[str] = frozenset(["expansion"])


@dataclass(frozen=True, slots=True)
class Chunk(JsonRecord):
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

    @property
    def generated(self) -> bool:
        """Whether the text is an LLM's (a row's expansion), not the bank's or a page's."""
        return self.kind in GENERATED_KINDS

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        # Flat: the stored keys are exactly the fields, and an unknown key is an error.
        return cls(**data)


@dataclass(frozen=True, slots=True)
class ParseWarning:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        """``path:line: message``; ``path: message`` for what is about the whole file (line 0)."""
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ParsedBank:
    path: str
    bank: str
    bank_slug: str
    questions: tuple[Question, ...]
    quick_refs: tuple[QuickRef, ...]
    warnings: tuple[ParseWarning, ...]
    company_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    updated: str | None = None  # the front matter's ``updated`` (else ``date``) as written: the page's version
