"""Shared pieces of the benchmark: latency summaries, the machine, memory, and
the eval queries as the benchmark sends them.

The machine is shared and noisy, so every figure is a distribution (median
and tail percentiles, never a mean alone) and comparisons are ratios taken
from measurements interleaved query by query.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from eval import metrics
from eval.dataset import EvalItem, load_items
from eval.sets import EVAL_SETS

T = TypeVar("T")

CHECKOUT = Path(__file__).resolve().parent.parent

DEFAULT_QUERIES = EVAL_SETS["standard"].files[0]  # the single-turn queries; conversations are not timed


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Milliseconds over ``n`` timed calls."""

    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float

    @classmethod
    def of(cls, ms: Sequence[float]) -> LatencyStats:
        if not ms:
            raise ValueError("no timings to summarise")
        pct = {q: metrics.percentile(ms, q) or 0.0 for q in (50, 95, 99)}
        return cls(len(ms), pct[50], pct[95], pct[99], sum(ms) / len(ms), max(ms))

    def to_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """``fn(*args, **kwargs)`` and its wall time in milliseconds."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, (time.perf_counter() - start) * 1000


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def run_module(module: str, *args: str, timeout_s: float) -> dict[str, Any]:
    """``python -m module args`` in a fresh interpreter that imports this
    checkout (the bench is not installed), and the JSON object on the last line
    it prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", module, *args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- the eval queries -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchQuery:
    """One eval item as every system under test receives it: multi-turn items
    are rewritten to a standalone query first, the same for all of them."""

    id: str
    text: str
    kind: str
    gold: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


def bench_queries(path: Path = DEFAULT_QUERIES, limit: int | None = None) -> tuple[BenchQuery, ...]:
    """The eval queries as single searches.  A follow-up is timed as the query
    a follow-up is searched with: the previous turn and the message together."""
    items: Iterable[EvalItem] = load_items(path)
    out = tuple(BenchQuery(i.id, " ".join([*i.history[-1:], i.query]), i.kind, i.gold) for i in items)
    return out[:limit] if limit else out


def spread(queries: Sequence[BenchQuery], n: int) -> tuple[BenchQuery, ...]:
    """``n`` queries taken evenly across the file (so every kind is represented)."""
    if n >= len(queries):
        return tuple(queries)
    step = len(queries) / n
    return tuple(queries[int(i * step)] for i in range(n))


def ranking_scores(ranked: Sequence[Sequence[str]], golds: Sequence[Sequence[str]], k: int = 10) -> dict[str, float]:
    """hit@1 and MRR@k over the answerable queries."""
    pairs = [(r, g) for r, g in zip(ranked, golds, strict=True) if g]
    if not pairs:
        return {"n": 0}
    return {
        "n": len(pairs),
        "hit@1": round(sum(metrics.hit_at(r, g, 1) for r, g in pairs) / len(pairs), 4),
        f"mrr@{k}": round(sum(metrics.reciprocal_rank(r, g, k) for r, g in pairs) / len(pairs), 4),
    }


# -- the machine and its memory -----------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def machine_info() -> dict[str, Any]:
    import faiss
    import numpy
    import torch

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "ram_gib": _mem_total_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch_default_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "numpy": numpy.__version__,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def rss_mib(pid: int | None = None) -> float:
    """Resident memory of one process in MiB (0.0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return out


def tree_rss_mib(pid: int) -> float:
    return sum(rss_mib(p) for p in tree_pids(pid))


def dir_bytes(path: Path) -> int:
    path = path.resolve()
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
