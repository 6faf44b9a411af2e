"""Ingest a content folder: read every bank, parse, merge, link, chunk.

Bad files (empty, binary, not UTF-8, too large) are skipped with a warning;
the other files are kept.  ``README.md`` files describe the folder and are
not banks.  Files with the same bank title are versions of one bank and are
merged into it (``ingest.merge``); what was superseded is said in
``Corpus.notices`` and in each bank's ``sources``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ingest.chunker import Chunker
from ingest.encoding import repair_mojibake
from ingest.linking import attach_companies, link_quick_refs
from ingest.merge import BankFile, BankSource, bank_key, merge_bank, page_date
from ingest.models import Chunk, ParsedBank, ParseWarning, Question, QuickRef
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
    sources: tuple[BankSource, ...] = ()  # the bank's files, oldest first; ``path`` is the seed's


@dataclass(frozen=True, slots=True)
class Corpus:
    questions: tuple[Question, ...]
    quick_refs: tuple[QuickRef, ...]
    chunks: tuple[Chunk, ...]
    warnings: tuple[ParseWarning, ...]
    banks: tuple[BankStats, ...] = field(default=())
    # not problems: what merging a bank's files kept and superseded, and company-list titles no record has
    notices: tuple[ParseWarning, ...] = ()

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


def bank_files(content_dir: Path) -> tuple[list[Path], list[ParseWarning]]:
    """The markdown files under ``content_dir`` (``.md`` in any case, README.md aside), in
    path order, through linked folders too (each folder once), and a warning for each thing
    skipped: a link to nothing, a folder that cannot be read.  A linked folder, an
    ``Upper.MD`` and a broken link had been passed over without a word (tester)."""
    if not content_dir.is_dir():
        raise FileNotFoundError(f"content folder {content_dir} does not exist")
    found: list[Path] = []
    skipped: list[ParseWarning] = []

    def unreadable(exc: OSError) -> None:
        skipped.append(ParseWarning(str(exc.filename), 0, f"cannot read folder: {exc.strerror or exc}; skipped"))

    seen: set[Path] = set()
    for folder, dirs, files in os.walk(content_dir, onerror=unreadable, followlinks=True):
        real = Path(folder).resolve()
        if real in seen:  # a link back up the tree, or a second link to one folder
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        for name in files:
            path = Path(folder) / name
            if path.is_symlink() and not path.exists():  # a link to nothing, to a file or a folder
                skipped.append(ParseWarning(str(path), 0, "a link to nothing; skipped"))
            elif name.lower().endswith(".md") and name.lower() != "readme.md" and path.is_file():
                found.append(path)
    # a file reached twice (a link beside it, or through two folders) is read once: at its own name
    # before a link's, then at its first path
    once: dict[Path, Path] = {}
    for path in sorted(found, key=lambda p: (p.is_symlink(), p)):
        once.setdefault(path.resolve(), path)
    return sorted(once.values()), skipped


def _version_date(bank: ParsedBank, text: str) -> tuple[datetime | None, ParseWarning | None]:
    """The page's front-matter date, or why it cannot say the page's version."""
    if bank.updated is None:
        return None, None
    if (when := page_date(bank.updated)) is not None:
        return when, None
    line = next((k for k, ln in enumerate(text.split("\n"), 1) if bank.updated in ln), 0)
    message = f"front-matter date {bank.updated!r} is not a date (YYYY-MM-DD); the file's modification time dates it"
    return None, ParseWarning(bank.path, line, message)


def ingest_dir(content_dir: Path, chunker: Chunker | None = None) -> Corpus:
    """Parse every bank under ``content_dir`` into one corpus."""
    chunker = chunker or Chunker()
    parser = BankParser()
    # Each file's warnings, in path order; a skipped bank's parse warnings are not kept.
    problems: dict[str, list[ParseWarning]] = {}
    groups: dict[str, list[BankFile]] = {}
    markdown, skipped = bank_files(content_dir)
    for missing in skipped:
        problems[missing.path] = [missing]
    for path in markdown:
        text, problem = read_bank_file(path)
        if problem:
            problems[problem.path] = [problem]
            continue
        assert text is not None
        bank = parser.parse(str(path.relative_to(content_dir.parent)), text)
        dated, date_problem = _version_date(bank, text)
        problems[bank.path] = [*bank.warnings, *([date_problem] if date_problem else [])]
        groups.setdefault(bank_key(bank.bank), []).append(BankFile(bank, path.stat().st_mtime, dated))

    questions: list[Question] = []
    quick_refs: list[QuickRef] = []
    notices: list[ParseWarning] = []
    company_lists: list[tuple[str, str, tuple[str, ...]]] = []
    merged_banks: list[tuple[ParsedBank, tuple[BankSource, ...]]] = []
    used_slugs: dict[str, str] = {}
    for files in groups.values():
        merged = merge_bank(files)
        bank = merged.bank
        if bank.bank_slug in used_slugs:
            for f in files:
                message = (
                    f"a bank named {bank.bank_slug!r} was already ingested "
                    f"(titled {used_slugs[bank.bank_slug]!r}); skipped"
                )
                problems[f.bank.path] = [ParseWarning(f.bank.path, 0, message)]
            continue
        used_slugs[bank.bank_slug] = bank.bank
        questions.extend(bank.questions)
        quick_refs.extend(bank.quick_refs)
        notices.extend(merged.notices)
        company_lists.extend((bank.bank_slug, c, titles) for c, titles in bank.company_lists.items())
        merged_banks.append((bank, merged.sources))
    warnings = [w for file_warnings in problems.values() for w in file_warnings]
    for w in warnings:
        log.warning("%s", w)
    for n in notices:
        log.info("%s", n)

    linked_q, linked_r = link_quick_refs(questions, quick_refs)
    unmatched: list[tuple[str, str, str]] = []
    linked_q, linked_r = attach_companies(linked_q, linked_r, company_lists, unmatched=unmatched)
    # the file the bank's company lists came from (a newer page's, when it has them), not the seed
    bank_paths = {
        bank.bank_slug: next((src.path for src in sources if src.company_lists), bank.path)
        for bank, sources in merged_banks
    }
    left_out: dict[tuple[str, str], list[str]] = {}
    for slug, company, title in unmatched:
        left_out.setdefault((slug, company), []).append(title)
    for (slug, company), titles in left_out.items():
        # "Data Preprocessing Techniques" on OYO's list is a tag, not a record: the list shows
        # the rest, and the ingest says what it left out (it did so silently)
        what = "1 title" if len(titles) == 1 else f"{len(titles)} titles"
        notice = ParseWarning(
            bank_paths.get(slug, slug),
            0,
            f"{company}'s list names {what} that no question or quick-reference row of the bank has, "
            f"left out of the list: {', '.join(map(repr, titles))}",
        )
        log.info("%s", notice)
        notices.append(notice)
    chunks = chunker.run(linked_q, linked_r)

    stats = []
    for bank, sources in merged_banks:
        slug = bank.bank_slug
        paths = {s.path for s in sources}
        qs = [q for q in linked_q if q.bank_slug == slug]
        stats.append(
            BankStats(
                path=bank.path,
                bank=bank.bank,
                bank_slug=slug,
                questions=len(qs),
                quick_refs=sum(r.bank_slug == slug for r in linked_r),
                chunks=sum(c.meta.get("bank") == slug for c in chunks),
                code_blocks=sum(len(q.code_blocks) for q in qs),
                warnings=sum(w.path in paths for w in warnings),
                sources=sources,
            )
        )
    return Corpus(
        questions=tuple(linked_q),
        quick_refs=tuple(linked_r),
        chunks=tuple(chunks),
        warnings=tuple(warnings),
        banks=tuple(stats),
        notices=tuple(notices),
    )
