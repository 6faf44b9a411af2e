"""The query micro-batcher (index/batcher.py): concurrent callers share one
encode call, each gets its own vector, an encoder error reaches every caller
of its batch, and close() never leaves a caller waiting.  No timing asserts:
batches are made deterministic by holding the encoder busy (a leader waits for
company only while another batch is being encoded) and by waits far longer
than any test, which only a full batch or close() can cut short."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from fakes import HashEmbedder

from index.batcher import QueryBatcher
from qbank.settings import Settings, settings_embedder

JOIN_S = 60  # a bound on a hang, not a timing assert: every join below returns at once when the code is right
FOREVER_S = 3600.0  # a wait only a full batch or close() ends


class Encoder:
    """``encode_many`` for the batcher: records every call; a text "block" holds
    its call until ``release``; a text "boom" raises."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.blocked = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
        if "block" in texts:
            self.blocked.set()
            assert self.release.wait(JOIN_S)
        if "boom" in texts:
            raise ValueError("encoder failed")
        return np.stack([vector(t) for t in texts])


def vector(text: str) -> np.ndarray:
    """A vector that names its text."""
    return HashEmbedder().encode([text])[0]


def in_threads(fn: Callable[[str], object], texts: Sequence[str]) -> tuple[dict[int, object], list[threading.Thread]]:
    """``fn(text)`` for each text in its own thread; results (or raised exceptions) by position."""
    out: dict[int, object] = {}

    def call(i: int, text: str) -> None:
        try:
            out[i] = fn(text)
        except Exception as exc:
            out[i] = exc

    threads = [threading.Thread(target=call, args=(i, t), daemon=True) for i, t in enumerate(texts)]
    for t in threads:
        t.start()
    return out, threads


def join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(JOIN_S)
    assert not any(t.is_alive() for t in threads), "a caller is stuck"


def hold_encoder(batcher: QueryBatcher, encoder: Encoder) -> list[threading.Thread]:
    """Start one batch that stays in the encoder until ``encoder.release``."""
    _, threads = in_threads(batcher.encode, ["block"])
    assert encoder.blocked.wait(JOIN_S)
    return threads


def test_concurrent_callers_share_one_call_and_each_gets_its_own_vector() -> None:
    encoder = Encoder()
    texts = [f"query {i}" for i in range(8)]
    batcher = QueryBatcher(encoder, wait_s=FOREVER_S, max_batch=len(texts))
    holder = hold_encoder(batcher, encoder)
    out, threads = in_threads(batcher.encode, texts)  # the leader waits until all 8 are in
    join(threads)
    encoder.release.set()
    join(holder)
    assert sorted(map(sorted, encoder.calls)) == [["block"], sorted(texts)]
    for i, text in enumerate(texts):
        np.testing.assert_array_equal(out[i], vector(text))
    assert (batcher.batches, batcher.queries) == (2, 9)


def test_more_callers_than_a_batch_are_split_and_all_answered() -> None:
    encoder = Encoder()
    texts = [f"query {i}" for i in range(11)]
    batcher = QueryBatcher(encoder, wait_s=0.0, max_batch=4)
    holder = hold_encoder(batcher, encoder)
    out, threads = in_threads(batcher.encode, texts)
    join(threads)
    encoder.release.set()
    join(holder)
    assert all(len(call) <= 4 for call in encoder.calls)
    assert sorted(t for call in encoder.calls for t in call) == sorted([*texts, "block"])
    for i, text in enumerate(texts):
        np.testing.assert_array_equal(out[i], vector(text))


def test_a_query_asked_twice_in_a_batch_is_encoded_once() -> None:
    encoder = Encoder()
    texts = ["dropout", "dropout", "lasso"]
    batcher = QueryBatcher(encoder, wait_s=FOREVER_S, max_batch=3)
    holder = hold_encoder(batcher, encoder)
    out, threads = in_threads(batcher.encode, texts)
    join(threads)
    encoder.release.set()
    join(holder)
    assert sorted(encoder.calls[-1]) == ["dropout", "lasso"]
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[2], vector("lasso"))


def test_an_encoder_error_reaches_every_caller_of_its_batch_and_only_them() -> None:
    encoder = Encoder()
    texts = ["fine", "boom", "also fine"]
    batcher = QueryBatcher(encoder, wait_s=FOREVER_S, max_batch=3)
    holder = hold_encoder(batcher, encoder)
    out, threads = in_threads(batcher.encode, texts)
    join(threads)
    encoder.release.set()
    join(holder)
    assert all(isinstance(out[i], ValueError) and "encoder failed" in str(out[i]) for i in range(3))
    np.testing.assert_array_equal(batcher.encode("fine"), vector("fine"))  # the batcher still works


def test_close_ends_a_leaders_wait_and_later_callers_encode_alone() -> None:
    encoder = Encoder()
    batcher = QueryBatcher(encoder, wait_s=FOREVER_S, max_batch=8)
    holder = hold_encoder(batcher, encoder)
    out, threads = in_threads(batcher.encode, ["waiting 1", "waiting 2"])  # a leader waits for 6 more
    batcher.close()
    join(threads)  # would hang for an hour if close() did not wake the leader
    for i in (0, 1):
        np.testing.assert_array_equal(out[i], vector(f"waiting {i + 1}"))
    encoder.release.set()
    join(holder)
    calls = len(encoder.calls)
    np.testing.assert_array_equal(batcher.encode("after"), vector("after"))
    assert encoder.calls[calls:] == [["after"]]


def test_a_lone_query_does_not_wait() -> None:
    """With nothing else being encoded, the leader goes at once: a wait of an
    hour would otherwise hang this test."""
    encoder = Encoder()
    batcher = QueryBatcher(encoder, wait_s=FOREVER_S, max_batch=8)
    out, threads = in_threads(batcher.encode, ["alone"])
    join(threads)
    np.testing.assert_array_equal(out[0], vector("alone"))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="wait_s"):
        QueryBatcher(Encoder(), wait_s=-1)
    with pytest.raises(ValueError, match="max_batch"):
        QueryBatcher(Encoder(), wait_s=0.001, max_batch=0)


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[list[str]] = []
        self.batcher = QueryBatcher(self.encode, wait_s=FOREVER_S, max_batch=4)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.encoded.append(list(texts))
        return super().encode(texts, progress)


def test_the_embedder_batches_only_cache_misses_and_fills_the_cache() -> None:
    embedder = CountingEmbedder()
    first = embedder.encode_query("dropout")
    assert embedder.encoded == [["dropout"]]
    assert embedder.encode_query("dropout") is first  # the LRU answers, the encoder is not called
    assert embedder.encoded == [["dropout"]]
    np.testing.assert_array_equal(embedder.encode_query("lasso", use_cache=False), vector("lasso"))
    embedder.close()
    assert embedder.encode_query("after close").shape == (HashEmbedder.DIMENSION,)


def test_the_batching_setting_reaches_the_embedder() -> None:
    on = settings_embedder(Settings(_env_file=None, encoder="torch", query_batch_ms=1.5))  # type: ignore[call-arg]
    assert on.batcher is not None and on.batcher.wait_s == pytest.approx(0.0015)
    off = settings_embedder(
        Settings(_env_file=None, query_batch_ms=0, model_cache_dir=Path("/nonexistent"))  # type: ignore[call-arg]
    )
    assert off.batcher is None
    by_default = settings_embedder(Settings(_env_file=None, model_cache_dir=Path("/nonexistent")))  # type: ignore[call-arg]
    assert by_default.batcher is not None and by_default.batcher.wait_s == pytest.approx(0.001)


def test_int8_does_not_batch_and_says_so_only_when_batching_was_asked_for(caplog: pytest.LogCaptureFixture) -> None:
    cache = Path("/nonexistent")
    with caplog.at_level(logging.INFO, logger="index.onnx_encoder"):
        quiet = settings_embedder(Settings(_env_file=None, encoder="onnx-int8", model_cache_dir=cache))  # type: ignore[call-arg]
    assert quiet.batcher is None and "batching is off" not in caplog.text
    with caplog.at_level(logging.INFO, logger="index.onnx_encoder"):
        asked = Settings(_env_file=None, encoder="onnx-int8", query_batch_ms=2, model_cache_dir=cache)  # type: ignore[call-arg]
        told = settings_embedder(asked)
    assert told.batcher is None and "batching is off with the int8 encoder" in caplog.text
