"""Abstention: is the best record good enough to answer with, or off-topic?

The dense evidence is the best chunk's cosine, or, when the index has the
answers' sentence units (``index.sentences``), the larger of that and the
best unit's cosine: a short query about one idea of a long section ("gini
impurity") is closer to the sentence that states it than to the section.
The floors differ by evidence: ``AbstentionConfig()`` is fitted on dev for
the packaged model with sentence units, ``CHUNK_ONLY_FLOORS`` for an index
built before them (eval/README.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.components.scores import ChunkScores, RecordScores
from index.components.units import UnitScorer
from index.query import AnalyzedQuery
from index.sparse import SparseIndex


@dataclass(frozen=True, slots=True)
class AbstentionConfig:
    """Floors calibrated on the eval set's dev split (eval/README.md), for
    dense evidence with sentence units."""

    dense_floor: float = 0.41  # a cosine at least this high answers
    bm25_floor: float = 7.5  # else a BM25 score at least this high answers
    dense_low: float = 0.27  # below this cosine nothing answers
    min_idf: float = 3.5  # else: every topic word in the vocabulary, one this distinctive
    # Between the cosine floors, a question this much closer to a neighbouring subject's question
    # than to the banks is refused (index.neighbours; an index without them: no effect).
    neighbour_margin: float = 0.10
    # Between the cosine floors, a question of more than ``long_terms`` topic words answers on its
    # BM25 score only when its best chunk's cosine reaches ``long_chunk_floor``: a long question
    # shares words with many sections, and one sentence close to it says less than for a short
    # one (the sentence bonus's length, FusionWeights.sentence_max_terms).  0: no such check.
    long_chunk_floor: float = 0.24
    long_terms: float = 7

    def __post_init__(self) -> None:
        if not -1.0 <= self.dense_low <= self.dense_floor <= 1.0:
            raise ValueError(f"need -1 <= dense_low <= dense_floor <= 1, got {self.dense_low}, {self.dense_floor}")
        if self.bm25_floor < 0 or self.min_idf < 0:
            raise ValueError("bm25_floor and min_idf must be non-negative")
        if self.neighbour_margin < 0:
            raise ValueError(f"neighbour_margin must be non-negative, got {self.neighbour_margin}")
        if self.long_chunk_floor < 0 or self.long_terms < 0:
            raise ValueError("long_chunk_floor and long_terms must be non-negative")

    def answers(
        self,
        top_dense: float,
        top_bm25: float,
        vocab_idf: float,
        top_neighbour: float | None = None,
        top_chunk: float | None = None,
        n_terms: int = 0,
    ) -> bool:
        """With both retrievers: a strong cosine answers; a very weak one never
        does; in between, a question closer to a neighbouring subject's
        question (``top_neighbour``, its cosine) than to the banks by more
        than ``neighbour_margin`` does not either, and else a strong BM25
        score or an in-vocabulary query (``vocab_idf``: the best idf of its
        topic words when every one is corpus vocabulary, else negative)
        answers; the BM25 score of a long question (``n_terms`` topic words)
        only with a best chunk cosine (``top_chunk``; ``top_dense`` may be a
        sentence's) of at least ``long_chunk_floor``.  The one rule search and
        ``qbank tune`` apply."""
        if top_dense >= self.dense_floor:
            return True
        if top_dense < self.dense_low:
            return False
        if top_neighbour is not None and top_neighbour - top_dense > self.neighbour_margin:
            return False
        if vocab_idf >= self.min_idf:
            return True
        if n_terms > self.long_terms and top_chunk is not None and top_chunk < self.long_chunk_floor:
            return False
        return top_bm25 >= self.bm25_floor


@dataclass(frozen=True, slots=True)
class Decision:
    """``answerable``, and for a refused question that a neighbouring subject's question
    matches clearly better than the banks (by more than ``neighbour_margin``, whichever
    rule refused it), that question's position among the index's neighbours
    (``index.neighbours``): what the refusal can name."""

    answerable: bool
    neighbour: int | None = None
    neighbour_cosine: float | None = None  # the query's cosine to that question


# Fitted before the sentence units and the long-question check: the best chunk is all the dense evidence.
CHUNK_ONLY_FLOORS = AbstentionConfig(
    dense_floor=0.39, bm25_floor=7.5, dense_low=0.17, min_idf=3.5, long_chunk_floor=0.0
)
EVIDENCE_CHUNKS = "chunk"  # what the floors were fitted on: chunk cosines alone
EVIDENCE_SENTENCES = "chunk+sentence"  # the larger of the best chunk's and the best sentence unit's cosine


def dense_evidence(top_chunk: float, top_sentence: float | None) -> float:
    """The rule's dense side: the best chunk's cosine, or the best sentence unit's when that is higher."""
    return top_chunk if top_sentence is None else max(top_chunk, top_sentence)


class Abstention:
    """Decides ``answerable`` from the best evidence among the dense candidates.

    With both retrievers: a strong cosine answers; a very weak one never does;
    in between, a strong BM25 score or an in-vocabulary query ('bn before
    relu': short, in-domain, low on both sides) answers.  With one retriever,
    that retriever's floor alone.  A company-list query always answers.
    ``sentences`` (the units' vectors, one row each) and ``sentence_chunks``
    (each unit's chunk position) make the dense side the larger of the best
    chunk's and the best unit's cosine, over the units of the chunks the dense
    index returned: a few hundred rows whatever the bank's size (every unit of
    a 100k-chunk bank is ~150k rows, 230 MB read per query).  The default
    floors follow from whether there are any units."""

    def __init__(
        self,
        sparse: SparseIndex,
        config: AbstentionConfig | None = None,
        sentences: np.ndarray | None = None,
        sentence_chunks: np.ndarray | None = None,
        neighbours: np.ndarray | None = None,
    ) -> None:
        self.sparse = sparse
        self.neighbours = neighbours if neighbours is not None and len(neighbours) else None
        self.units: UnitScorer | None = None
        if sentences is not None and len(sentences):
            if sentence_chunks is None:
                raise ValueError("each sentence unit needs the position of its chunk")
            self.units = UnitScorer(sentences, sentence_chunks)
        self.evidence = EVIDENCE_SENTENCES if self.units is not None else EVIDENCE_CHUNKS
        self.config = config or (AbstentionConfig() if self.units is not None else CHUNK_ONLY_FLOORS)

    @property
    def sentences(self) -> np.ndarray | None:
        return self.units.vectors if self.units is not None else None

    def unit_rows(self, chunks: np.ndarray) -> np.ndarray:
        """The rows of the units of ``chunks`` (chunk positions), chunk by chunk."""
        return self.units.rows(chunks) if self.units is not None else np.zeros(0, dtype=np.int64)

    def best_sentence(self, cosines: ChunkScores | None) -> float | None:
        """The best cosine between the query vector and the units of the chunks the dense
        search returned (all units when it does not say which); None without units or vector."""
        return self.units.best(cosines) if self.units is not None else None

    def run(
        self,
        analyzed: AnalyzedQuery,
        n_hits: int,
        lexical: RecordScores | None,
        dense: RecordScores | None,
        cosines: ChunkScores | None = None,
        within: np.ndarray | None = None,
        within_chunks: np.ndarray | None = None,
    ) -> Decision:
        """``cosines``: the chunk cosines the dense scores came from, for the sentence evidence.
        ``within``: the records a filter allows (positions), the only evidence that counts
        (``cosines.candidates`` narrowed to their chunks by the caller); None: every record.
        ``within_chunks``: a mask of those records' chunks, whose words are then the vocabulary
        (``vocab_idf``)."""
        if not n_hits:
            return Decision(False)
        if analyzed.company_only:
            return Decision(True)
        if not analyzed.topic_terms:
            # nothing but the field or the asking ("machine learning", "interview questions", "what
            # is it"): the best record would be a chance match ("Survival Analysis in ML" for "ml")
            return Decision(False)
        cfg = self.config
        top_chunk = _best(dense, within)
        top_bm25 = _best(lexical, within)
        if dense is None:
            return Decision(top_bm25 >= cfg.bm25_floor)
        if top_chunk >= cfg.dense_floor:  # the cheap case first: no sentence product, no vocabulary lookup
            return Decision(True)
        top_dense = dense_evidence(top_chunk, self.best_sentence(cosines))
        if lexical is None:
            return Decision(top_dense >= cfg.dense_floor)
        near = self._nearest_neighbour(cosines)
        n_terms = len(analyzed.topic_terms)
        vocab_idf = self.vocab_idf(analyzed, within_chunks)
        if cfg.answers(top_dense, top_bm25, vocab_idf, near[1] if near else None, top_chunk, n_terms):
            return Decision(True)
        closer = near is not None and near[1] - top_dense > cfg.neighbour_margin
        if closer and near:
            return Decision(False, near[0], near[1])
        return Decision(False)

    def best_neighbour(self, cosines: ChunkScores | None) -> float | None:
        """The best cosine between the query vector and the neighbouring subjects' questions
        (None without them or a vector)."""
        near = self._nearest_neighbour(cosines)
        return near[1] if near else None

    def _nearest_neighbour(self, cosines: ChunkScores | None) -> tuple[int, float] | None:
        if self.neighbours is None or cosines is None or cosines.query is None:
            return None
        scores = self.neighbours @ cosines.query
        best = int(np.argmax(scores))
        return best, float(scores[best])

    def vocab_idf(self, analyzed: AnalyzedQuery, chunks: np.ndarray | None = None) -> float:
        """The best idf among the topic words when every one is corpus vocabulary, else -1;
        with ``chunks`` (a mask: the chunks a filter allows), every one must be in their words:
        "explain bias variance tradeoff" filtered to the Python bank is not answered because
        the machine-learning bank uses those words (tester).
        Also -1 for a query about interviews: there the words besides the topic speak of the
        interview ("how long is the interview process"), and being in the vocabulary ("long",
        "process") says nothing about whether the banks answer it; a topic named in such a
        query ("the interviewer asked me about gini impurity") clears the floors on its own."""
        terms = analyzed.topic_terms
        if analyzed.about_interviews:
            return -1.0
        if not terms or any(t not in self.sparse.term_ids for t in terms):
            return -1.0
        if chunks is not None and not all((self.sparse.containing(t) & chunks).any() for t in terms):
            return -1.0
        n = self.sparse.size
        return max(float(np.log(n / self.sparse.doc_freq[self.sparse.term_ids[t]])) for t in terms)


def _best(scores: RecordScores | None, within: np.ndarray | None) -> float:
    if scores is None:
        return 0.0
    values = scores.scores if within is None else scores.scores[within]
    return float(values.max()) if len(values) else 0.0
