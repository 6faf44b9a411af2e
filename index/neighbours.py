"""Neighbouring subjects: questions of subjects next to the served banks that
no served bank answers (a pandas bug, a Python idiom, a NumPy error beside a
Machine Learning bank).  The abstention compares a question with them: one
whose answer evidence is only middling and that sits clearly closer to a
neighbouring subject's question than to anything in the banks is refused
(``AbstentionConfig.neighbour_margin``, eval/README.md "Neighbouring
subjects").

A neighbours folder (``QBANK_NEIGHBOURS_DIR``) holds

- ``*.txt`` lists, one ``subject<TAB>question`` per line (``#`` starts a
  comment line), and
- ``*.md`` question banks in the content format: the bank's title is the
  subject, its questions' and quick-reference rows' titles the questions.

A subject that is also the title of a served bank is skipped: once its bank
is in ``content/``, its questions are answerable.  ``neighbours/`` ships a
list made from the site's Python, Pandas and NumPy banks
(``scripts/neighbour_list.py``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.parser import BankParser

log = logging.getLogger(__name__)

NEIGHBOUR_FILES = ("neighbours.json", "neighbour_embeddings.npy")


@dataclass(frozen=True)
class Neighbours:
    """The neighbouring subjects' questions, each with its subject, text hash and vector."""

    subjects: tuple[str, ...]
    questions: tuple[str, ...]
    hashes: tuple[str, ...]
    embeddings: np.ndarray  # float32, (questions, dimension), L2-normalised

    def __len__(self) -> int:
        return len(self.questions)


def _subject_key(text: str) -> str:
    return " ".join(text.lower().split())


def read_neighbours(folder: Path | None, served: Iterable[str]) -> list[tuple[str, str]]:
    """(subject, question) pairs of the lists and banks in ``folder``, without
    subjects that are titles of ``served`` banks and without repeats; a missing
    folder or None gives none.  A line that is not ``subject<TAB>question`` is
    skipped with a warning that names it; nothing else is lost."""
    if folder is None or not folder.is_dir():
        return []
    skip = {_subject_key(s) for s in served}
    pairs: list[tuple[str, str]] = []
    for path in sorted(folder.iterdir()):
        suffix = path.suffix.lower()
        if suffix == ".txt" and path.is_file():
            pairs += _read_list(path)
        elif suffix == ".md" and path.is_file() and path.name.lower() != "readme.md":
            bank = BankParser().parse(str(path), path.read_text(encoding="utf-8-sig", errors="replace"))
            found = [(bank.bank, q.title) for q in bank.questions] + [(bank.bank, r.title) for r in bank.quick_refs]
            if not bank.questions and not bank.quick_refs:
                log.warning("%s: no questions or quick-reference rows found, skipped", path)
            pairs += found
    kept = list(dict.fromkeys((s, q) for s, q in pairs if _subject_key(s) not in skip))
    served_here = {s for s, _ in pairs if _subject_key(s) in skip}
    if served_here:
        log.info("neighbouring subjects served by a bank, left out: %s", ", ".join(sorted(served_here)))
    return kept


def _read_list(path: Path) -> list[tuple[str, str]]:
    pairs = []
    # utf-8-sig: a list saved with a byte-order mark (Windows Notepad) reads like any other.
    for number, line in enumerate(path.read_text(encoding="utf-8-sig", errors="replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        subject, tab, question = line.partition("\t")
        if not tab or not subject.strip() or not question.strip():
            log.warning("%s:%d: not 'subject<TAB>question', skipped: %.80r", path, number, line)
            continue
        pairs.append((subject.strip(), question.strip()))
    return pairs
