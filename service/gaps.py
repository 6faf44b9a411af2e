"""Questions the bank cannot answer, grouped by meaning: many phrasings of one
missing topic ("explain k8s pod scheduling", "how does the kubernetes
scheduler place pods") become one gap with a count and examples.

``GapClusterer`` embeds the texts with the app's own embedder (the model the
searcher uses) and joins them by average-linkage clustering, cut where the
mean cosine between two groups falls below ``similarity``.  Vectors are kept
in a bounded cache, so the insights page, asked again, embeds only what is new.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from index.embed import Embedder
from service.store.queries import TextCount

EXAMPLES = 5
# Mean cosine (MiniLM) at which two groups of texts are one topic.  On the replayed log of
# tests/fixtures/query-log, 0.2 to 0.4 all give one gap per topic; 0.5 splits "rust lifetimes"
# from "the borrow checker".  The middle of that band:
SIMILARITY = 0.35
_TRAILING = re.compile(r"[\s?!.,;:]+$")


def normalized(text: str) -> str:
    """What two askings of the same words share: lower case, one space, no closing punctuation."""
    return _TRAILING.sub("", " ".join(text.lower().split()))


@dataclass(frozen=True, slots=True)
class Gap:
    """One topic asked about without an answer: ``count`` askings in
    ``phrasings`` different wordings; ``label`` is the most asked wording,
    ``examples`` the most asked first; ``id`` is stable while the label is."""

    id: str
    label: str
    count: int
    phrasings: int
    examples: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime


def _gap(texts: Sequence[TextCount]) -> Gap:
    ordered = sorted(texts, key=lambda t: (-t.count, t.text))
    label = ordered[0].text
    return Gap(
        id=hashlib.sha256(normalized(label).encode()).hexdigest()[:12],
        label=label,
        count=sum(t.count for t in texts),
        phrasings=len(texts),
        examples=tuple(t.text for t in ordered[:EXAMPLES]),
        first_seen=min(t.first_seen for t in texts),
        last_seen=max(t.last_seen for t in texts),
    )


def merge_same(texts: Sequence[TextCount]) -> list[TextCount]:
    """Texts that differ only in case, spacing or closing punctuation, as one
    (shown as its most asked wording)."""
    groups: dict[str, list[TextCount]] = {}
    for t in texts:
        groups.setdefault(normalized(t.text), []).append(t)
    merged = []
    for group in groups.values():
        shown = max(group, key=lambda t: (t.count, t.text))
        merged.append(
            TextCount(
                text=shown.text,
                count=sum(t.count for t in group),
                first_seen=min(t.first_seen for t in group),
                last_seen=max(t.last_seen for t in group),
            )
        )
    return merged


class GapClusterer:
    """Abstained texts into gaps, the most asked first."""

    def __init__(self, embedder: Embedder, similarity: float = SIMILARITY, cache_size: int = 20_000) -> None:
        if not 0.0 < similarity < 1.0:
            raise ValueError(f"similarity must be between 0 and 1, got {similarity}")
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, got {cache_size}")
        self.embedder = embedder
        self.similarity = similarity
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, texts: Sequence[TextCount]) -> list[Gap]:
        merged = merge_same(texts)
        if not merged:
            return []
        labels = self._clusters([normalized(t.text) for t in merged])
        groups: dict[int, list[TextCount]] = {}
        for label, text in zip(labels, merged, strict=True):
            groups.setdefault(label, []).append(text)
        gaps = [_gap(group) for group in groups.values()]
        return sorted(gaps, key=lambda g: (-g.count, -g.phrasings, g.label))

    def _clusters(self, keys: list[str]) -> list[int]:
        if len(keys) == 1:
            return [1]
        vectors = self._vectors(keys).astype(np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.where(norms == 0, 1.0, norms)  # a text without a vector is like nothing else
        distances = 1.0 - np.clip(vectors @ vectors.T, -1.0, 1.0)
        np.fill_diagonal(distances, 0.0)
        # Imported here: the insights are looked at now and then, and the import costs a start ~0.2 s.
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        tree = linkage(squareform(distances, checks=False), method="average")
        return [int(c) for c in fcluster(tree, t=1.0 - self.similarity, criterion="distance")]

    def _vectors(self, keys: list[str]) -> np.ndarray:
        with self._lock:
            known = {k: self._cache[k] for k in keys if k in self._cache}
        missing = [k for k in dict.fromkeys(keys) if k not in known]
        if missing:
            fresh = self.embedder.encode(missing)
            known.update(zip(missing, fresh, strict=True))
            with self._lock:
                for key, vector in zip(missing, fresh, strict=True):
                    self._cache[key] = vector
                    self._cache.move_to_end(key)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return np.stack([known[k] for k in keys])
