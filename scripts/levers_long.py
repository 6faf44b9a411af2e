"""Long-query levers, measured on the kept per-record scores of every
single-message eval item (both sets, dev and test), over the default fusion
with its short-query sentence bonus.  Run: .venv/bin/python scripts/levers_long.py

The hard set's paraphrase misses are long situations ("ten cat photos for
every dog photo...").  Two ideas for them, each only for queries with more
topic words than the sentence bonus takes: lean on the cosine (a long query
shares common words with every long answer, so BM25 spreads), and credit a
record whose several sections match (a situation touches more than one part
of its answer), as the mean of its best k chunks' cosines.  Prints hybrid
hit@1 counts per set, split and hard kind.  Nothing here is used by search;
eval/README.md ("Long queries") has the table and the verdict."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.tune import Evidence  # noqa: E402
from index.components import FusionWeights  # noqa: E402
from index.components.fusion import blend  # noqa: E402
from scripts.lever_support import evidence_groups  # noqa: E402

Lever = Callable[[Evidence], np.ndarray]
COLUMNS = ("standard dev", "standard test", "hard dev", "hard test", "quick_ref dev", "quick_ref test",
           "paraphrase dev", "paraphrase test", "answer_detail dev", "answer_detail test")  # fmt: skip


def main() -> None:
    levers = evidence_groups()
    embedder, artifact, searcher, groups = levers.embedder, levers.artifact, levers.searcher, levers.groups
    everything = {e.item.id: e for g in groups.values() for e in g}
    analysed = {k: searcher.analyzer.run(e.item.query) for k, e in everything.items()}
    query_vec = {k: embedder.encode_query(a.text, use_cache=False) for k, a in analysed.items()}
    vectors = artifact.embeddings.astype(np.float64)
    chunk_doc = np.asarray([searcher.doc_ids.index(c.doc_id) for c in artifact.chunks])
    n_docs = len(searcher.doc_ids)
    default = FusionWeights()

    def is_long(e: Evidence) -> bool:
        return len(analysed[e.item.id].topic_terms) > default.sentence_max_terms

    def fused(e: Evidence, w: FusionWeights = default) -> np.ndarray:
        lexical = e.lexical / (e.lexical + w.saturation)
        scores = blend(lexical, e.dense, w.dense_weight, w.bm25_weight, searcher.title_only, w.row_weights)[0]
        if e.short and e.evidence is not None:
            scores = scores + w.sentence_weight * e.evidence
        return scores

    def lean_dense(more_than: int, dense: float) -> Lever:
        leaning = FusionWeights(dense_weight=dense, bm25_weight=1 - dense)
        return lambda e: fused(e, leaning if len(analysed[e.item.id].topic_terms) > more_than else default)

    def best_k_mean(k: int, weight: float) -> Lever:
        def lever(e: Evidence) -> np.ndarray:
            if not is_long(e):
                return fused(e)
            cos = vectors @ query_vec[e.item.id]
            mean = np.asarray([np.sort(cos[chunk_doc == d])[-k:].mean() for d in range(n_docs)])
            return fused(e) + weight * mean

        return lever

    levers: dict[str, Lever] = {"default (0.65 / 0.35, sentence bonus)": fused}
    for more_than in (7, 10, 14):
        for dense in (0.75, 0.85):
            levers[f"> {more_than} topic words: dense {dense}"] = lean_dense(more_than, dense)
    for k in (2, 3):
        for weight in (0.1, 0.2, 0.4):
            levers[f"long: + {weight} x mean of best {k} chunks"] = best_k_mean(k, weight)
    print(f"{'lever':42}" + "".join(f"{c[:15]:>16}" for c in COLUMNS))
    for name, lever in levers.items():
        cells = []
        for column in COLUMNS:
            scored = groups[column]
            first = 0
            for e in scored:
                scores = np.where(np.isin(np.arange(n_docs), e.pool), lever(e), -np.inf)
                first += int(np.argmax(scores)) in e.targets
            cells.append(f"{f'{first}/{len(scored)}':>16}")
        print(f"{name:42}" + "".join(cells))


if __name__ == "__main__":
    main()
