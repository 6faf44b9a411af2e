"""Build an ``IndexArtifact`` from an ingested ``Corpus``.

Embeddings are cached by the hash of the embedded text: a rebuild after a
content change re-embeds only the chunks whose text changed.  Once the rows
are linked, a ``RowEnricher`` (``ingest.enrich``) may add knowledge to the
rows no full answer covers; only its new chunks are embedded then.  The
answers' sentence units (``index.sentences``) are embedded last, cached by
text hash the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.dense import DenseIndex
from index.embed import Embedder, text_hash
from index.neighbours import Neighbours
from index.query import mine_acronyms
from index.sentences import chunk_sentences
from index.sparse import SparseIndex
from index.store import FORMAT_VERSION, IndexArtifact, Manifest, SentenceUnits, content_hash
from index.tokenize import tokenize
from ingest.enrich import EnrichmentReport, RowEnricher
from ingest.linking import refine_links
from ingest.models import Chunk
from ingest.pipeline import Corpus

log = logging.getLogger(__name__)

HNSW_THRESHOLD = 50_000


@dataclass(frozen=True, slots=True)
class BuildStats:
    chunks: int
    embedded: int
    reused: int
    seconds: float
    enrichment: EnrichmentReport | None = None  # what the enricher did, when there was one
    sentences: int = 0  # sentence units in the index
    sentences_embedded: int = 0  # of them, embedded by this build (the rest reused)


def choose_dense_kind(n_chunks: int, setting: str = "auto", threshold: int = HNSW_THRESHOLD) -> str:
    if setting == "auto":
        return "hnsw" if n_chunks >= threshold else "flat"
    if setting not in ("flat", "hnsw"):
        raise ValueError(f"dense index kind must be auto, flat or hnsw, not {setting!r}")
    return setting


def relink(corpus: Corpus, vectors: np.ndarray) -> Corpus:
    """Final quick-reference links from title words and embeddings together
    (``vectors``: one per chunk; only the rows' and the title chunks' are
    read); every chunk of a linked row then scores for its question."""
    pos = {c.id: i for i, c in enumerate(corpus.chunks)}

    def cosine(row_id: str, question_id: str) -> float:
        a, b = pos.get(f"{row_id}#row"), pos.get(f"{question_id}#title")
        return float(vectors[a] @ vectors[b]) if a is not None and b is not None else 0.0

    questions, refs = refine_links(corpus.questions, corpus.quick_refs, cosine)
    owner = {r.id: (r.question_id or r.id) for r in refs}
    chunks = tuple(replace(c, doc_id=owner[c.record_id]) if c.record_id in owner else c for c in corpus.chunks)
    return replace(corpus, questions=tuple(questions), quick_refs=tuple(refs), chunks=chunks)


def build_artifact(
    corpus: Corpus,
    embedder: Embedder,
    previous: IndexArtifact | None = None,
    dense_kind: str = "auto",
    progress: bool = False,
    enricher: RowEnricher | None = None,
    neighbours: Sequence[tuple[str, str]] = (),
) -> tuple[IndexArtifact, BuildStats]:
    """The stages below, in order: embed (reusing ``previous``), relink,
    enrich (with ``enricher``: the rows' new chunks embedded), sentence units
    and ``neighbours`` (neighbouring subjects' (subject, question) pairs; both
    embedded, reusing ``previous``), FAISS, BM25, acronyms, manifest."""
    if not corpus.chunks:
        raise ValueError("nothing to index: the content folder yielded no questions or quick-reference rows")
    start = time.perf_counter()
    hashes = chunk_hashes(corpus.chunks)
    vectors, embedded = embed_chunks(corpus.chunks, hashes, embedder, previous=previous, progress=progress)
    corpus = relink(corpus, vectors)
    report = None
    if enricher is not None:
        enriched, report = enricher.run(corpus)
        if enriched is not corpus:
            known = dict(zip(hashes, vectors, strict=True))
            corpus, hashes = enriched, chunk_hashes(enriched.chunks)
            vectors, more = embed_chunks(corpus.chunks, hashes, embedder, previous, progress, known=known)
            embedded += more
    units, units_embedded = embed_sentences(corpus.chunks, embedder, previous, progress)
    near = embed_neighbours(neighbours, embedder, previous, progress) if neighbours else None
    dense = DenseIndex.build(vectors, kind=choose_dense_kind(len(hashes), dense_kind))
    sparse = SparseIndex.build(tokenize_chunks(corpus.chunks))
    acronyms = corpus_acronyms(corpus)
    artifact = assemble(corpus, hashes, vectors, dense, sparse, acronyms, embedder.model_name, embedder.describe())
    counts = {**artifact.manifest.counts, "sentences": len(units), **({"neighbours": len(near)} if near else {})}
    artifact = replace(artifact, sentences=units, neighbours=near, manifest=replace(artifact.manifest, counts=counts))
    stats = BuildStats(
        chunks=len(hashes),
        embedded=embedded,
        reused=len(hashes) - embedded,
        seconds=time.perf_counter() - start,
        enrichment=report,
        sentences=len(units),
        sentences_embedded=units_embedded,
    )
    return artifact, stats


# -- the stages, also timed one by one by the scale benchmark (bench/scale.py) --------------


def chunk_hashes(chunks: Sequence[Chunk]) -> list[str]:
    """Each chunk's text hash: the embedding cache key, and what the content hash is made of."""
    return [text_hash(c.text) for c in chunks]


def embed_chunks(
    chunks: Sequence[Chunk],
    hashes: Sequence[str],
    embedder: Embedder,
    previous: IndexArtifact | None = None,
    progress: bool = False,
    known: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, int]:
    """One embedding per chunk, taken from ``previous`` (an index built with the
    same model) or ``known`` (text hash -> vector, this build's) where the
    text is unchanged; the vectors and how many were embedded."""
    cache: dict[str, np.ndarray] = {}
    if previous is not None and previous.manifest.model == embedder.model_name:
        cache = {h: previous.embeddings[i] for i, h in enumerate(previous.chunk_hashes)}
    cache.update(known or {})
    return _embed_uncached([c.text for c in chunks], hashes, cache, embedder, progress, "chunks")


def _embed_uncached(
    texts: Sequence[str],
    hashes: Sequence[str],
    cache: Mapping[str, np.ndarray],
    embedder: Embedder,
    progress: bool,
    what: str,
) -> tuple[np.ndarray, int]:
    """One vector per text: ``cache``'s (by text hash) where it has one, the rest
    embedded in batches; and how many were embedded."""
    missing = [i for i, h in enumerate(hashes) if h not in cache]
    log.info("embedding %d of %d %s (%d cached)", len(missing), len(hashes), what, len(hashes) - len(missing))
    fresh = embedder.encode([texts[i] for i in missing], progress=progress)
    vectors = np.zeros((len(hashes), embedder.dimension), dtype=np.float32)
    for row, i in enumerate(missing):
        vectors[i] = fresh[row]
    for i, h in enumerate(hashes):
        if h in cache:
            vectors[i] = cache[h]
    return vectors, len(missing)


def embed_sentences(
    chunks: Sequence[Chunk], embedder: Embedder, previous: IndexArtifact | None = None, progress: bool = False
) -> tuple[SentenceUnits, int]:
    """The answers' sentence units with their vectors, taken from ``previous``'s
    units (same model) where the text is unchanged, the rest embedded in
    batches; and how many were embedded."""
    found = chunk_sentences(chunks)
    texts = [text for _, text in found]
    hashes = [text_hash(text) for text in texts]
    cache = _sentence_cache(previous, embedder)
    vectors, embedded = _embed_uncached(texts, hashes, cache, embedder, progress, "sentence units")
    positions = np.asarray([position for position, _ in found], dtype=np.int64)
    return SentenceUnits(positions, tuple(hashes), vectors), embedded


def embed_neighbours(
    pairs: Sequence[tuple[str, str]],
    embedder: Embedder,
    previous: IndexArtifact | None = None,
    progress: bool = False,
) -> Neighbours:
    """The neighbouring subjects' questions with their vectors (``previous``'s where
    the text is unchanged and the model the same)."""
    texts = [question for _, question in pairs]
    hashes = [text_hash(text) for text in texts]
    cache: dict[str, np.ndarray] = {}
    if previous is not None and previous.neighbours is not None and previous.manifest.model == embedder.model_name:
        near = previous.neighbours
        cache = {h: near.embeddings[i] for i, h in enumerate(near.hashes)}
    vectors, _ = _embed_uncached(texts, hashes, cache, embedder, progress, "neighbouring questions")
    return Neighbours(tuple(s for s, _ in pairs), tuple(texts), tuple(hashes), vectors)


def _sentence_cache(previous: IndexArtifact | None, embedder: Embedder) -> dict[str, np.ndarray]:
    if previous is None or previous.sentences is None or previous.manifest.model != embedder.model_name:
        return {}
    units = previous.sentences
    return {h: units.embeddings[i] for i, h in enumerate(units.hashes)}


def tokenize_chunks(chunks: Sequence[Chunk]) -> list[list[str]]:
    """Each chunk's BM25 tokens."""
    return [tokenize(c.text) for c in chunks]


def corpus_acronyms(corpus: Corpus) -> dict[str, str]:
    """Acronym expansions mined from the titles and the answer text (not the
    quick-reference rows, nor the pages and overviews added to them: the
    bank's own words decide what its acronyms mean)."""
    return mine_acronyms(
        [q.title for q in corpus.questions]
        + [r.title for r in corpus.quick_refs]
        + [c.text for c in corpus.chunks if c.kind not in ("quick_reference", "article", "expansion")]
    )


def assemble(
    corpus: Corpus,
    hashes: list[str],
    vectors: np.ndarray,
    dense: DenseIndex,
    sparse: SparseIndex,
    acronyms: dict[str, str],
    model: str,
    encoder: dict[str, str] | None = None,
) -> IndexArtifact:
    """The artifact from its built parts, with its manifest."""
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        model=model,
        dimension=int(vectors.shape[1]),
        counts={
            "questions": len(corpus.questions),
            "quick_refs": len(corpus.quick_refs),
            "chunks": len(corpus.chunks),
            "code_blocks": sum(len(q.code_blocks) for q in corpus.questions),
            "banks": len({q.bank_slug for q in corpus.questions} | {r.bank_slug for r in corpus.quick_refs}),
            **knowledge_counts(corpus),
        },
        content_hash=content_hash(hashes),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        dense_kind=dense.kind,
        files={},
        encoder=dict(encoder or {}),
    )
    return IndexArtifact(
        manifest=manifest,
        questions=corpus.questions,
        quick_refs=corpus.quick_refs,
        chunks=corpus.chunks,
        chunk_hashes=tuple(hashes),
        embeddings=vectors,
        dense=dense,
        sparse=sparse,
        acronyms=acronyms,
    )


def knowledge_counts(corpus: Corpus) -> dict[str, int]:
    """Rows carrying a practice-link article or a generated overview, for the
    manifest's counts (absent when none does, as before either existed)."""
    counts = {
        "row_articles": sum(r.article is not None for r in corpus.quick_refs),
        "row_expansions": sum(r.expansion is not None for r in corpus.quick_refs),
    }
    return {k: n for k, n in counts.items() if n}
