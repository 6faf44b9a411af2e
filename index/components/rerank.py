"""Rerank: re-score the fused ranking's top records with a costlier judge.

``RerankStage`` is a pipeline stage: it takes the ``depth`` best allowed
records, asks a ``Reranker`` how relevant each is, and lifts each by
``weight`` times its relevance above the weakest candidate's (a blend with
the fused score), or with ``weight`` None orders the candidates by the
reranker alone by handing the candidates' own fused scores back out in the
reranker's order (so scores keep their scale: relevance cuts and related
lists that compare scores still work); either way candidates only move among
themselves and stay above the rest.  A reranker that cannot judge
(an LLM that fails or answers nonsense) returns None and the fused order
stands.

Two rerankers:

- ``LateInteractionReranker``: every query token finds its best match among
  a record's chunk tokens (MaxSim over the packaged model's contextual token
  vectors, ColBERT-style scoring without ColBERT training); a record scores
  as its best chunk.  Cheap enough to measure here; needs the model's token
  outputs, which only the torch build side has (the export extra).
- ``LLMListwiseReranker``: the configured OpenAI-compatible model orders the
  candidates (titles and a short excerpt) in one call.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np

from index.components.scores import RecordScores, top_positions
from index.query import AnalyzedQuery
from ingest.models import Chunk, Question, QuickRef

log = logging.getLogger(__name__)


class Reranker(Protocol):
    """Relevance of each candidate record (positions in the searcher's record
    order) to ``query``, higher is better; None when it cannot judge."""

    def score(self, query: str, candidates: np.ndarray) -> np.ndarray | None: ...


class RerankStage:
    def __init__(self, reranker: Reranker, depth: int = 10, weight: float | None = 0.4) -> None:
        if depth < 2:
            raise ValueError(f"depth must be at least 2, got {depth}")
        if weight is not None and weight <= 0:
            raise ValueError(f"weight must be positive (or None: the reranker's order alone), got {weight}")
        self.reranker = reranker
        self.depth = depth
        self.weight = weight

    def run(self, analyzed: AnalyzedQuery, fused: RecordScores, pool: np.ndarray) -> RecordScores:
        if analyzed.company_only or len(pool) < 2:
            return fused
        candidates = pool[top_positions(fused.scores[pool], self.depth)]
        relevance = self.reranker.score(analyzed.text, candidates)
        if relevance is None:
            return fused
        if relevance.shape != candidates.shape or not np.all(np.isfinite(relevance)):
            log.warning("reranker gave %s scores for %d candidates; fused order kept", relevance.shape, len(candidates))
            return fused
        scores = fused.scores.astype(np.float32, copy=True)
        if self.weight is None:
            by_reranker = candidates[np.argsort(-relevance, kind="stable")]
            scores[by_reranker] = np.sort(scores[candidates])[::-1]
        else:
            scores[candidates] += self.weight * (relevance - relevance.min())
        return RecordScores(scores, fused.best_chunk)


TokenEncoder = Callable[[Sequence[str]], list[np.ndarray]]  # texts -> one (tokens x dim) array each


def sentence_transformer_tokens(model: str) -> TokenEncoder:
    """The model's contextual token vectors, L2-normalised per token (torch,
    loaded on first use: a searcher that never reranks this way needs neither
    torch nor the model package)."""
    loaded: list[object] = []

    def encode(texts: Sequence[str]) -> list[np.ndarray]:
        if not loaded:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise RuntimeError(
                    "late-interaction rerank needs the model's token vectors, which only the build side has: "
                    "pip install -e '.[export]' (torch==2.13.0 first)"
                ) from exc
            from index.embed import model_path

            loaded.append(SentenceTransformer(model_path(model), device="cpu"))
        encoder = loaded[0]
        out = encoder.encode(list(texts), output_value="token_embeddings", convert_to_numpy=False, batch_size=32)  # type: ignore[attr-defined]
        vectors = [t.float().numpy() for t in out]
        return [v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9) for v in vectors]

    return encode


class LateInteractionReranker:
    """MaxSim of the query's tokens against each candidate's chunks; the
    chunks' token vectors are computed once, on the first query (a few
    seconds for the shipped bank), and kept as float16."""

    def __init__(self, chunks: Sequence[Chunk], doc_ids: Sequence[str], encode_tokens: TokenEncoder) -> None:
        position = {d: i for i, d in enumerate(doc_ids)}
        self.texts = [c.text for c in chunks]
        self.chunks_of: list[list[int]] = [[] for _ in doc_ids]
        for i, chunk in enumerate(chunks):
            self.chunks_of[position[chunk.doc_id]].append(i)
        self.encode_tokens = encode_tokens
        self._chunk_tokens: list[np.ndarray] | None = None

    def _tokens(self) -> list[np.ndarray]:
        if self._chunk_tokens is None:
            self._chunk_tokens = [t.astype(np.float16) for t in self.encode_tokens(self.texts)]
        return self._chunk_tokens

    def score(self, query: str, candidates: np.ndarray) -> np.ndarray | None:
        chunk_tokens = self._tokens()
        (q,) = self.encode_tokens([query])
        out = np.empty(len(candidates), dtype=np.float32)
        for n, doc in enumerate(candidates):
            best = -1.0
            for c in self.chunks_of[int(doc)]:
                best = max(best, float((q @ chunk_tokens[c].T.astype(np.float32)).max(axis=1).mean()))
            out[n] = best
        return out


RERANK_PROMPT = (
    "You rank interview-question answers for a candidate's query. Below are numbered candidates (title and the "
    "start of the answer). Order ALL of them from most to least useful for the query. Reply with JSON only, "
    'like {"ranking": [3, 1, 2]}.'
)
_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


class ChatCompleter(Protocol):
    def complete(self, messages: list[dict[str, str]], max_tokens: int) -> str: ...


class LLMListwiseReranker:
    """One chat completion orders the candidates; the answer is parsed
    leniently (JSON object or bare list, numbers out of range and repeats
    dropped, candidates it forgot kept in fused order after the rest), and
    anything unusable or a failing endpoint leaves the fused order."""

    EXCERPT_CHARS = 300

    def __init__(
        self,
        llm: ChatCompleter,
        records: Mapping[str, Question | QuickRef],
        doc_ids: Sequence[str],
        max_in_flight: int = 4,
    ) -> None:
        self.llm = llm
        self.records = records
        self.doc_ids = list(doc_ids)
        # At most this many calls at once: a slow endpoint must not hold every worker thread;
        # a query that finds them all busy keeps the fused order.
        self._slots = threading.BoundedSemaphore(max_in_flight)

    def messages(self, query: str, candidates: np.ndarray) -> list[dict[str, str]]:
        lines = []
        for n, doc in enumerate(candidates, 1):
            record = self.records[self.doc_ids[int(doc)]]
            text = record.answer_markdown if isinstance(record, Question) else ", ".join(record.topics)
            excerpt = " ".join(text.split())[: self.EXCERPT_CHARS]
            lines.append(f"[{n}] {record.title}\n{excerpt}")
        user = "Candidates:\n\n" + "\n\n".join(lines) + f"\n\nQuery: {query}"
        return [{"role": "system", "content": RERANK_PROMPT}, {"role": "user", "content": user}]

    @staticmethod
    def parse(reply: str, n: int) -> list[int] | None:
        """Candidate numbers (1-based) best first, or None when the reply holds no usable ranking."""
        found = _JSON_OBJECT.search(reply)
        order: object = None
        try:
            data = json.loads(found.group(0)) if found else json.loads(reply)
            order = data.get("ranking") if isinstance(data, dict) else data
        except (ValueError, AttributeError):
            return None
        if not isinstance(order, list):
            return None
        picked: list[int] = []
        for value in order:
            if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= n and value not in picked:
                picked.append(value)
        return picked or None

    def score(self, query: str, candidates: np.ndarray) -> np.ndarray | None:
        if not self._slots.acquire(blocking=False):
            log.warning("LLM rerank busy (every slot in use), fused order kept")
            return None
        try:
            reply = self.llm.complete(self.messages(query, candidates), max_tokens=200)
        except Exception as exc:  # noqa: BLE001 - any endpoint failure means: keep the fused order
            log.warning("LLM rerank failed, fused order kept: %s", exc)
            return None
        finally:
            self._slots.release()
        order = self.parse(reply, len(candidates))
        if order is None:
            log.warning("LLM rerank reply held no ranking, fused order kept: %r", reply[:120])
            return None
        order += [i for i in range(1, len(candidates) + 1) if i not in order]
        relevance = np.empty(len(candidates), dtype=np.float32)
        for rank, number in enumerate(order):
            relevance[number - 1] = (len(candidates) - rank) / len(candidates)
        return relevance
