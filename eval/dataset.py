"""The eval query set: loading, validation and the dev/test split.

``eval/data/queries.jsonl`` holds one JSON object per line::

    {"id": "...", "query": "...", "kind": "paraphrase", "gold": ["record-id", ...],
     "needs_code": false, "history": ["earlier user message", ...]}

``gold`` lists the records that answer the query, most preferred first (empty
for ``off_topic``); ``history`` (the earlier user messages) is given for the
conversation kinds only.  ``eval/data/conversations.jsonl`` holds the chat
conversations in the same format.

The split is a property of each item alone: a hash of the committed seed and
the item's id puts about 30% of items in ``test``.  Adding or removing items
never moves another item between splits.  Tune on dev, report both.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.store import IndexArtifact

KINDS: tuple[str, ...] = (
    "paraphrase",
    "keyword",
    "typo",
    "acronym",
    "code",
    "answer_detail",
    "quick_ref",
    "company",
    "off_topic",
    "multi_turn",
    "topic_switch",
    "follow_up",
    "company_list",
)
# Kinds whose last message comes after earlier user messages (``history``).  An ``off_topic``
# item may have a history too: a question the banks do not cover, asked mid-chat.
CONVERSATION_KINDS: tuple[str, ...] = ("multi_turn", "topic_switch", "follow_up", "company_list")
SPLITS: tuple[str, ...] = ("dev", "test")
SPLIT_SEED = "qbank-eval-1"  # committed: changing it reshuffles every item
TEST_SHARE = 0.3

_REQUIRED: dict[str, type] = {"id": str, "query": str, "kind": str, "gold": list, "needs_code": bool}
_OPTIONAL: dict[str, type] = {"history": list}


@dataclass(frozen=True, slots=True)
class EvalItem:
    id: str
    query: str
    kind: str
    gold: tuple[str, ...]
    needs_code: bool
    history: tuple[str, ...]
    split: str

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


class DatasetError(ValueError):
    """The query file is malformed; ``problems`` lists every fault with its line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the eval set:\n{listing}")


def split_of(item_id: str, seed: str = SPLIT_SEED, test_share: float = TEST_SHARE) -> str:
    """``dev`` or ``test`` for one item, from its id alone."""
    digest = hashlib.sha256(f"{seed}\0{item_id}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_share else "dev"


def index_record_ids(artifact: IndexArtifact) -> frozenset[str]:
    """Every record id in the index, full questions and quick-reference rows:
    the ids gold may name."""
    return frozenset(artifact.records)


def query_key(query: str, history: Iterable[str] = ()) -> str:
    """Uniqueness key: case and whitespace do not make a query new.  A
    multi-turn item's query is its whole conversation."""
    return "\n".join(" ".join(turn.lower().split()) for turn in (*history, query))


def _check_row(row: Any, record_ids: Collection[str] | None) -> list[str]:
    if not isinstance(row, dict):
        return ["not a JSON object"]
    problems = [f"missing field {name!r}" for name in _REQUIRED if name not in row]
    problems += [f"unknown field {name!r}" for name in row if name not in _REQUIRED and name not in _OPTIONAL]
    for name, kind in {**_REQUIRED, **_OPTIONAL}.items():
        if name in row and not isinstance(row[name], kind):
            problems.append(f"{name!r} must be a {kind.__name__}, got {type(row[name]).__name__}")
    if problems:
        return problems
    if not row["id"].strip():
        problems.append("empty id")
    if not row["query"].strip():
        problems.append("empty query")
    kind, gold, history = row["kind"], row["gold"], row.get("history", [])
    if kind not in KINDS:
        problems.append(f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
    if not all(isinstance(g, str) for g in gold):
        problems.append("gold must be a list of record id strings")
    elif len(set(gold)) != len(gold):
        problems.append("gold repeats an id")
    elif kind == "off_topic" and gold:
        problems.append("an off_topic item must have empty gold")
    elif kind != "off_topic" and not gold:
        problems.append(f"a {kind} item needs at least one gold id")
    elif record_ids is not None:
        problems += [f"gold id {g!r} is not in the index" for g in gold if g not in record_ids]
    if not all(isinstance(h, str) and h.strip() for h in history):
        problems.append("history must be a list of non-empty strings")
    elif kind in CONVERSATION_KINDS and not history:
        problems.append(f"a {kind} item needs its earlier messages in history")
    elif kind not in (*CONVERSATION_KINDS, "off_topic") and history:
        problems.append(f"history is only for conversation and off_topic items ({', '.join(CONVERSATION_KINDS)})")
    return problems


def parse_items(
    lines: Iterable[str], record_ids: Collection[str] | None = None, source: str = "<queries>"
) -> tuple[EvalItem, ...]:
    """Parse and validate JSONL lines; raise ``DatasetError`` listing every problem.

    With ``record_ids``, every gold id must be one of them.
    """
    items: list[EvalItem] = []
    problems: list[str] = []
    seen_ids: dict[str, int] = {}
    seen_queries: dict[str, int] = {}
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: invalid JSON ({exc.msg})")
            continue
        row_problems = _check_row(row, record_ids)
        problems += [f"line {lineno}: {p}" for p in row_problems]
        if row_problems:
            continue
        if row["id"] in seen_ids:
            problems.append(f"line {lineno}: id {row['id']!r} already used on line {seen_ids[row['id']]}")
        seen_ids.setdefault(row["id"], lineno)
        key = query_key(row["query"], row.get("history", []))
        if key in seen_queries:
            problems.append(f"line {lineno}: query {row['query']!r} repeats line {seen_queries[key]}")
        seen_queries.setdefault(key, lineno)
        items.append(
            EvalItem(
                id=row["id"],
                query=row["query"],
                kind=row["kind"],
                gold=tuple(row["gold"]),
                needs_code=row["needs_code"],
                history=tuple(row.get("history", [])),
                split=split_of(row["id"]),
            )
        )
    if not items and not problems:
        problems.append("no items")
    if problems:
        raise DatasetError(source, problems)
    return tuple(items)


def load_items(paths: Path | Sequence[Path], record_ids: Collection[str] | None = None) -> tuple[EvalItem, ...]:
    """The items of one query file, or of several (ids unique across them)."""
    paths = [paths] if isinstance(paths, Path) else list(paths)
    items: list[EvalItem] = []
    for path in paths:
        if not path.is_file():
            raise DatasetError(str(path), ["file not found"])
        items += parse_items(path.read_text(encoding="utf-8").splitlines(), record_ids, source=str(path))
    repeated = sorted(i for i, n in Counter(item.id for item in items).items() if n > 1)
    if repeated:
        raise DatasetError(", ".join(map(str, paths)), [f"id {i!r} is used in more than one file" for i in repeated])
    return tuple(items)


def select_split(items: Iterable[EvalItem], split: str) -> tuple[EvalItem, ...]:
    """Items of one split, or all of them for ``all``."""
    if split not in (*SPLITS, "all"):
        raise ValueError(f"unknown split {split!r}: use dev, test or all")
    return tuple(i for i in items if split in ("all", i.split))


def kind_counts(items: Iterable[EvalItem]) -> Counter[str]:
    return Counter(i.kind for i in items)
