"""The retrieval pipeline's components, one per module.

Each takes and validates its settings in ``__init__`` and does its one job in
``run()``.  Scores travel between them as NumPy vectors (``ChunkScores`` per
chunk, ``RecordScores`` per record), never as per-document objects, so a
query costs a few vector operations per stage.  ``index.search.Searcher``
wires them; a new stage (a reranker, a feedback boost) is one more component.
"""

from index.components.abstain import Abstention, AbstentionConfig
from index.components.aggregate import RecordAggregator
from index.components.analysis import QueryAnalysis
from index.components.company import CompanyListRanking
from index.components.dense_retriever import DenseRetriever
from index.components.filtering import FilterMask
from index.components.fusion import (
    FUSIONS,
    DenseOnly,
    Fusion,
    FusionWeights,
    LexicalOnly,
    RRFFusion,
    WeightedFusion,
)
from index.components.hits import HitBuilder
from index.components.lexical_retriever import LexicalRetriever
from index.components.matches import MatchCut
from index.components.passages import PassageFinder
from index.components.scores import ChunkScores, RecordScores, top_positions

__all__ = [
    "FUSIONS",
    "Abstention",
    "AbstentionConfig",
    "ChunkScores",
    "CompanyListRanking",
    "DenseOnly",
    "DenseRetriever",
    "FilterMask",
    "Fusion",
    "FusionWeights",
    "HitBuilder",
    "LexicalOnly",
    "LexicalRetriever",
    "MatchCut",
    "PassageFinder",
    "QueryAnalysis",
    "RRFFusion",
    "RecordAggregator",
    "RecordScores",
    "WeightedFusion",
    "top_positions",
]
