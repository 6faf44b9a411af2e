"""The named eval sets ``qbank eval`` runs and the CI gate covers.

``standard`` is the first set (single questions and chat conversations);
``hard`` is the harder single-message set written the way candidates type
(quick-reference topics described rather than named, long paraphrases,
close-to-domain off-topic queries).  Each is reported and gated on its own,
so a gain on one can never hide a loss on the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class EvalSet:
    name: str
    files: tuple[Path, ...]
    subdir: str  # where its reports go, under the reports folder ("" for the folder itself)
    about: str


EVAL_SETS: dict[str, EvalSet] = {
    s.name: s
    for s in (
        EvalSet(
            "standard",
            (DATA / "queries.jsonl", DATA / "conversations.jsonl"),
            "",
            "single questions by kind, and chat conversations",
        ),
        EvalSet(
            "hard",
            (DATA / "hard.jsonl",),
            "hard",
            "described quick-reference topics, situation paraphrases, near-domain off-topic",
        ),
    )
}


def choose_sets(name: str) -> tuple[EvalSet, ...]:
    """The sets named by ``--set``: one name, or ``all``."""
    if name == "all":
        return tuple(EVAL_SETS.values())
    if name not in EVAL_SETS:
        raise ValueError(f"unknown set {name!r}: use {', '.join(EVAL_SETS)} or all")
    return (EVAL_SETS[name],)
