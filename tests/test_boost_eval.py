"""The feedback boost replayed over both eval sets with the packaged model and
the real index (eval.boost_replay): adversarial votes change no ranking,
several learners who agree fix planted misses, and no item gets worse for it."""

from __future__ import annotations

import pytest

from eval.boost_replay import (
    Ranking,
    adversarial_votes,
    far_votes,
    misses,
    planted_votes,
    rankings,
    replay,
    replay_items,
)
from eval.dataset import EvalItem
from index.components.boost import BoostConfig, VoteBook
from index.embed import Embedder
from index.search import Searcher
from index.store import IndexArtifact

pytestmark = pytest.mark.slow
CONFIG = BoostConfig()  # the settings' defaults: 3 learners, cap 1.25, neighbourhood 0.75


@pytest.fixture(scope="module")
def items(artifact: IndexArtifact) -> tuple[EvalItem, ...]:
    return replay_items(artifact)


@pytest.fixture(scope="module")
def book(embedder: Embedder) -> VoteBook:
    return VoteBook(embedder.encode)


@pytest.fixture(scope="module")
def boosted(artifact: IndexArtifact, embedder: Embedder, book: VoteBook) -> Searcher:
    return Searcher(artifact, embedder, votes=book, boost=CONFIG)


@pytest.fixture(scope="module")
def baseline(boosted: Searcher, items: tuple[EvalItem, ...]) -> dict[str, Ranking]:
    return rankings(boosted, items)


def test_without_votes_the_boosted_search_is_the_plain_one(
    searcher: Searcher, items: tuple[EvalItem, ...], baseline: dict[str, Ranking]
) -> None:
    assert len(items) > 300
    assert rankings(searcher, items) == baseline


@pytest.mark.parametrize("learners", [1, CONFIG.min_learners - 1])
def test_adversarial_votes_from_too_few_learners_change_no_ranking(
    boosted: Searcher, book: VoteBook, items: tuple[EvalItem, ...], baseline: dict[str, Ranking], learners: int
) -> None:
    """For every item at once: 100 👎 on its right answer and 100 👍 on the best
    wrong one, from one learner (then from one fewer than the minimum)."""
    result = replay(boosted, book, items, baseline, adversarial_votes(items, baseline, learners))
    assert result.changed == []


def test_a_crowd_voting_for_another_query_changes_no_ranking(
    boosted: Searcher, book: VoteBook, items: tuple[EvalItem, ...], baseline: dict[str, Ranking]
) -> None:
    """Twice the minimum of learners 👎 every item's right answer, for a
    question about baking: no eval query is in that neighbourhood."""
    result = replay(boosted, book, items, baseline, far_votes(items, 2 * CONFIG.min_learners))
    assert result.changed == []


def test_learners_who_agree_fix_planted_misses_and_make_no_item_worse(
    boosted: Searcher, book: VoteBook, items: tuple[EvalItem, ...], baseline: dict[str, Ranking]
) -> None:
    """Every miss whose right answer is in the top 10 gets 👍 on it from twice
    the minimum of learners, for its own query: at least half rise to the
    top, and no item loses rank (the planted ones included)."""
    missed = misses(items, baseline)
    assert len(missed) >= 10  # both sets have misses to plant votes on
    result = replay(boosted, book, items, baseline, planted_votes(missed, 2 * CONFIG.min_learners))
    assert result.worse == []
    assert len(result.fixed) >= len(missed) // 2, f"{len(result.fixed)} of {len(missed)} planted misses fixed"
    assert set(result.fixed) <= {i.id for i in missed}
