"""A corpus ~N chunks large made from the real banks, for the scale benchmark.

Embedding 100k chunks with MiniLM on 2 CPU cores would take the better part of
an hour, so the replicas' vectors are not embedded: they are made from real
chunk embeddings.  Replica ``r`` of chunk ``i`` gets

* text: chunk ``i``'s first line (title), then its sentences shuffled, with
  about 8% of words dropped and 5% doubled, plus one sentence taken from a
  chunk ``j`` of another bank (sections mixed across banks), so BM25 sees the
  real vocabulary with varied term frequencies, document lengths and
  co-occurrences;
* vector: ``normalise(v_i + 0.25 v_j + noise)``, gaussian noise of 0.03 per
  dimension, so each replica sits near (cosine about 0.85) but not on its
  source, pulled toward the mixed-in chunk.  FAISS sees dense clusters of
  near-duplicates around every real topic, a hard case for HNSW recall.

Replica 0 is the real corpus unchanged, so eval gold ids still exist; a
replica's ids carry a ``~r<n>`` suffix (``base_id`` strips it).
"""

from __future__ import annotations

import random
import re
from dataclasses import replace

import numpy as np

from ingest.models import Chunk, Question, QuickRef
from ingest.pipeline import Corpus

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_SUFFIX = re.compile(r"~r\d+$")


def base_id(record_id: str) -> str:
    return _SUFFIX.sub("", record_id)


def _vary_words(text: str, rng: random.Random) -> str:
    out: list[str] = []
    for word in text.split(" "):
        roll = rng.random()
        if roll < 0.08 and len(out) > 1:
            continue
        out.append(word)
        if roll > 0.95:
            out.append(word)
    return " ".join(out)


def vary_text(text: str, partner: str, rng: random.Random) -> str:
    head, _, body = text.partition("\n")
    parts = [p for p in _SENTENCE.split(body) if p.strip()]
    rng.shuffle(parts)
    partner_parts = [p for p in _SENTENCE.split(partner.partition("\n")[2] or partner) if p.strip()]
    if partner_parts:
        parts.append(rng.choice(partner_parts))
    return head + "\n" + "\n".join(_vary_words(p, rng) for p in parts)


def _rename_question(q: Question, suffix: str) -> Question:
    return replace(q, id=q.id + suffix, quick_ref_ids=tuple(x + suffix for x in q.quick_ref_ids))


def _rename_quick_ref(r: QuickRef, suffix: str) -> QuickRef:
    return replace(r, id=r.id + suffix, question_id=r.question_id + suffix if r.question_id else None)


def replicate(corpus: Corpus, vectors: np.ndarray, target_chunks: int, seed: int = 0) -> tuple[Corpus, np.ndarray]:
    """The corpus replicated (with variation) to exactly ``target_chunks`` chunks."""
    base = corpus.chunks
    n = len(base)
    if vectors.shape[0] != n:
        raise ValueError(f"{n} chunks but {vectors.shape[0]} vectors")
    if target_chunks < n:
        raise ValueError(f"target {target_chunks} is below the real corpus's {n} chunks")
    rng = random.Random(seed)
    banks = [c.meta.get("bank", "") for c in base]
    by_bank: dict[str, list[int]] = {}
    for i, b in enumerate(banks):
        by_bank.setdefault(b, []).append(i)
    others = {b: [i for i in range(n) if banks[i] != b] or list(range(n)) for b in by_bank}

    chunks: list[Chunk] = list(base)
    questions: list[Question] = list(corpus.questions)
    quick_refs: list[QuickRef] = list(corpus.quick_refs)
    source = list(range(n))
    partner = list(range(n))
    replica = 1
    while len(chunks) < target_chunks:
        suffix = f"~r{replica}"
        take = min(n, target_chunks - len(chunks))
        for i in range(take):
            j = rng.choice(others[banks[i]])
            c = base[i]
            chunks.append(
                replace(
                    c,
                    id=c.id + suffix,
                    doc_id=c.doc_id + suffix,
                    record_id=c.record_id + suffix,
                    text=vary_text(c.text, base[j].text, rng),
                    meta={**c.meta, "replica": replica},
                )
            )
            source.append(i)
            partner.append(j)
        questions += [_rename_question(q, suffix) for q in corpus.questions]
        quick_refs += [_rename_quick_ref(r, suffix) for r in corpus.quick_refs]
        replica += 1

    nrng = np.random.default_rng(seed)
    src, par = np.asarray(source[n:]), np.asarray(partner[n:])
    noise = nrng.standard_normal((len(src), vectors.shape[1]), dtype=np.float32) * 0.03
    made = vectors[src] + 0.25 * vectors[par] + noise
    made /= np.linalg.norm(made, axis=1, keepdims=True)
    all_vectors = np.vstack([vectors, made.astype(np.float32)])
    scaled = Corpus(
        questions=tuple(questions),
        quick_refs=tuple(quick_refs),
        chunks=tuple(chunks),
        warnings=(),
        banks=corpus.banks,
    )
    return scaled, np.ascontiguousarray(all_vectors, dtype=np.float32)
