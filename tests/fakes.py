"""Deterministic stand-ins for what tests of mechanics do not need for real.

``HashEmbedder`` replaces the packaged model through the real seam (it is an
``Embedder``: ``ingest(..., embedder)``, ``create_app(..., embedder=...)``),
the way simonw/llm's tests register a fake model through the plugin hook.
Tests that check behaviour that does not depend on meaning (input
validation, limits, error paths, fuzzing) use it: an index builds in well
under a second and nothing is loaded.  Search-quality tests, the eval gate,
the server, browser and Slack tiers keep the real model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from index.embed import Embedder
from index.tokenize import tokenize


class HashEmbedder(Embedder):
    """Each word and adjacent word pair (after the index's own tokenizer) is
    hashed to one signed dimension; a text's vector is their normalised sum.
    Texts sharing words are close, so retrieval still works lexically."""

    MODEL = "test-hash-embedder"
    DIMENSION = 384

    def __init__(self) -> None:
        super().__init__(model=self.MODEL)

    def load(self) -> HashEmbedder:
        return self

    @property
    def dimension(self) -> int:
        return self.DIMENSION

    def describe(self) -> dict[str, str]:
        return {"backend": "test-hash"}

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = tokenize(text)
            for feature in [*tokens, *(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))]:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.DIMENSION] += 1.0 if value & (1 << 63) else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out
