"""The eval set: the committed queries validated against the real index, the
dev/test split, and the validator rejecting malformed files."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
from conftest import REPO

from eval.dataset import (
    KINDS,
    DatasetError,
    EvalItem,
    index_record_ids,
    kind_counts,
    load_items,
    parse_items,
    query_key,
    select_split,
    split_of,
)
from index.engine import IngestReport
from index.store import IndexArtifact

QUERIES = REPO / "eval" / "data" / "queries.jsonl"
CONVERSATIONS = REPO / "eval" / "data" / "conversations.jsonl"
MIN_ITEMS = 200
MIN_PER_KIND = 15
L1L2 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"


@pytest.fixture(scope="module")
def record_ids(artifact: IndexArtifact) -> frozenset[str]:
    return index_record_ids(artifact)


@pytest.fixture(scope="module")
def items(record_ids: frozenset[str]) -> tuple[EvalItem, ...]:
    """The committed sets; ``load_items`` raises listing every problem if one is invalid."""
    return load_items([QUERIES, CONVERSATIONS], record_ids)


def test_every_gold_id_is_in_the_index(items: tuple[EvalItem, ...], record_ids: frozenset[str]) -> None:
    unknown = sorted({g for i in items for g in i.gold} - record_ids)
    assert unknown == []


def test_ids_and_queries_are_unique(items: tuple[EvalItem, ...]) -> None:
    assert len({i.id for i in items}) == len(items)
    assert len({query_key(i.query, i.history) for i in items}) == len(items)


def test_set_size(items: tuple[EvalItem, ...]) -> None:
    assert len(items) >= MIN_ITEMS


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_enough_items(items: tuple[EvalItem, ...], kind: str) -> None:
    assert kind_counts(items)[kind] >= MIN_PER_KIND


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_in_both_splits(items: tuple[EvalItem, ...], kind: str) -> None:
    of_kind = [i for i in items if i.kind == kind]
    assert select_split(of_kind, "dev") and select_split(of_kind, "test")


def test_split_is_about_70_30(items: tuple[EvalItem, ...]) -> None:
    share = len(select_split(items, "test")) / len(items)
    assert 0.22 <= share <= 0.38
    assert len(select_split(items, "all")) == len(items)


def test_split_is_pinned_by_the_committed_seed() -> None:
    """Changing the seed or the hash reshuffles every item: this fails first."""
    assert {i: split_of(i) for i in ("q001", "q002", "q003", "q100")} == {
        "q001": "dev",
        "q002": "dev",
        "q003": "test",
        "q100": "test",
    }


def test_adding_items_moves_no_other_item(items: tuple[EvalItem, ...], record_ids: frozenset[str]) -> None:
    lines = QUERIES.read_text(encoding="utf-8").splitlines()
    kept = [ln for n, ln in enumerate(lines) if ln.strip() and n % 3]  # drop a third of the set
    subset = {i.id: i.split for i in parse_items(kept, record_ids)}
    assert subset
    assert subset == {i.id: i.split for i in items if i.id in subset}


# -- the validator on bad files -----------------------------------------------------

GOOD = {"id": "ok", "query": "lasso vs ridge", "kind": "keyword", "gold": [L1L2], "needs_code": False}


def row(**changes: object) -> str:
    data = {**GOOD, "id": "bad", "query": "a different query", **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "bad", "query": ', "invalid JSON"),
        ('["not", "an", "object"]', "not a JSON object"),
        (row(needs_code=...), "missing field 'needs_code'"),
        (row(golds=[L1L2]), "unknown field 'golds'"),
        (row(needs_code="yes"), "'needs_code' must be a bool, got str"),
        (row(query="   "), "empty query"),
        (row(kind="paraphrse"), "unknown kind 'paraphrse'"),
        (row(gold=["machine-learning--no-such-question"]), "gold id 'machine-learning--no-such-question' is not in"),
        (row(gold=[L1L2, L1L2]), "gold repeats an id"),
        (row(kind="off_topic"), "an off_topic item must have empty gold"),
        (row(gold=[]), "a keyword item needs at least one gold id"),
        (row(kind="multi_turn"), "a multi_turn item needs its earlier messages in history"),
        (row(history=["what is lasso"]), "history is only for conversation and off_topic items"),
        (row(id="ok"), "id 'ok' already used on line 1"),
        (row(query="  Lasso  VS ridge "), "query '  Lasso  VS ridge ' repeats line 1"),
    ],
)
def test_validator_rejects(tmp_path: Path, record_ids: frozenset[str], line: str, message: str) -> None:
    path = tmp_path / "queries.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        load_items(path, record_ids)
    assert f"line 2: {message}" in str(err.value)
    assert len(err.value.problems) == 1


def test_validator_lists_every_problem(record_ids: frozenset[str]) -> None:
    lines = [json.dumps(GOOD), row(kind="nope"), row(id="x2", query="q2", gold=["missing"]), "{"]
    with pytest.raises(DatasetError) as err:
        parse_items(lines, record_ids)
    assert [p.split(":")[0] for p in err.value.problems] == ["line 2", "line 3", "line 4"]


def test_same_follow_up_in_two_conversations_is_allowed(record_ids: frozenset[str]) -> None:
    follow = {**GOOD, "kind": "multi_turn", "query": "and how do you prevent it?"}
    lines = [
        json.dumps({**follow, "id": "m1", "history": ["what is overfitting"]}),
        json.dumps({**follow, "id": "m2", "history": ["what is data leakage"]}),
    ]
    assert [i.history for i in parse_items(lines, record_ids)] == [("what is overfitting",), ("what is data leakage",)]


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no items"):
        load_items(empty)
    with pytest.raises(DatasetError, match="file not found"):
        load_items(tmp_path / "absent.jsonl")


def test_company_list_gold_is_derived_from_the_records(built: IngestReport) -> None:
    """eval/data/check_conversations.py recomputes every company_list item's gold
    from the index's records (company and narrowing from its side table) and
    checks the conversation set's shape; it prints what it found."""
    checker = runpy.run_path(str(REPO / "eval" / "data" / "check_conversations.py"))
    records = built.path / "records.json"
    assert checker["main"](str(CONVERSATIONS), str(records)) == 0


def test_the_harder_set_is_valid_against_the_records(built: IngestReport) -> None:
    """eval/data/check_hard.py: fields, kinds and counts, gold ids in the index,
    the gold order of quick-reference items, and the word overlap bound."""
    checker = runpy.run_path(str(REPO / "eval" / "data" / "check_hard.py"))
    assert checker["main"]([str(built.path / "records.json")]) == 0
