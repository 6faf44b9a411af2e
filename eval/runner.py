"""Run retrieval modes over the eval set and score them.

A mode is one of the searcher's named pipelines (``index.search.PIPELINES``):
the API's three modes and the alternative fusions.  A later stage (a
reranker, say) is one more named pipeline in ``Searcher`` and is evaluated
like the rest.

Gold may name any record; a quick-reference row linked to a full question
is ranked as that question, so gold is mapped to the ids search returns
(``targets``) before scoring.

Conversation items (those with a ``history``) are resolved turn by turn the
way the chat resolves them (``qbank.answer.conversation``), in every mode;
for ``multi_turn`` items the last message alone is searched as well, for
contrast.  Latency is the wall time of resolution plus retrieval, with the
query-embedding cache off so no mode profits from another's embeddings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tqdm import tqdm

from eval import metrics
from eval.dataset import KINDS, SPLITS, EvalItem
from index.results import SearchResult
from index.search import PIPELINES, Searcher
from qbank.answer.conversation import ConversationResolver

DEFAULT_MODES: tuple[str, ...] = ("hybrid", "bm25", "dense")
REPORTED_HITS: tuple[int, ...] = (1, 3, 5)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one mode returned for one item."""

    item: EvalItem
    targets: tuple[str, ...]  # gold as the ids search ranks, deduplicated
    searched: str  # the query sent, after rewriting
    ranked: tuple[str, ...]  # record ids, best first
    top_title: str | None
    answered: bool  # the searcher's ``answerable`` verdict
    top_has_code: bool
    latency_ms: float
    ranked_last_message: tuple[str, ...] | None = None  # multi-turn: the last message searched alone


@dataclass(frozen=True, slots=True)
class RankingMetrics:
    n: int
    hit_curve: tuple[float, ...]  # hit@1 .. hit@k
    mrr: float
    ndcg: float

    def hit(self, k: int) -> float:
        return self.hit_curve[k - 1]


@dataclass(frozen=True, slots=True)
class SplitMetrics:
    items: int
    overall: RankingMetrics | None
    per_kind: dict[str, RankingMetrics]
    abstention: metrics.Abstention
    code_share: float | None  # needs_code items whose top answer carries a code block
    multi_turn_hit1: float | None  # conversation rewritten with its history
    multi_turn_hit1_last_message: float | None  # the last message alone
    latency_median_ms: float | None
    latency_p95_ms: float | None


@dataclass(frozen=True, slots=True)
class Failure:
    item: EvalItem
    targets: tuple[str, ...]
    target_titles: tuple[str, ...]
    searched: str
    gold_rank: int | None  # rank of the first target within k, None when absent
    top_id: str | None
    top_title: str | None
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModeReport:
    mode: str
    k: int
    outcomes: tuple[Outcome, ...]
    splits: dict[str, SplitMetrics]  # "dev", "test" and, when both ran, "all"
    failures: tuple[Failure, ...]
    seconds: float


def ranking_metrics(outcomes: Sequence[Outcome], k: int) -> RankingMetrics | None:
    """Ranking metrics over the answerable outcomes; None when there are none."""
    scored = [o for o in outcomes if o.targets]
    if not scored:
        return None
    n = len(scored)
    return RankingMetrics(
        n=n,
        hit_curve=tuple(sum(metrics.hit_at(o.ranked, o.targets, c) for o in scored) / n for c in range(1, k + 1)),
        mrr=sum(metrics.reciprocal_rank(o.ranked, o.targets, k) for o in scored) / n,
        ndcg=sum(metrics.ndcg(o.ranked, o.targets, k) for o in scored) / n,
    )


def split_metrics(outcomes: Sequence[Outcome], k: int) -> SplitMetrics:
    per_kind = {kind: m for kind in KINDS if (m := ranking_metrics([o for o in outcomes if o.item.kind == kind], k))}
    code = [o for o in outcomes if o.item.needs_code]
    multi = [o for o in outcomes if o.item.kind == "multi_turn" and o.targets]
    latencies = [o.latency_ms for o in outcomes]
    return SplitMetrics(
        items=len(outcomes),
        overall=ranking_metrics(outcomes, k),
        per_kind=per_kind,
        abstention=metrics.abstention((not o.item.answerable, not o.answered) for o in outcomes),
        code_share=metrics.ratio(sum(o.top_has_code for o in code), len(code)),
        multi_turn_hit1=metrics.mean(metrics.hit_at(o.ranked, o.targets, 1) for o in multi),
        multi_turn_hit1_last_message=metrics.mean(
            metrics.hit_at(o.ranked_last_message or (), o.targets, 1) for o in multi
        ),
        latency_median_ms=metrics.percentile(latencies, 50),
        latency_p95_ms=metrics.percentile(latencies, 95),
    )


class EvalRunner:
    """Runs the chosen modes over eval items with one ``Searcher``."""

    def __init__(
        self, searcher: Searcher, modes: Sequence[str] = DEFAULT_MODES, k: int = 10, progress: bool = False
    ) -> None:
        if not modes:
            raise ValueError("no modes to evaluate")
        unknown = [m for m in modes if m not in PIPELINES]
        if unknown:
            raise ValueError(f"unknown mode(s) {', '.join(unknown)}: use {', '.join(PIPELINES)}")
        if k < max(REPORTED_HITS):
            raise ValueError(f"k must be at least {max(REPORTED_HITS)} (hit@{max(REPORTED_HITS)} is reported), got {k}")
        self.searcher = searcher
        self.ranked_as = {c.record_id: c.doc_id for c in searcher.artifact.chunks}
        self.modes = tuple(modes)
        self.k = k
        self.progress = progress

    def run(self, items: Sequence[EvalItem]) -> tuple[ModeReport, ...]:
        return tuple(self.run_mode(mode, items) for mode in self.modes)

    def run_mode(self, mode: str, items: Sequence[EvalItem]) -> ModeReport:
        if not items:
            raise ValueError("no eval items to run")

        def retrieve(query: str) -> SearchResult:
            return self.searcher.search(query, k=self.k, mode=mode, use_cache=False)

        resolver = ConversationResolver(self.searcher, k=self.k, mode=mode, use_cache=False)

        start = time.perf_counter()
        retrieve(items[0].query)  # warm-up, untimed
        outcomes = tuple(
            self._evaluate(retrieve, resolver, item)
            for item in tqdm(items, desc=f"eval {mode}", unit="q", disable=not self.progress, leave=False)
        )
        present = [s for s in SPLITS if any(o.item.split == s for o in outcomes)]
        groups = {s: [o for o in outcomes if o.item.split == s] for s in present}
        if len(present) > 1:
            groups["all"] = list(outcomes)
        return ModeReport(
            mode=mode,
            k=self.k,
            outcomes=outcomes,
            splits={name: split_metrics(group, self.k) for name, group in groups.items()},
            failures=tuple(f for o in outcomes if (f := self._failure(o)) is not None),
            seconds=time.perf_counter() - start,
        )

    def _evaluate(
        self, retrieve: Callable[[str], SearchResult], resolver: ConversationResolver, item: EvalItem
    ) -> Outcome:
        """One item: a single message is searched; a conversation is resolved
        turn by turn the way the chat does it (``ConversationResolver``)."""
        started = time.perf_counter()
        if item.history:
            turn = resolver.resolve([*item.history, item.query])
            searched, ranked = turn.query, resolver.ranked(turn)
            answered = turn.kind == "company_list" or bool(turn.result and turn.result.answerable)
            top_hit = turn.result.hits[0] if turn.result and turn.result.hits and turn.kind != "company_list" else None
        else:
            result = retrieve(item.query)
            searched, ranked, answered = item.query, tuple(h.record.id for h in result.hits), result.answerable
            top_hit = result.hits[0] if result.hits else None
        latency = (time.perf_counter() - started) * 1000
        last_message = None
        if item.kind == "multi_turn":
            last_message = tuple(h.record.id for h in retrieve(item.query).hits)
        records = self.searcher.records
        top = records.get(ranked[0]) if ranked else None
        return Outcome(
            item=item,
            targets=self.targets(item),
            searched=searched,
            ranked=ranked,
            top_title=top.title if top else None,
            answered=answered,
            top_has_code=bool(top_hit and top_hit.record is top and top_hit.code),
            latency_ms=latency,
            ranked_last_message=last_message,
        )

    def targets(self, item: EvalItem) -> tuple[str, ...]:
        """The item's gold as the ids search ranks, in gold order, without repeats."""
        return tuple(dict.fromkeys(self.ranked_as.get(g, g) for g in item.gold))

    def _failure(self, o: Outcome) -> Failure | None:
        item, problems = o.item, []
        rank = metrics.first_hit_rank(o.ranked, o.targets) if o.targets else None
        if item.answerable and rank != 1:
            problems.append(f"gold ranked {rank}" if rank else f"gold not in the top {self.k}")
        if item.answerable and not o.answered:
            problems.append("abstained on an answerable query")
        if not item.answerable and o.answered:
            problems.append("answered an off-topic query")
        if item.needs_code and not o.top_has_code:
            problems.append("top answer has no code block")
        if not problems:
            return None
        records = self.searcher.records
        return Failure(
            item=item,
            targets=o.targets,
            target_titles=tuple(records[t].title if t in records else "(not in the index)" for t in o.targets),
            searched=o.searched,
            gold_rank=rank,
            top_id=o.ranked[0] if o.ranked else None,
            top_title=o.top_title,
            problems=tuple(problems),
        )
