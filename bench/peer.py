"""Peer benchmark: Haystack 2.x's in-memory hybrid pipeline on the same chunks
and queries, in the same process, measured query by query alongside qbank.

The pipeline is the one Haystack documents for hybrid retrieval:
``SentenceTransformersTextEmbedder`` (the same packaged all-MiniLM-L6-v2) ->
``InMemoryEmbeddingRetriever``, ``InMemoryBM25Retriever`` on the raw query,
both into ``DocumentJoiner(join_mode="reciprocal_rank_fusion")``.  Documents
are qbank's chunks, embedded by Haystack's ``SentenceTransformersDocumentEmbedder``.
Chunk results are collapsed to records (first occurrence wins) exactly as
qbank's own ranking is scored.  Haystack is an optional extra (``.[bench]``),
never a dependency of the product.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.inprocess import gold_targets
from bench.stats import BenchQuery, LatencyStats, ranking_scores, ratio, timed
from index.embed import packaged_model_path
from index.search import Searcher


def _quiet() -> None:
    """Haystack sends usage telemetry unless told not to (and this machine is offline)."""
    os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def haystack_available() -> bool:
    _quiet()
    try:
        import haystack  # noqa: F401
        from haystack.components.embedders import SentenceTransformersTextEmbedder  # noqa: F401
    except ImportError:
        return False
    return True


def build_pipeline(searcher: Searcher, top_k: int) -> tuple[Any, Any, dict[str, Any]]:
    """The full hybrid pipeline, and the same without its text embedder (the
    query embedding passed in), to time Haystack's retrieval machinery alone."""
    _quiet()
    import haystack
    from haystack import Document, Pipeline
    from haystack.components.embedders import SentenceTransformersDocumentEmbedder, SentenceTransformersTextEmbedder
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    model = packaged_model_path()
    chunks = searcher.artifact.chunks
    docs = [Document(id=c.id, content=c.text, meta={"doc_id": c.doc_id}) for c in chunks]
    doc_embedder = SentenceTransformersDocumentEmbedder(
        model=model, local_files_only=True, progress_bar=False, normalize_embeddings=True
    )
    doc_embedder.warm_up()
    embedded, embed_ms = timed(lambda: doc_embedder.run(documents=docs)["documents"])
    theirs = np.asarray([d.embedding for d in embedded], dtype=np.float32)
    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    _, write_ms = timed(lambda: store.write_documents(embedded))

    pipe = Pipeline()
    pipe.add_component(
        "text_embedder",
        SentenceTransformersTextEmbedder(
            model=model, local_files_only=True, progress_bar=False, normalize_embeddings=True
        ),
    )
    pipe.add_component("embedding_retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=top_k))
    pipe.add_component("bm25_retriever", InMemoryBM25Retriever(document_store=store, top_k=top_k))
    pipe.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion"))
    pipe.connect("text_embedder.embedding", "embedding_retriever.query_embedding")
    pipe.connect("embedding_retriever", "joiner")
    pipe.connect("bm25_retriever", "joiner")
    pipe.warm_up()
    retrieval = Pipeline()
    retrieval.add_component("embedding_retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=top_k))
    retrieval.add_component("bm25_retriever", InMemoryBM25Retriever(document_store=store, top_k=top_k))
    retrieval.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion"))
    retrieval.connect("embedding_retriever", "joiner")
    retrieval.connect("bm25_retriever", "joiner")
    info = {
        "haystack": haystack.__version__,
        "documents": len(docs),
        "retriever_top_k": top_k,
        "join_mode": "reciprocal_rank_fusion",
        "bm25": "InMemoryBM25Retriever defaults (BM25L)",
        "doc_embed_s": round(embed_ms / 1000, 3),
        "store_write_s": round(write_ms / 1000, 3),
        "doc_embeddings_max_abs_diff_vs_qbank": float(np.abs(theirs - searcher.artifact.embeddings).max()),
    }
    return pipe, retrieval, info


def _records(documents: Sequence[Any], k: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d.meta["doc_id"] for d in documents))[:k]


def peer_section(searcher: Searcher, queries: Sequence[BenchQuery], k: int = 10, top_k: int = 50) -> dict[str, Any]:
    pipe, retrieval, info = build_pipeline(searcher, top_k)
    embedder = searcher.embedder

    def run_haystack(text: str) -> Any:
        return pipe.run({"text_embedder": {"text": text}, "bm25_retriever": {"query": text}})

    def run_retrieval(text: str, vector: list[float]) -> Any:
        return retrieval.run({"embedding_retriever": {"query_embedding": vector}, "bm25_retriever": {"query": text}})

    run_haystack(queries[0].text)  # warm-up, untimed
    searcher.search(queries[0].text, k=k, use_cache=False)
    ours_ms, theirs_ms, ours_ranked, theirs_ranked = [], [], [], []
    for q in queries:  # interleaved, so machine noise hits both alike
        result, t = timed(searcher.search, q.text, k=k, use_cache=False)
        ours_ms.append(t)
        ours_ranked.append(tuple(h.record.id for h in result.hits))
        out, t = timed(run_haystack, q.text)
        theirs_ms.append(t)
        theirs_ranked.append(_records(out["joiner"]["documents"], k))

    # Retrieval alone: qbank with its query embedding cached, Haystack given the embedding.
    vectors = {q.text: embedder.encode_query(q.text, use_cache=False).tolist() for q in queries}
    for q in queries:
        searcher.search(q.text, k=k, use_cache=True)  # fill the cache, untimed
    ours_cached_ms, theirs_retrieval_ms = [], []
    for q in queries:
        ours_cached_ms.append(timed(searcher.search, q.text, k=k, use_cache=True)[1])
        theirs_retrieval_ms.append(timed(run_retrieval, q.text, vectors[q.text])[1])
    embedder.clear_cache()

    golds = gold_targets(searcher.artifact.chunks, queries)
    ours, theirs = LatencyStats.of(ours_ms), LatencyStats.of(theirs_ms)
    cached, retrieval_only = LatencyStats.of(ours_cached_ms), LatencyStats.of(theirs_retrieval_ms)
    per_query = sorted(h / o for h, o in zip(theirs_ms, ours_ms, strict=True))
    return {
        **info,
        "queries": len(queries),
        "qbank_hybrid_uncached_ms": ours.to_dict(),
        "haystack_hybrid_ms": theirs.to_dict(),
        "qbank_hybrid_cached_ms": cached.to_dict(),
        "haystack_retrieval_only_ms": retrieval_only.to_dict(),
        "speedup_p50_uncached": ratio(theirs.p50, ours.p50),
        "speedup_per_query_p50_uncached": round(per_query[len(per_query) // 2], 3),
        "speedup_p50_cached": ratio(theirs.p50, cached.p50),
        "speedup_p50_retrieval_only": ratio(retrieval_only.p50, cached.p50),
        "accuracy": {"qbank": ranking_scores(ours_ranked, golds), "haystack": ranking_scores(theirs_ranked, golds)},
    }
