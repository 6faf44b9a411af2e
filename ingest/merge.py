"""Files that carry the same bank title are versions of one bank, merged into it.

A user who drops the site's newer page of a bank beside the one they have
(``Machine-Learning-current.md`` beside ``machine-learning.md``, both titled
"Machine Learning Interview Questions") expects one bank that holds every
question of both, each once, in its newest form; not two banks under one
name answering every question twice, and not the newer page dropped.  So:

- **The seed** is the file with the plainest name: the shortest file-name
  slug, then the shallowest path, then path order (``machine-learning.md``
  before ``Machine-Learning-current.md``).  It gives the bank its title and
  slug, so every record id is ``<seed slug>--<title slug>`` whichever file
  supplied it: the same title keeps the same id, and links to it keep
  working.  Chosen by name only, so ids never depend on file times.
- **Versions**, oldest first: by the front matter's ``updated`` (else
  ``date``) when every file has one, else by modification time, where times
  less than ``SAME_TIME_S`` apart count as one time (a checkout or a copy
  writes its files within it; file times then say nothing) and the seed
  counts as the older, then path order.
- **Questions**: every question of every file; one whose normalised title
  (its id's slug) is in several files is taken from the newest, and the
  older copies are superseded, with a notice naming both files.  They keep
  the seed page's order, then the other files' questions in version order.
- **The quick-reference table and the company lists** come whole from the
  newest file that has them: a table is numbered as a unit, so rows of two
  versions are never mixed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ingest.models import ParsedBank, ParseWarning, Question, QuickRef
from ingest.textutil import quick_ref_id, slugify

log = logging.getLogger(__name__)

SAME_TIME_S = 2.0
_SHOWN_TITLES = 3


def bank_key(title: str) -> str:
    """What makes two files one bank: their titles, normalised ('Machine
    Learning Interview Questions' and 'machine-learning interview questions')."""
    return slugify(title)


def page_date(value: str) -> datetime | None:
    """A front-matter date ('2026-07-12', '2026-07-12T10:00:00Z'), or None
    when it is not one.  A date without a zone is read as UTC."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True, eq=False)
class BankFile:
    """One parsed file and what says how new its page is."""

    bank: ParsedBank
    mtime: float  # seconds since the epoch
    dated: datetime | None = None  # the front matter's date, when readable


@dataclass(frozen=True, slots=True)
class BankSource:
    """What one file gave its bank."""

    path: str
    seed: bool
    version: int  # 1 is the oldest of the bank's files
    questions: int  # questions the bank takes from this file
    superseded: int  # this file's questions whose copy from a newer file is kept instead
    quick_refs: int  # quick-reference rows the bank takes from this file
    company_lists: int  # company lists the bank takes from this file


@dataclass(frozen=True, slots=True)
class MergedBank:
    """One bank from one or more files: the records under the seed's title and
    slug (``bank.path`` is the seed's), each file's share, oldest first, and
    the notices saying what was superseded by what."""

    bank: ParsedBank
    sources: tuple[BankSource, ...]
    notices: tuple[ParseWarning, ...]


def seed_of(files: Sequence[BankFile]) -> BankFile:
    return min(files, key=lambda f: (len(f.bank.bank_slug), f.bank.path.count("/"), f.bank.path))


def version_runs(files: Sequence[BankFile], seed: BankFile) -> list[list[BankFile]]:
    """The files oldest first, in runs of files of one time (see the module
    docstring); within a run the seed first, then path order."""
    by_date = all(f.dated is not None for f in files)
    tolerance = 0.0 if by_date else SAME_TIME_S
    ordered = sorted(files, key=lambda f: (_time(f, by_date), f.bank.path))
    runs: list[list[BankFile]] = []
    for f in ordered:
        if runs and _time(f, by_date) - _time(runs[-1][0], by_date) <= tolerance:
            runs[-1].append(f)
        else:
            runs.append([f])
    return [sorted(run, key=lambda f: (f is not seed, f.bank.path)) for run in runs]


def _time(f: BankFile, by_date: bool) -> float:
    return f.dated.timestamp() if by_date and f.dated is not None else f.mtime


def _why_newer(older: BankFile, newer: BankFile, runs: Sequence[Sequence[BankFile]], seed: BankFile) -> str:
    """How ``newer`` was found newer than ``older``, in words."""
    by_date = all(f.dated is not None for run in runs for f in run)
    same_time = any(older in run and newer in run for run in runs)
    if by_date and not same_time:
        return f"front-matter date {newer.bank.updated} after {older.bank.updated}"
    if not same_time:
        return f"modified {_stamp(newer.mtime)}, this file {_stamp(older.mtime)}"
    if by_date:
        same = f"the same front-matter date {newer.bank.updated}"
    else:
        same = f"both modified within {SAME_TIME_S:g} s ({_stamp(newer.mtime)}), as by a checkout or a copy"
    rule = "the seed counts as the older" if older is seed else "the order is the file paths'"
    return f"{same}: {rule}; an `updated:` front-matter date says which is newer"


def _stamp(mtime: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(mtime))


def _title_slug(q: Question) -> str:
    """The question's normalised title: its id after the bank slug."""
    return q.id[len(q.bank_slug) + 2 :]


def _titles(questions: Sequence[Question]) -> str:
    shown = ", ".join(repr(q.title) for q in questions[:_SHOWN_TITLES])
    more = len(questions) - _SHOWN_TITLES
    return f"{shown} and {more} more" if more > 0 else shown


def merge_bank(files: Sequence[BankFile]) -> MergedBank:
    """The files of one bank (one ``bank_key``) as one bank."""
    if not files:
        raise ValueError("a bank needs at least one file")
    seed = seed_of(files)
    runs = version_runs(files, seed)
    ordered = [f for run in runs for f in run]
    version = {id(f): k for k, f in enumerate(ordered, 1)}
    title, slug = seed.bank.bank, seed.bank.bank_slug

    newest: dict[str, tuple[BankFile, Question]] = {}
    for f in ordered:
        for q in f.bank.questions:
            newest[_title_slug(q)] = (f, q)
    questions: list[Question] = []
    for f in [seed, *(g for g in ordered if g is not seed)]:
        for q in f.bank.questions:
            key = _title_slug(q)
            if key in newest:
                _, kept = newest.pop(key)
                questions.append(replace(kept, id=f"{slug}--{key}", bank=title, bank_slug=slug))

    table = next((f for f in reversed(ordered) if f.bank.quick_refs), None)
    lists = next((f for f in reversed(ordered) if f.bank.company_lists), None)
    quick_refs: list[QuickRef] = []
    if table is not None:
        quick_refs = [
            replace(r, id=quick_ref_id(slug, r.number), bank=title, bank_slug=slug) for r in table.bank.quick_refs
        ]
    merged = replace(
        seed.bank,
        questions=tuple(questions),
        quick_refs=tuple(quick_refs),
        warnings=(),
        company_lists=dict(lists.bank.company_lists) if lists is not None else {},
    )

    supplier = {q.id: q.source.path for q in questions}
    notices: list[ParseWarning] = []
    if len(files) > 1:
        others = ", ".join(f.bank.path for f in ordered if f is not seed)
        notices.append(
            ParseWarning(
                seed.bank.path,
                0,
                f"the bank {title!r} is merged from this file (its seed: title and ids {slug}--…) and {others}, "
                "which carry the same title",
            )
        )
    sources = []
    for f in ordered:
        superseded = [q for q in f.bank.questions if supplier[f"{slug}--{_title_slug(q)}"] != f.bank.path]
        by_newer: dict[str, list[Question]] = {}
        for q in superseded:
            by_newer.setdefault(supplier[f"{slug}--{_title_slug(q)}"], []).append(q)
        for newer_path, old in by_newer.items():
            newer = next(g for g in ordered if g.bank.path == newer_path)
            copies = {_title_slug(q): q for q in newer.bank.questions}
            differ = sum(_answer(q) != _answer(copies[_title_slug(q)]) for q in old)
            notices.append(
                ParseWarning(
                    f.bank.path,
                    0,
                    f"{len(old)} of its questions ({differ} with a different answer) are also in {newer_path}, "
                    f"which is newer ({_why_newer(f, newer, runs, seed)}): the bank keeps that file's copies, "
                    f"these are superseded: {_titles(old)}",
                )
            )
            for q in old:
                log.debug("%s:%d: %r superseded by the copy in %s", f.bank.path, q.source.line, q.title, newer_path)
        for part, winner, count in (
            (f"quick-reference table ({len(f.bank.quick_refs)} rows) is", table, len(f.bank.quick_refs)),
            (f"company lists ({len(f.bank.company_lists)}) are", lists, len(f.bank.company_lists)),
        ):
            if count and winner is not None and winner is not f:
                why = _why_newer(f, winner, runs, seed)
                notices.append(
                    ParseWarning(f.bank.path, 0, f"its {part} superseded by those in {winner.bank.path} ({why})")
                )
        sources.append(
            BankSource(
                path=f.bank.path,
                seed=f is seed,
                version=version[id(f)],
                questions=sum(q.source.path == f.bank.path for q in questions),
                superseded=len(superseded),
                quick_refs=len(quick_refs) if f is table else 0,
                company_lists=len(merged.company_lists) if f is lists else 0,
            )
        )
    return MergedBank(bank=merged, sources=tuple(sources), notices=tuple(notices))


def _answer(q: Question) -> tuple[str, str | None]:
    return q.answer_markdown, q.insight
