"""Ingest a content folder: read every bank, parse, link, chunk.

Bad files (empty, binary, not UTF-8, too large) are skipped with a warning;
the other files are kept.  ``README.md`` files describe the folder and are
not banks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunker import Chunker
from ingest.encoding import repair_mojibake
from ingest.linking import attach_companies, link_quick_refs
from ingest.models import Chunk, ParseWarning, Question, QuickRef
from ingest.parser import BankParser

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BankStats:
    path: str
    bank: str
    bank_slug: str
    questions: int
    quick_refs: int
    chunks: int
    code_blocks: int
    warnings: int


@dataclass(frozen=True, slots=True)
class Corpus:
    questions: tuple[Question, ...]
    quick_refs: tuple[QuickRef, ...]
    chunks: tuple[Chunk, ...]
    warnings: tuple[ParseWarning, ...]
    banks: tuple[BankStats, ...] = field(default=())

    @property
    def records(self) -> dict[str, Question | QuickRef]:
        records: list[Question | QuickRef] = [*self.questions, *self.quick_refs]
        return {r.id: r for r in records}


def read_bank_file(path: Path) -> tuple[str | None, ParseWarning | None]:
    """Read a markdown file as text, or explain why it cannot be a bank."""
    shown = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, ParseWarning(shown, 0, f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit; skipped")
        raw = path.read_bytes()
    except OSError as exc:
        return None, ParseWarning(shown, 0, f"cannot read file: {exc.strerror or exc}; skipped")
    if not raw.strip():
        return None, ParseWarning(shown, 0, "empty file; skipped")
    if b"\x00" in raw[:8192]:
        return None, ParseWarning(shown, 0, "binary file (NUL bytes), not markdown; skipped")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, ParseWarning(shown, line, "not valid UTF-8 text; skipped")
    return repair_mojibake(text.replace("\r\n", "\n").replace("\r", "\n")), None


def bank_files(content_dir: Path) -> list[Path]:
    if not content_dir.is_dir():
        raise FileNotFoundError(f"content folder {content_dir} does not exist")
    return sorted(p for p in content_dir.rglob("*.md") if p.is_file() and p.name.lower() != "readme.md")


def ingest_dir(content_dir: Path, chunker: Chunker | None = None) -> Corpus:
    """Parse every bank under ``content_dir`` into one corpus."""
    chunker = chunker or Chunker()
    parser = BankParser()
    questions: list[Question] = []
    quick_refs: list[QuickRef] = []
    warnings: list[ParseWarning] = []
    company_lists: list[tuple[str, str, tuple[str, ...]]] = []
    parsed_paths: list[tuple[str, str, str]] = []
    used_slugs: set[str] = set()
    for path in bank_files(content_dir):
        text, problem = read_bank_file(path)
        if problem:
            log.warning("%s", problem)
            warnings.append(problem)
            continue
        assert text is not None
        bank = parser.parse(str(path.relative_to(content_dir.parent)), text)
        if bank.bank_slug in used_slugs:
            problem = ParseWarning(bank.path, 0, f"a bank named {bank.bank_slug!r} was already ingested; skipped")
            log.warning("%s", problem)
            warnings.append(problem)
            continue
        used_slugs.add(bank.bank_slug)
        for w in bank.warnings:
            log.warning("%s", w)
        questions.extend(bank.questions)
        quick_refs.extend(bank.quick_refs)
        warnings.extend(bank.warnings)
        company_lists.extend((bank.bank_slug, c, titles) for c, titles in bank.company_lists.items())
        parsed_paths.append((bank.path, bank.bank, bank.bank_slug))

    linked_q, linked_r = link_quick_refs(questions, quick_refs)
    linked_q, linked_r = attach_companies(linked_q, linked_r, company_lists)
    chunks = chunker.run(linked_q, linked_r)

    stats = []
    for bank_path, bank_title, slug in parsed_paths:
        qs = [q for q in linked_q if q.bank_slug == slug]
        stats.append(
            BankStats(
                path=bank_path,
                bank=bank_title,
                bank_slug=slug,
                questions=len(qs),
                quick_refs=sum(r.bank_slug == slug for r in linked_r),
                chunks=sum(c.meta.get("bank") == slug for c in chunks),
                code_blocks=sum(len(q.code_blocks) for q in qs),
                warnings=sum(w.path == bank_path for w in warnings),
            )
        )
    return Corpus(
        questions=tuple(linked_q),
        quick_refs=tuple(linked_r),
        chunks=tuple(chunks),
        warnings=tuple(warnings),
        banks=tuple(stats),
    )
