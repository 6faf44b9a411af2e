"""In-process search benchmark: the floor, each mode warm with and without the
query-embedding cache, and the first query of a fresh process (cold).

The floor is what any hybrid retriever over this index must pay: one query
embedding, one FAISS search for the searcher's candidate count, one BM25
scoring (tokenising included).  Floor and searches are measured query by
query in the same loop, so machine noise hits both alike and the ratio
``search / floor`` is meaningful on a shared machine.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.stats import BenchQuery, LatencyStats, ranking_scores, ratio, rss_mib, run_module, timed
from index.embed import Embedder
from index.search import MODES, Searcher
from index.tokenize import tokenize
from ingest.models import Chunk
from qbank.settings import Settings, get_settings, offline_embedder, settings_embedder


def gold_targets(chunks: Sequence[Chunk], queries: Sequence[BenchQuery]) -> list[tuple[str, ...]]:
    """Each query's gold as the ids search ranks (a linked quick-reference row
    ranks as its question)."""
    ranked_as = {c.record_id: c.doc_id for c in chunks}
    return [tuple(dict.fromkeys(ranked_as.get(g, g) for g in q.gold)) for q in queries]


def floor_and_search(
    searcher: Searcher, embedder: Embedder, queries: Sequence[BenchQuery], k: int = 10
) -> dict[str, Any]:
    art = searcher.artifact
    searcher.search(queries[0].text, k=k, use_cache=False)  # warm-up, untimed
    floor: dict[str, list[float]] = {"embed": [], "faiss": [], "bm25": [], "sum": [], "faiss+bm25": []}
    uncached: dict[str, list[float]] = {m: [] for m in MODES}
    ranked: dict[str, list[tuple[str, ...]]] = {m: [] for m in MODES}
    per_query_ratio: list[float] = []
    for q in queries:
        analyzed = searcher.analyzer.run(q.text)
        vector, t_embed = timed(embedder.encode_query, analyzed.text, use_cache=False)
        _, t_faiss = timed(art.dense.search, vector, searcher.dense.candidates)
        _, t_bm25 = timed(lambda text: art.sparse.scores(tokenize(text)), analyzed.text)
        for name, t in (("embed", t_embed), ("faiss", t_faiss), ("bm25", t_bm25)):
            floor[name].append(t)
        floor["sum"].append(t_embed + t_faiss + t_bm25)
        floor["faiss+bm25"].append(t_faiss + t_bm25)
        for mode in MODES:
            result, t = timed(searcher.search, q.text, k=k, mode=mode, use_cache=False)
            uncached[mode].append(t)
            ranked[mode].append(tuple(h.record.id for h in result.hits))
        per_query_ratio.append(uncached["hybrid"][-1] / floor["sum"][-1])

    embedder.clear_cache()
    for q in queries:  # fill the cache, untimed
        searcher.search(q.text, k=k, use_cache=True)
    cached: dict[str, list[float]] = {m: [] for m in MODES}
    for q in queries:
        for mode in MODES:
            cached[mode].append(timed(searcher.search, q.text, k=k, mode=mode, use_cache=True)[1])
    embedder.clear_cache()

    floor_stats = {name: LatencyStats.of(v) for name, v in floor.items()}
    unc = {m: LatencyStats.of(v) for m, v in uncached.items()}
    cac = {m: LatencyStats.of(v) for m, v in cached.items()}
    golds = gold_targets(art.chunks, queries)
    per_query_ratio.sort()
    return {
        "queries": len(queries),
        "k": k,
        "dense_candidates": searcher.dense.candidates,
        "chunks": len(art.chunks),
        "floor_ms": {n: s.to_dict() for n, s in floor_stats.items()},
        "search_uncached_ms": {m: s.to_dict() for m, s in unc.items()},
        "search_cached_ms": {m: s.to_dict() for m, s in cac.items()},
        "ratios": {
            "hybrid_uncached_p50_over_floor_p50": ratio(unc["hybrid"].p50, floor_stats["sum"].p50),
            "hybrid_uncached_per_query_ratio_p50": round(per_query_ratio[len(per_query_ratio) // 2], 3),
            "dense_uncached_p50_over_floor_p50": ratio(unc["dense"].p50, floor_stats["sum"].p50),
            "hybrid_cached_p50_over_faiss_bm25_p50": ratio(cac["hybrid"].p50, floor_stats["faiss+bm25"].p50),
            "bm25_mode_p50_over_bm25_floor_p50": ratio(unc["bm25"].p50, floor_stats["bm25"].p50),
        },
        "accuracy": {m: ranking_scores(ranked[m], golds) for m in MODES},
    }


def encoder_threads(settings: Settings, texts: Sequence[str], counts: Sequence[int] = (1, 2)) -> dict[str, Any]:
    """Query-encoding latency with each thread count (``QBANK_QUERY_THREADS``), interleaved
    query by query: one encoder per count (ONNX Runtime fixes its threads per session);
    torch's are process-wide, so its one encoder is switched before each query."""
    ms: dict[int, list[float]] = {n: [] for n in counts}
    if settings.encoder == "torch":
        import torch

        before = torch.get_num_threads()
        embedder = Embedder(settings.model).load()
        try:
            for text in texts:
                for n in counts:
                    torch.set_num_threads(n)
                    ms[n].append(timed(embedder.encode_query, text, use_cache=False)[1])
        finally:
            torch.set_num_threads(before)
    else:
        encoders = {n: offline_embedder(settings, threads=n).load() for n in counts}
        try:
            for text in texts:
                for n, embedder in encoders.items():
                    ms[n].append(timed(embedder.encode_query, text, use_cache=False)[1])
        finally:
            for embedder in encoders.values():
                embedder.close()
    return {
        "encoder": settings.encoder,
        "configured": settings.query_threads,
        **{f"threads_{n}_ms": LatencyStats.of(v).to_dict() for n, v in ms.items()},
    }


def cold_first_query(index_dir: Path, mode: str, query: str, threads: int = 0) -> dict[str, Any]:
    """A fresh interpreter: load the model and index, then time the first search."""
    started = time.perf_counter()
    figures = run_module("bench.inprocess", str(index_dir), mode, query, str(threads), timeout_s=600)
    figures["process_s"] = round(time.perf_counter() - started, 3)
    return figures


def _cold_main(index_dir: str, mode: str, query: str, threads: str) -> None:
    from index.dense import set_search_threads
    from index.store import load_artifact

    settings = get_settings().model_copy(update={"query_threads": int(threads)})
    embedder, model_ms = timed(lambda: settings_embedder(settings).load())  # as `qbank serve` makes it
    set_search_threads(int(threads))
    artifact, load_ms = timed(lambda: load_artifact(Path(index_dir), expect_model=embedder.model_name))
    searcher, init_ms = timed(lambda: Searcher(artifact, embedder))
    _, first_ms = timed(lambda: searcher.search(query, mode=mode))
    _, second_ms = timed(lambda: searcher.search(query + " please", mode=mode))
    _, repeat_ms = timed(lambda: searcher.search(query, mode=mode))
    print(
        json.dumps(
            {
                "mode": mode,
                "model_load_s": round(model_ms / 1000, 3),
                "index_load_s": round(load_ms / 1000, 3),
                "searcher_init_s": round(init_ms / 1000, 3),
                "first_query_ms": round(first_ms, 3),
                "second_query_ms": round(second_ms, 3),
                "repeat_query_cached_ms": round(repeat_ms, 3),
                "rss_mib": round(rss_mib(), 1),
            }
        )
    )


if __name__ == "__main__":
    _cold_main(*sys.argv[1:5])
