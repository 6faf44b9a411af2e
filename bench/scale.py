"""Scale benchmark: the index at ~100k chunks (see ``bench.replicate``).

Measured: build time by stage, size on disk, memory, load time and memory of
a fresh serving process, query latency per mode with exact (flat) and HNSW
FAISS, HNSW recall against flat, and BM25 alternatives at this size: the
product's sparse-matrix scorer against rank-bm25's ``get_scores`` (which it
must equal) and bm25s (which should rank alike).
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.inprocess import cold_first_query, gold_targets
from bench.replicate import base_id, replicate
from bench.stats import BenchQuery, LatencyStats, dir_bytes, ranking_scores, rss_mib, timed
from index.build import HNSW_THRESHOLD, assemble, choose_dense_kind, chunk_hashes, corpus_acronyms, tokenize_chunks
from index.dense import DenseIndex
from index.embed import Embedder
from index.search import MODES, Searcher
from index.sparse import SparseIndex
from index.store import IndexArtifact, save_artifact
from index.tokenize import tokenize
from ingest.pipeline import Corpus
from service.state import settle_heap


def _lat(ms: Sequence[float]) -> dict[str, Any]:
    return LatencyStats.of(ms).to_dict()


def build_scaled(corpus: Corpus, vectors: np.ndarray, embedder: Embedder) -> tuple[IndexArtifact, DenseIndex, dict]:
    """The stages of ``index.build.build_artifact`` after embedding, timed one by
    one; both FAISS kinds, the one ``auto`` picks in the artifact."""
    t: dict[str, float] = {}
    hashes, t["hash_s"] = timed(lambda: chunk_hashes(corpus.chunks))
    tokens, t["tokenize_s"] = timed(lambda: tokenize_chunks(corpus.chunks))
    sparse, t["bm25_build_s"] = timed(lambda: SparseIndex.build(tokens))
    flat, t["faiss_flat_build_s"] = timed(lambda: DenseIndex.build(vectors, kind="flat"))
    hnsw, t["faiss_hnsw_build_s"] = timed(lambda: DenseIndex.build(vectors, kind="hnsw"))
    acronyms, t["acronyms_s"] = timed(lambda: corpus_acronyms(corpus))
    t = {k: round(v / 1000, 3) for k, v in t.items()}
    kind = choose_dense_kind(len(hashes), "auto")
    t["product_build_s_auto_kind"] = round(
        t["hash_s"] + t["tokenize_s"] + t["bm25_build_s"] + t[f"faiss_{kind}_build_s"] + t["acronyms_s"], 3
    )
    dense, other = (hnsw, flat) if kind == "hnsw" else (flat, hnsw)
    artifact = assemble(corpus, hashes, vectors, dense, sparse, acronyms, embedder.model_name)
    return artifact, other, {"auto_kind": kind, "tokens": tokens, **t}


def bm25_alternatives(sparse: SparseIndex, tokens: list[list[str]], queries: Sequence[list[str]], slow_n: int) -> dict:
    """The product scorer vs rank-bm25 (equality, speed) vs bm25s (rank agreement, speed)."""
    import bm25s
    from rank_bm25 import BM25Okapi
    from scipy.stats import spearmanr

    okapi, okapi_build = timed(lambda: BM25Okapi([t or ["\x00empty"] for t in tokens], k1=sparse.k1, b=sparse.b))
    fast = bm25s.BM25(method="robertson", k1=sparse.k1, b=sparse.b)
    _, bm25s_build = timed(lambda: fast.index(tokens, show_progress=False))
    ours_ms, okapi_ms, bm25s_ms, diffs, rhos, overlaps = [], [], [], [], [], []
    for i, q in enumerate(queries):
        ours, t = timed(sparse.scores, q)
        ours_ms.append(t)
        other, t = timed(fast.get_scores, q)
        bm25s_ms.append(t)
        if i < slow_n:
            ref, t = timed(okapi.get_scores, q)
            okapi_ms.append(t)
            diffs.append(float(np.abs(ours - ref).max()))
        nz = (ours > 0) | (other > 0)
        if nz.sum() > 2:
            rhos.append(float(spearmanr(ours[nz], other[nz]).statistic))
            top_a, top_b = np.argsort(-ours)[:10], np.argsort(-other)[:10]
            overlaps.append(len(set(top_a.tolist()) & set(top_b.tolist())) / 10)
    return {
        "qbank_sparse_matrix": {"query_ms": _lat(ours_ms)},
        "rank_bm25_okapi": {
            "build_s": round(okapi_build / 1000, 3),
            "query_ms": _lat(okapi_ms),
            "max_abs_score_diff_vs_qbank": max(diffs) if diffs else None,
        },
        "bm25s_robertson": {
            "build_s": round(bm25s_build / 1000, 3),
            "query_ms": _lat(bm25s_ms),
            "spearman_vs_qbank_mean": round(float(np.mean(rhos)), 5) if rhos else None,
            "spearman_vs_qbank_min": round(float(np.min(rhos)), 5) if rhos else None,
            "top10_overlap_mean": round(float(np.mean(overlaps)), 4) if overlaps else None,
        },
        "qbank_over_rank_bm25_speedup_p50": round(LatencyStats.of(okapi_ms).p50 / LatencyStats.of(ours_ms).p50, 1)
        if okapi_ms
        else None,
    }


def hnsw_recall(
    flat: DenseIndex, hnsw: DenseIndex, qvecs: np.ndarray, doc_of: Sequence[str], k: int = 300
) -> dict[str, Any]:
    """Recall of HNSW against exact search for the searcher's ``k`` candidates,
    per beam width (efSearch) and as the product searches (``DenseIndex.search``:
    a beam at least k wide).  ``recall@10`` compares the first 10 of the k;
    ``records@10`` counts the source records among them (a replica counted as
    its source), the unit search results are made of."""
    import faiss

    exact = [flat.search(v, k)[0] for v in qvecs]

    def overlap(a: np.ndarray, b: np.ndarray) -> float:
        return len(set(a.tolist()) & set(b.tolist())) / max(1, len(b))

    def records(ids: np.ndarray) -> set[str]:
        return {doc_of[i] for i in ids[:10].tolist()}

    def measure(search: Any) -> dict[str, Any]:
        found, ms = [], []
        for v in qvecs:
            ids, t = timed(search, v)
            found.append(ids)
            ms.append(t)
        pairs = list(zip(found, exact, strict=True))
        return {
            "recall@10": round(float(np.mean([overlap(f[:10], e[:10]) for f, e in pairs])), 4),
            "records@10": round(float(np.mean([len(records(f) & records(e)) / len(records(e)) for f, e in pairs])), 4),
            f"recall@{k}": round(float(np.mean([overlap(f, e) for f, e in pairs])), 4),
            f"search_ms_k{k}": _lat(ms),
        }

    graph = hnsw.index
    assert isinstance(graph, faiss.IndexHNSWFlat)

    def with_ef(ef: int) -> Any:
        params = faiss.SearchParametersHNSW(efSearch=ef)  # type: ignore[attr-defined]
        return lambda v: graph.search(v.reshape(1, -1), k, params=params)[1][0]

    return {
        f"flat_search_ms_k{k}": _lat([timed(flat.search, v, k)[1] for v in qvecs]),
        "M": int(graph.hnsw.nb_neighbors(1)),  # type: ignore[attr-defined]
        "efConstruction": int(graph.hnsw.efConstruction),
        "default_efSearch": int(graph.hnsw.efSearch),
        "by_efSearch": {str(ef): measure(with_ef(ef)) for ef in (64, 128, 300, 600)},
        "product_search": measure(lambda v: hnsw.search(v, k)[0]),
    }


def faiss_threads(flat: DenseIndex, qvecs: np.ndarray, counts: Sequence[int] = (1, 2)) -> dict[str, Any]:
    """Exact search latency (k=300) with each FAISS thread count, interleaved query by query."""
    import faiss

    before = faiss.omp_get_max_threads()
    ms: dict[int, list[float]] = {n: [] for n in counts}
    try:
        for v in qvecs:
            for n in counts:
                faiss.omp_set_num_threads(n)
                ms[n].append(timed(flat.search, v, 300)[1])
    finally:
        faiss.omp_set_num_threads(before)
    return {"configured": before, **{f"threads_{n}_ms": _lat(v) for n, v in ms.items()}}


def search_latency(searcher: Searcher, queries: Sequence[BenchQuery], cached: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ranked: dict[str, list[tuple[str, ...]]] = {m: [] for m in MODES}
    if cached:
        for q in queries:  # fill the query-embedding cache, untimed
            searcher.search(q.text, mode="dense", use_cache=True)
    for mode in MODES if cached else ("hybrid",):
        ms = []
        for q in queries:
            result, t = timed(searcher.search, q.text, mode=mode, use_cache=cached)
            ms.append(t)
            ranked[mode].append(tuple(dict.fromkeys(base_id(h.record.id) for h in result.hits)))
        out[mode] = _lat(ms)
    return {"latency_ms": out, "ranked": ranked}


def scale_section(
    corpus: Corpus,
    vectors: np.ndarray,
    embedder: Embedder,
    queries: Sequence[BenchQuery],
    target: int,
    work: Path,
    threads: int,
) -> dict[str, Any]:
    """Everything in memory first, then a fresh process that loads the saved index."""
    index_dir = work / "scale" / "index"
    try:
        figures = _in_memory(corpus, vectors, embedder, queries, target, index_dir)
    finally:
        gc.unfreeze()
        gc.collect()
    figures["fresh_process_serving_index"] = cold_first_query(index_dir, "hybrid", queries[0].text, threads)
    return figures


def _in_memory(
    corpus: Corpus, vectors: np.ndarray, embedder: Embedder, queries: Sequence[BenchQuery], target: int, index_dir: Path
) -> dict[str, Any]:
    gc.collect()
    rss0 = rss_mib()
    (scaled, all_vectors), gen_ms = timed(lambda: replicate(corpus, vectors, target))
    rss_corpus = rss_mib()
    artifact, other, build = build_scaled(scaled, all_vectors, embedder)
    tokens = build.pop("tokens")
    rss_built = rss_mib()
    searcher, init_ms = timed(lambda: Searcher(artifact, embedder))
    rss_searcher = rss_mib()
    settle_heap()  # as the service does once its index is loaded
    flat = other if artifact.dense.kind == "hnsw" else artifact.dense
    hnsw = artifact.dense if artifact.dense.kind == "hnsw" else other

    qvecs = np.stack([embedder.encode_query(searcher.analyzer.run(q.text).text) for q in queries])
    recall = hnsw_recall(flat, hnsw, qvecs, [base_id(c.doc_id) for c in scaled.chunks])
    flat_threads = faiss_threads(flat, qvecs[:60])
    bm25 = bm25_alternatives(
        artifact.sparse, tokens, [tokenize(searcher.analyzer.run(q.text).text) for q in queries], slow_n=25
    )
    del tokens

    by_kind: dict[str, Any] = {}
    golds = gold_targets(corpus.chunks, queries)
    for kind, dense in (("flat", flat), ("hnsw", hnsw)):
        s = copy.copy(searcher)
        s.artifact = replace(artifact, dense=dense)
        warm = search_latency(s, queries, cached=True)
        embedder.clear_cache()
        cold = search_latency(s, queries, cached=False)
        by_kind[kind] = {
            "cached_embedding_ms": warm["latency_ms"],
            "uncached_embedding_ms": cold["latency_ms"],
            "accuracy_hybrid": ranking_scores(warm["ranked"]["hybrid"], golds),
            "_ranked": warm["ranked"]["hybrid"],
        }
    flat_ranked, hnsw_ranked = by_kind["flat"].pop("_ranked"), by_kind["hnsw"].pop("_ranked")
    overlap = [
        len(set(a[:10]) & set(b[:10])) / max(1, min(10, len(a))) for a, b in zip(flat_ranked, hnsw_ranked, strict=True)
    ]

    version, save_ms = timed(lambda: save_artifact(artifact, index_dir))
    files = {p.name: p.stat().st_size for p in sorted(version.iterdir())}
    matrix = artifact.sparse.matrix
    sizes = {
        "embeddings_nbytes": int(all_vectors.nbytes),
        "bm25_matrix_nbytes": int(matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes),
        "bm25_nnz": int(matrix.nnz),
        "bm25_vocab": len(artifact.sparse.vocab),
    }
    return {
        "target_chunks": target,
        "method": "replicated real banks: varied text + perturbed real embeddings (bench/replicate.py)",
        "generate_s": round(gen_ms / 1000, 3),
        "build": build,
        "hnsw_threshold": HNSW_THRESHOLD,
        "searcher_init_s": round(init_ms / 1000, 3),
        "save_s": round(save_ms / 1000, 3),
        "index_bytes": dir_bytes(version),
        "files_bytes": files,
        "sizes": sizes,
        "bench_process_rss_mib": {
            "before": round(rss0, 1),
            "corpus_and_vectors": round(rss_corpus - rss0, 1),
            "indexes_built": round(rss_built - rss0, 1),
            "with_searcher": round(rss_searcher - rss0, 1),
        },
        "hnsw_recall": recall,
        "faiss_flat_threads": flat_threads,
        "hybrid_top10_overlap_flat_vs_hnsw_mean": round(float(np.mean(overlap)), 4),
        "bm25": bm25,
        "search": by_kind,
    }
