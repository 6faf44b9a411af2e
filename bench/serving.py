"""HTTP benchmark: startup to ready, throughput and latency of ``/api/search`` and
``/api/chat`` at several concurrencies, and the server's memory after load.

Two regimes: the eval queries cycled after one warm-up pass (their query
embeddings are in the server's LRU cache, as repeated questions are in
production), and every query unique (a suffix defeats the cache, so each
request runs the encoder; no two runs share a query, so each starts cold).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import LoadResult, RequestSpec, load_in_subprocess, run_wrk, wrk_available
from bench.server import ServerProcess
from bench.stats import BenchQuery


def search_spec(text: str, k: int = 10) -> RequestSpec:
    return RequestSpec("GET", "/api/search?" + urllib.parse.urlencode({"q": text, "k": k}))


def chat_spec(text: str) -> RequestSpec:
    body = {"messages": [{"role": "user", "content": text}]}
    return RequestSpec("POST", "/api/chat", json.dumps(body, ensure_ascii=True))


def unique(texts: Sequence[str], n: int, start: int = 0) -> list[str]:
    """``n`` distinct queries: the eval queries with a numbered suffix (numbers
    from ``start``, so that runs given different starts share no query)."""
    return [f"{texts[i % len(texts)]} v{i}" for i in range(start, start + n)]


def _warm(base_url: str, specs: Sequence[RequestSpec]) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for s in specs:
            client.request(s.method, s.path, content=s.body, headers={"Content-Type": "application/json"})
    return time.perf_counter() - started


def _drive(base_url: str, specs: Sequence[RequestSpec], concurrency: int, seconds: float) -> LoadResult:
    if wrk_available():
        return run_wrk(base_url, specs, concurrency, seconds)
    return load_in_subprocess(base_url, specs, concurrency, seconds)


def http_section(
    index_dir: Path,
    queries: Sequence[BenchQuery],
    workers: int,
    seconds: float,
    concurrencies: Sequence[int] = (1, 8, 32),
) -> dict[str, Any]:
    texts = [q.text for q in queries]
    searches = [search_spec(t) for t in texts]
    chats = [chat_spec(t) for t in texts]
    # Enough distinct queries that none repeats within a run (the encoder bounds the
    # rate), and none shared between runs: each uncached run starts cold.
    per_run = 4000
    runs: list[dict[str, Any]] = []
    server = ServerProcess(index_dir, workers=workers)
    try:
        ready_s = server.start()
        rss_ready = server.rss_mib()
        warm_s = _warm(server.base_url, searches)
        for name, specs in (("/api/search", searches), ("/api/chat", chats)):
            for c in concurrencies:
                result = _drive(server.base_url, specs, c, seconds)
                runs.append({"endpoint": name, "regime": "cached", **result.to_dict()})
        for i, c in enumerate((1, 8)):
            fresh = [search_spec(t) for t in unique(texts, per_run, start=i * per_run)]
            result = _drive(server.base_url, fresh, c, seconds)
            runs.append({"endpoint": "/api/search", "regime": "uncached", **result.to_dict()})
        fresh = [chat_spec(t) for t in unique(texts, per_run, start=2 * per_run)]
        result = _drive(server.base_url, fresh, 8, seconds)
        runs.append({"endpoint": "/api/chat", "regime": "uncached", **result.to_dict()})
        rss_after = server.rss_mib()
    finally:
        server.stop()
    return {
        "workers": workers,
        "load_generator": "wrk -t1 (Debian)" if wrk_available() else "bench.loadgen (asyncio+httpx, own process)",
        "seconds_per_run": seconds,
        "queries": len(texts),
        "startup_to_ready_s": round(ready_s, 3),
        "warm_up_pass_s": round(warm_s, 3),
        "rss_mib_ready": round(rss_ready, 1),
        "rss_mib_after_load": round(rss_after, 1),
        "runs": runs,
    }
