"""Re-score the fusion levers of eval/README.md ("Levers on the hard set")
on the kept per-record scores of every single-message eval item, dev and
test, and print hit@1 per set and kind.  Run: .venv/bin/python scripts/levers.py

Each lever is a function of one item's record scores (lexical, dense) and the
chunk vectors; nothing here is used by search.  A lever worth keeping becomes
a component and a named pipeline (index/components/)."""

from __future__ import annotations

import re
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


def main() -> None:
    levers = evidence_groups()
    embedder, artifact, searcher, groups = levers.embedder, levers.artifact, levers.searcher, levers.groups
    rows = searcher.title_only
    vectors = artifact.embeddings.astype(np.float64)
    chunk_doc = np.asarray([searcher.doc_ids.index(c.doc_id) for c in artifact.chunks])
    n_docs = len(searcher.doc_ids)
    query_vec = {
        e.item.id: embedder.encode_query(searcher.analyzer.run(e.item.query).text, use_cache=False)
        for g in groups.values()
        for e in g
    }

    def per_record(chunk_scores: np.ndarray) -> np.ndarray:
        out = np.full(n_docs, -np.inf)
        np.maximum.at(out, chunk_doc, chunk_scores)
        return out

    def sat(x: np.ndarray, k: float = 15.0) -> np.ndarray:
        return x / (x + k)

    def weighted(w: FusionWeights) -> Lever:
        return lambda e: blend(
            sat(e.lexical, w.saturation), e.dense, w.dense_weight, w.bm25_weight, rows, w.row_weights
        )[0]

    def z(x: np.ndarray, top: int | None = None) -> np.ndarray:
        ref = np.sort(x)[-top:] if top else x
        return (x - ref.mean()) / (ref.std() + 1e-9)

    same = chunk_doc[:, None] == chunk_doc[None, :]
    sims = np.where(same, -1.0, vectors @ vectors.T)
    hub = np.sort(sims, axis=1)[:, -10:].mean(axis=1)
    centroid = np.zeros((n_docs, vectors.shape[1]))
    np.add.at(centroid, chunk_doc, vectors)
    centroid /= np.linalg.norm(centroid, axis=1, keepdims=True) + 1e-9

    def clauses(query: str) -> list[np.ndarray]:
        parts = [p.strip() for p in re.split(r"[,.;?!]| and | but | so | because ", query) if len(p.split()) >= 3]
        return [embedder.encode_query(p, use_cache=False) for p in parts] if len(parts) >= 2 else []

    clause_vecs = {e.item.id: clauses(e.item.query) for g in groups.values() for e in g}

    def with_clauses(e: Evidence) -> np.ndarray:
        extra = clause_vecs[e.item.id]
        dense = (
            e.dense if not extra else 0.5 * e.dense + 0.5 * np.mean([per_record(vectors @ c) for c in extra], axis=0)
        )
        return 0.55 * dense + 0.45 * sat(e.lexical)

    def prf(e: Evidence) -> np.ndarray:
        q = query_vec[e.item.id]
        top = np.argsort(-(vectors @ q))[:3]
        q2 = q + 0.3 * vectors[top].mean(axis=0)
        return 0.55 * per_record(vectors @ (q2 / np.linalg.norm(q2))) + 0.45 * sat(e.lexical)

    levers: dict[str, Lever] = {
        "baseline 0.55/0.45, K 15, one fusion": weighted(FusionWeights(0.55, 0.45, 15.0, 0.55, 0.45, 0.0)),
        "dense weight 0.7": weighted(FusionWeights(0.7, 0.3, 15.0, 0.7, 0.3, 0.0)),
        "saturation 40": weighted(FusionWeights(0.55, 0.45, 40.0, 0.55, 0.45, 0.0)),
        "z-score fusion, top 50, 0.6": lambda e: 0.6 * z(e.dense, 50) + 0.4 * z(sat(e.lexical), 50),
        "CSLS hubness correction, k 10": lambda e: (
            0.55 * per_record(vectors @ query_vec[e.item.id] - 0.25 * (hub - hub.mean())) + 0.45 * sat(e.lexical)
        ),
        "centroid blended, 0.35": lambda e: (
            0.55 * (0.65 * e.dense + 0.35 * (centroid @ query_vec[e.item.id])) + 0.45 * sat(e.lexical)
        ),
        "clauses embedded, mean": with_clauses,
        "pseudo-relevance feedback": prf,
        "title-only records fused apart (default)": weighted(FusionWeights()),
    }
    columns = [
        "standard dev",
        "standard test",
        "hard dev",
        "hard test",
        "quick_ref dev",
        "quick_ref test",
        "paraphrase dev",
        "paraphrase test",
    ]
    print(f"{'lever':44}" + "".join(f"{c:>16}" for c in columns))
    for name, lever in levers.items():
        cells = []
        for column in columns:
            items = groups[column]
            first = 0
            for e in items:
                scores = np.where(np.isin(np.arange(n_docs), e.pool), lever(e), -np.inf)
                first += int(np.argmax(scores)) in e.targets
            cells.append(f"{first / len(items):>16.3f}")
        print(f"{name:44}" + "".join(cells))


if __name__ == "__main__":
    main()
