"""Votes replayed over the eval sets, to judge the bounded feedback boost
(``index.components.boost``): what adversarial votes change, and what
agreeing learners fix.  ``tests/test_boost_eval.py`` holds the boost to it;
``python -m eval.boost_replay`` prints the figures (README, "Feedback in
ranking").

Every answerable single-question item of the sets counts, all splits: this
judges the boost's bounds, not retrieval, and tunes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eval.dataset import EvalItem, index_record_ids, load_items
from eval.sets import EVAL_SETS
from index.components.boost import BoostConfig, Vote, VoteBook
from index.search import Searcher
from index.store import IndexArtifact

K = 10
Ranking = tuple[tuple[str, float], ...]  # (record id, score) best first


def replay_items(artifact: IndexArtifact) -> tuple[EvalItem, ...]:
    files = [f for s in EVAL_SETS.values() for f in s.files]
    return tuple(i for i in load_items(files, index_record_ids(artifact)) if i.answerable and not i.history)


def rankings(searcher: Searcher, items: Iterable[EvalItem]) -> dict[str, Ranking]:
    return {i.id: tuple((h.record.id, round(h.score, 6)) for h in searcher.search(i.query, k=K).hits) for i in items}


def gold_rank(item: EvalItem, ranking: Ranking) -> int:
    """1-based rank of the first gold record; K + 1 when none is in the top K."""
    return next((n for n, (record, _) in enumerate(ranking, 1) if record in item.gold), K + 1)


def adversarial_votes(items: Sequence[EvalItem], baseline: dict[str, Ranking], learners: int) -> list[Vote]:
    """For every item: 100 👎 on its right answer and 100 👍 on the best wrong
    one, for its own query, from ``learners`` learners taking turns."""
    cast = []
    for item in items:
        wrong = next((record for record, _ in baseline[item.id] if record not in item.gold), None)
        for n in range(100):
            voter = f"mallory-{n % learners}"
            cast.append(Vote(item.gold[0], voter, False, item.query, float(n)))
            if wrong is not None:
                cast.append(Vote(wrong, voter, True, item.query, float(n)))
    return cast


FAR_QUERY = "how long should sourdough proof before it goes in the oven"  # no eval item's neighbour


def far_votes(items: Sequence[EvalItem], learners: int) -> list[Vote]:
    """👎 on every item's right answer from ``learners`` learners, but for a
    query about something else: outside every item's neighbourhood."""
    return [Vote(item.gold[0], f"learner-{n}", False, FAR_QUERY, float(n)) for item in items for n in range(learners)]


def misses(items: Sequence[EvalItem], baseline: dict[str, Ranking]) -> list[EvalItem]:
    """Items whose right answer is in the top K but not first."""
    return [i for i in items if 1 < gold_rank(i, baseline[i.id]) <= K]


def planted_votes(missed: Sequence[EvalItem], learners: int) -> list[Vote]:
    """👍 on each missed item's right answer, for its own query, from ``learners`` learners."""
    return [Vote(item.gold[0], f"learner-{n}", True, item.query, float(n)) for item in missed for n in range(learners)]


@dataclass(frozen=True, slots=True)
class Replay:
    changed: list[str]  # items whose top K (records or scores) differ from the baseline
    worse: list[str]  # items whose right answer ranks lower than in the baseline
    fixed: list[str]  # items now right at rank 1 that were not


def replay(
    searcher: Searcher, book: VoteBook, items: Sequence[EvalItem], baseline: dict[str, Ranking], cast: list[Vote]
) -> Replay:
    """Rank ``items`` with ``cast`` in ``book`` (the book ``searcher`` boosts with), then empty it again."""
    book.replace(cast)
    try:
        after = rankings(searcher, items)
    finally:
        book.replace([])
    return Replay(
        changed=[i.id for i in items if after[i.id] != baseline[i.id]],
        worse=[i.id for i in items if gold_rank(i, after[i.id]) > gold_rank(i, baseline[i.id])],
        fixed=[i.id for i in items if gold_rank(i, after[i.id]) == 1 < gold_rank(i, baseline[i.id])],
    )


def main() -> None:
    from pathlib import Path

    from index.embed import Embedder
    from index.store import load_artifact
    from qbank.settings import get_settings

    settings = get_settings()
    embedder = Embedder().load()
    artifact = load_artifact(Path(settings.index_dir), embedder.model_name, embedder.dimension, embedder.describe())
    config = BoostConfig(
        settings.feedback_boost_min_learners, settings.feedback_boost_cap, settings.feedback_boost_neighbourhood
    )
    book = VoteBook(embedder.encode)
    searcher = Searcher(artifact, embedder, votes=book, boost=config)
    items = replay_items(artifact)
    baseline = rankings(searcher, items)
    print(f"{len(items)} answerable single-question items of both eval sets (all splits); {config}")
    # the last: a crowd past the minimum (ids minted for it) shows what the cap alone bounds
    for learners in (1, config.min_learners - 1, 2 * config.min_learners):
        r = replay(searcher, book, items, baseline, adversarial_votes(items, baseline, learners))
        print(
            f"adversarial, {learners} learner(s): 100 👎 on every right answer + 100 👍 on every best wrong one: "
            f"{len(r.changed)} rankings changed, {len(r.worse)} worse"
        )
    missed = misses(items, baseline)
    for learners in (config.min_learners, 2 * config.min_learners):
        r = replay(searcher, book, items, baseline, planted_votes(missed, learners))
        print(
            f"planted, {learners} learners 👍 the right answer of each of {len(missed)} misses (gold in top {K}): "
            f"{len(r.fixed)} fixed, {len(r.worse)} items worse"
        )


if __name__ == "__main__":
    main()
