"""``qbank tune``: fit the fusion weights and abstention floors of the index's
model on the eval sets' dev split, and store them with the index.

Every dev item (single messages of every named set) is retrieved once; the
per-record lexical and dense scores and the abstention evidence (the best
chunk's cosine, the best sentence unit's when the index has units, BM25,
vocabulary) are kept, and each setting of a small grid is then scored on
them without searching again (the fused scores of all items are one matrix
per setting).  Fusion is
chosen by hit@1 over answerable items of every set together (MRR, then
closeness to the current weights, break ties) among the settings that leave
no set worse, and kept only when it ranks at least two more items first;
the floors by off-topic abstention recall with at most
``max_false_abstain`` of answerable queries refused (fewer refusals, then
closeness, break ties), and, when the current floors are within that
budget already, only among floors that leave every set as good (no lower
recall, no more answerable queries refused), on the dense evidence search
uses for this index (the calibration records which).  The test split is never read: run
``qbank eval`` afterwards to see what the fit does there.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
from tqdm import tqdm

from eval.dataset import EvalItem
from index.calibration import Calibration
from index.components import AbstentionConfig, FusionWeights
from index.components.abstain import dense_evidence
from index.components.fusion import blend
from index.filters import Filters
from index.search import Searcher

FUSION_GRID: dict[str, tuple[float, ...]] = {
    "dense_weight": (0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75),
    "saturation": (10.0, 15.0, 25.0, 40.0),
    "row_dense_weight": (0.55, 0.65, 0.75, 0.85, 0.95),
    "row_bm25_weight": (0.0, 0.35),
    "row_bias": (0.0, 0.03, 0.06, 0.09, 0.12),
    "sentence_weight": (0.0, 0.1, 0.2, 0.3),
}
ABSTENTION_GRID: dict[str, tuple[float, ...]] = {
    "dense_floor": (0.33, 0.35, 0.37, 0.39, 0.41, 0.43, 0.45, 0.47, 0.49),
    "dense_low": (0.13, 0.15, 0.17, 0.19, 0.21, 0.23, 0.25, 0.27, 0.29, 0.31, 0.33),
    "bm25_floor": (5.0, 6.0, 7.5, 9.0, 11.0),
    "min_idf": (3.0, 3.5, 4.0),
    "long_chunk_floor": (0.0, 0.2, 0.24, 0.28),
}


def abstention_settings(
    grid: Mapping[str, Sequence[float]] = ABSTENTION_GRID, start: AbstentionConfig | None = None
) -> Iterator[AbstentionConfig]:
    """Every setting of ``grid`` (``AbstentionConfig`` field -> values) that is a valid
    rule: the low cosine floor not above the answering one.  Fields the grid does not
    vary (``neighbour_margin``) are ``start``'s (default: the built-in ones)."""
    base = start or AbstentionConfig()
    for values in itertools.product(*grid.values()):
        setting = dict(zip(grid, values, strict=True))
        if setting["dense_low"] <= setting["dense_floor"]:
            yield replace(base, **setting)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one dev item's retrieval gave, enough to re-score any setting."""

    item: EvalItem
    targets: frozenset[int]  # record positions (Searcher.doc_ids) that count as right
    lexical: np.ndarray
    dense: np.ndarray
    pool: np.ndarray  # records the item's filters allow
    company_only: bool  # a company list: fusion does not rank it
    top_dense: float
    top_bm25: float
    vocab_idf: float  # best idf of the topic words when all are vocabulary, else -1
    top_sentence: float | None = None  # best cosine of the dense candidates' units (None: no units there)
    evidence: np.ndarray | None = None  # per record: max(best chunk, best unit) cosine (None: no units)
    short: bool = False  # few enough topic words for the sentence bonus (FusionWeights.sentence_max_terms)
    top_neighbour: float | None = None  # best cosine of a neighbouring subject's question (None: none indexed)
    n_terms: int | None = None  # topic words (AbstentionConfig.long_terms; 0: none, refused); None: not known

    @property
    def dense_evidence(self) -> float:
        """The abstention rule's dense side, as search computes it."""
        return dense_evidence(self.top_dense, self.top_sentence)


@dataclass(frozen=True, slots=True)
class FusionFit:
    weights: FusionWeights
    hit1: float
    mrr: float
    n: int


@dataclass(frozen=True, slots=True)
class AbstentionFit:
    config: AbstentionConfig
    recall: float  # off-topic items refused
    false_abstain: float  # answerable items refused
    off_topic: int
    answerable: int


def collect(
    searcher: Searcher, items: Iterable[EvalItem], targets: Callable[[EvalItem], Sequence[str]], progress: bool = False
) -> tuple[Evidence, ...]:
    """Retrieve every single-message item once (query cache off)."""
    position = {d: i for i, d in enumerate(searcher.doc_ids)}
    bonus = searcher.sentence_bonus
    out = []
    chosen = [i for i in items if not i.history]
    for item in tqdm(chosen, desc="retrieving dev items", unit="q", disable=not progress, leave=False):
        analyzed = searcher.analyzer.run(item.query)
        filters = Filters().with_company(analyzed.companies[0]) if analyzed.companies else Filters()
        lexical = searcher.aggregate.run(searcher.lexical.run(analyzed))
        cosines = searcher.dense.run(analyzed, use_cache=False)
        dense = searcher.aggregate.run(cosines)
        vocab_idf = searcher.abstention.vocab_idf(analyzed)
        out.append(
            Evidence(
                item=item,
                targets=frozenset(position[t] for t in targets(item) if t in position),
                lexical=lexical.scores.astype(np.float64),
                dense=dense.scores.astype(np.float64),
                pool=searcher.filter.run(filters),
                company_only=analyzed.company_only,
                top_dense=float(dense.scores.max()),
                top_bm25=float(lexical.scores.max()),
                vocab_idf=vocab_idf,
                top_sentence=searcher.abstention.best_sentence(cosines),
                evidence=bonus.signal(dense, cosines) if bonus is not None else None,
                short=bonus is not None and bonus.is_short(analyzed),
                top_neighbour=searcher.abstention.best_neighbour(cosines),
                n_terms=len(analyzed.topic_terms),
            )
        )
    return tuple(out)


class FusionScorer:
    """Scores fusion settings on collected evidence, all items at once."""

    def __init__(self, evidence: Sequence[Evidence], title_only: np.ndarray) -> None:
        ranked = [e for e in evidence if e.targets and not e.company_only]
        if not ranked:
            raise ValueError("no answerable single-message dev items to fit the fusion on")
        self.n = len(ranked)
        self.lexical = np.stack([e.lexical for e in ranked])
        self.dense = np.stack([e.dense for e in ranked])
        self.allowed = np.zeros_like(self.dense, dtype=bool)
        self.gold = np.zeros_like(self.dense, dtype=bool)
        for row, e in enumerate(ranked):
            self.allowed[row, e.pool] = True
            self.gold[row, list(e.targets)] = True
        self.rows = np.asarray(title_only, dtype=bool)[None, :]
        # The sentence bonus's evidence, zero for items it does not apply to (long, or no units).
        # "Short" was decided at collect time with the searcher's sentence_max_terms: the grid
        # varies sentence_weight only, never sentence_max_terms.
        self.sentence = np.stack(
            [e.evidence if e.evidence is not None and e.short else np.zeros_like(e.dense) for e in ranked]
        )

    def score(self, w: FusionWeights, k: int = 10) -> tuple[float, float]:
        """hit@1 and MRR@k of ``w`` (ties between records broken by position, as search does)."""
        bm25 = self.lexical / (self.lexical + w.saturation)
        fused, _ = blend(bm25, self.dense, w.dense_weight, w.bm25_weight, self.rows, w.row_weights)
        fused = (fused + w.sentence_weight * self.sentence).astype(np.float32)
        fused = np.where(self.allowed, fused, -np.inf)
        order = np.argsort(-fused, axis=1, kind="stable")[:, :k]
        hits = np.take_along_axis(self.gold, order, axis=1)
        first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)
        hit1 = float(np.mean(first == 1))
        mrr = float(np.mean(np.where(first > 0, 1.0 / np.maximum(first, 1), 0.0)))
        return hit1, mrr


def _distance(a: FusionWeights | AbstentionConfig, b: FusionWeights | AbstentionConfig) -> float:
    """How far two settings are apart (sum of absolute differences), to prefer the nearer of equals."""
    return float(sum(abs(float(getattr(a, f.name)) - float(getattr(b, f.name))) for f in fields(a)))


def fit_fusion(
    evidence: Mapping[str, Sequence[Evidence]],
    title_only: np.ndarray,
    start: FusionWeights,
    grid: dict[str, tuple[float, ...]] = FUSION_GRID,
    min_gain: int = 2,
) -> tuple[FusionFit, FusionFit]:
    """The current weights' figures, and the grid's best setting over every
    set's dev items together among those that rank no set's items worse
    (hit@1 not lower, MRR not more than 0.002 lower), when it ranks at least
    ``min_gain`` more items first; else the current weights again (on a flat
    objective a one-item gain at a distant setting is noise, not calibration)."""
    scorers = {name: FusionScorer(ev, title_only) for name, ev in evidence.items()}
    n = sum(sc.n for sc in scorers.values())

    def pooled(w: FusionWeights) -> tuple[float, float, dict[str, tuple[float, float]]]:
        per = {name: sc.score(w) for name, sc in scorers.items()}
        hit1 = sum(per[name][0] * sc.n for name, sc in scorers.items()) / n
        mrr = sum(per[name][1] * sc.n for name, sc in scorers.items()) / n
        return hit1, mrr, per

    hit1, mrr, base = pooled(start)
    before = FusionFit(start, hit1, mrr, n)
    best: tuple[tuple[float, float, float], FusionFit] | None = None
    for values in itertools.product(*grid.values()):
        setting = dict(zip(grid, values, strict=True))
        w = FusionWeights(**{**asdict(start), **setting, "bm25_weight": round(1.0 - setting["dense_weight"], 6)})
        hit1, mrr, per = pooled(w)
        if any(per[name][0] < base[name][0] or per[name][1] < base[name][1] - 0.002 for name in per):
            continue
        key = (hit1, mrr, -_distance(w, start))
        if best is None or key > best[0]:
            best = (key, FusionFit(w, hit1, mrr, n))
    if best is None or round((best[1].hit1 - before.hit1) * n) < min_gain:
        return before, before
    return before, best[1]


def abstention_figures(evidence: Sequence[Evidence], cfg: AbstentionConfig) -> AbstentionFit:
    """Off-topic recall and false-abstain rate of ``cfg`` (both retrievers, as hybrid search decides)."""
    refused_off = refused_ok = off = ok = 0
    for e in evidence:
        # as search decides: a company list answers, a query with no topic word does not
        answers = e.company_only or (
            e.n_terms != 0
            and cfg.answers(e.dense_evidence, e.top_bm25, e.vocab_idf, e.top_neighbour, e.top_dense, e.n_terms or 0)
        )
        if e.item.answerable:
            ok += 1
            refused_ok += not answers
        else:
            off += 1
            refused_off += not answers
    return AbstentionFit(cfg, refused_off / off if off else 1.0, refused_ok / ok if ok else 0.0, off, ok)


def fit_abstention(
    evidence: Sequence[Evidence] | Mapping[str, Sequence[Evidence]],
    start: AbstentionConfig,
    max_false_abstain: float = 0.03,
    grid: dict[str, tuple[float, ...]] = ABSTENTION_GRID,
) -> tuple[AbstentionFit, AbstentionFit]:
    """The current floors' figures, and the grid's best within the false-abstain budget
    (the current floors when no setting keeps within it).  Given the evidence per
    set, and current floors already within the budget, a setting must also leave
    every set as it was or better (off-topic recall not lower, no more answerable
    items refused), as ``fit_fusion`` does: pooled figures alone would trade one
    set's answerable queries for another set's refusals; and it must refuse more
    off-topic items than they do.  Floors within the budget are there for the
    recall: fewer false abstains at the same recall do not move them (one dev item
    answered or refused otherwise made such ties come and go)."""
    by_set: dict[str, Sequence[Evidence]] = dict(evidence) if isinstance(evidence, Mapping) else {}
    pooled: list[Evidence] = (
        [e for ev in by_set.values() for e in ev] if isinstance(evidence, Mapping) else list(evidence)
    )
    before = abstention_figures(pooled, start)
    floor = {name: abstention_figures(ev, start) for name, ev in by_set.items()}
    guard = bool(floor) and before.false_abstain <= max_false_abstain
    best: tuple[tuple[float, float, float], AbstentionFit] | None = None
    for cfg in abstention_settings(grid, start):
        fit = abstention_figures(pooled, cfg)
        if fit.false_abstain > max_false_abstain:
            continue
        if guard and fit.recall <= before.recall + 1e-9 and fit.config != start:
            continue
        if guard and any(_worse(abstention_figures(by_set[name], fit.config), was) for name, was in floor.items()):
            continue
        key = (fit.recall, -fit.false_abstain, -_distance(fit.config, start))
        if best is None or key > best[0]:
            best = (key, fit)
    return before, best[1] if best else before


def _worse(fit: AbstentionFit, was: AbstentionFit) -> bool:
    """Fewer off-topic items refused, or more answerable ones, than ``was``."""
    return fit.recall < was.recall - 1e-9 or fit.false_abstain > was.false_abstain + 1e-9


def calibration_for(
    searcher: Searcher, fusion: FusionFit, abstention: AbstentionFit, before: tuple[FusionFit, AbstentionFit], sets: str
) -> Calibration:
    manifest = searcher.artifact.manifest
    return Calibration(
        model=manifest.model,
        encoder=dict(manifest.encoder),
        fusion=fusion.weights,
        abstention=abstention.config,
        abstention_evidence=searcher.abstention.evidence,
        fitted={
            "date": dt.date.today().isoformat(),
            "sets": sets,
            "split": "dev",
            "items": fusion.n,
            "off_topic": abstention.off_topic,
            "before": {
                "hit@1": round(before[0].hit1, 4),
                "mrr@10": round(before[0].mrr, 4),
                "abstain_recall": round(before[1].recall, 4),
                "false_abstain_rate": round(before[1].false_abstain, 4),
            },
            "after": {
                "hit@1": round(fusion.hit1, 4),
                "mrr@10": round(fusion.mrr, 4),
                "abstain_recall": round(abstention.recall, 4),
                "false_abstain_rate": round(abstention.false_abstain, 4),
            },
        },
    )
