"""This checkout against an earlier revision, side by side in one run.

``qbank bench --against REV`` checks REV out into a temporary git worktree
and serves both trees in turn, alternating which goes first, each from the
same model export and an index built by its own code:

* seconds from spawn to ``/readyz`` 200 and the server's memory when ready;
* ``/api/search`` with every query new to the embedding cache at
  concurrency 8 (``wrk -t1`` where installed), then the memory after it;
* ``/api/search`` over the eval queries once the embedding cache holds them
  (one untimed pass first), at the same concurrency: the path without the
  encoder, where the rest of a request's cost shows.

Both trees get their bytecode compiled first, as ``pip install`` does for a
deployment: a checkout run with ``PYTHONDONTWRITEBYTECODE`` (this project's
sandboxes, for one) would otherwise compile every module at every start,
and the figures would measure the compiler.  A tree runs with its root first
on ``PYTHONPATH``, so the installed ``qbank`` script imports that tree's
code; the two must share this environment's dependencies.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.server import ServerProcess
from bench.serving import _drive, _warm, search_spec, unique
from bench.stats import BenchQuery, ratio

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("qbank", "ingest", "index", "service", "eval")
FRESH_PER_RUN = 20_000  # more distinct queries than a run gets through
KEYS = (
    "ready_s",
    "rss_mib_ready",
    "rss_mib_after_load",
    "rps",
    "p50_ms",
    "p99_ms",
    "cached_rps",
    "cached_p50_ms",
    "cached_p99_ms",
)


def _git(*args: str) -> str:
    out = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {out.stderr.strip() or out.stdout.strip()}")
    return out.stdout.strip()


def resolve(rev: str) -> str:
    """The commit ``rev`` names in this checkout; RuntimeError saying why when none."""
    if not (ROOT / ".git").exists():
        raise RuntimeError(f"{ROOT} is not a git checkout")
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except RuntimeError:
        raise RuntimeError("not a revision of this checkout (a commit, tag or branch)") from None


def _compile(tree: Path) -> None:
    for package in PACKAGES:
        if (tree / package).is_dir():
            compileall.compile_dir(str(tree / package), quiet=1, workers=1)


def _ingest(tree: Path, index_dir: Path, content_dir: Path, env: dict[str, str]) -> None:
    """Bring ``index_dir`` (a copy of this checkout's index) up to ``tree``'s own
    format with that tree's ``qbank ingest``: vectors are reused, so it is quick."""
    out = subprocess.run(
        [sys.executable, "-m", "qbank.cli", "ingest", "--index", str(index_dir), "--content", str(content_dir)],
        cwd=index_dir.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0:
        raise RuntimeError(f"ingest with {tree} failed:\n{(out.stderr or out.stdout)[-2000:]}")


def against_section(
    rev: str,
    index_dir: Path,
    content_dir: Path,
    queries: Sequence[BenchQuery],
    seconds: float,
    cache_dir: Path,
    rounds: int = 5,
    concurrency: int = 8,
) -> dict[str, Any]:
    """Medians of ``rounds`` alternating starts of each tree, and new/old ratios."""
    commit = resolve(rev)
    head = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    texts = [q.text for q in queries]
    work = Path(tempfile.mkdtemp(prefix="qbank-against-"))
    old_tree = work / "old"
    try:
        _git("worktree", "add", "--detach", "--force", str(old_tree), commit)
        trees = {"old": old_tree, "new": ROOT}
        cache = str(cache_dir)
        envs = {name: {"PYTHONPATH": str(tree), "QBANK_MODEL_CACHE_DIR": cache} for name, tree in trees.items()}
        indexes: dict[str, Path] = {}
        for name, tree in trees.items():
            _compile(tree)
            indexes[name] = work / "indexes" / name / "index"
            shutil.copytree(Path(index_dir).resolve(), indexes[name])
            plain = {k: v for k, v in os.environ.items() if not k.startswith("QBANK_")}
            _ingest(tree, indexes[name], content_dir, plain | envs[name])
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        for r in range(rounds):
            order = list(trees) if r % 2 == 0 else list(trees)[::-1]
            for n, name in enumerate(order):
                server = ServerProcess(indexes[name], workers=1, env=envs[name])
                try:
                    ready_s = server.start()
                    rss_ready = server.rss_mib()
                    fresh = [search_spec(t) for t in unique(texts, FRESH_PER_RUN, start=(2 * r + n) * FRESH_PER_RUN)]
                    load = _drive(server.base_url, fresh, concurrency, seconds)
                    rss_after = server.rss_mib()
                    repeated = [search_spec(t) for t in texts]
                    _warm(server.base_url, repeated)
                    cached = _drive(server.base_url, repeated, concurrency, seconds)
                    runs[name].append(
                        {
                            "ready_s": round(ready_s, 3),
                            "rss_mib_ready": round(rss_ready, 1),
                            "rss_mib_after_load": round(rss_after, 1),
                            "rps": round(load.rps, 1),
                            "p50_ms": load.latency_ms.get("p50"),
                            "p99_ms": load.latency_ms.get("p99"),
                            "cached_rps": round(cached.rps, 1),
                            "cached_p50_ms": cached.latency_ms.get("p50"),
                            "cached_p99_ms": cached.latency_ms.get("p99"),
                            "errors": load.failed + cached.failed,
                            "tool": load.tool,
                        }
                    )
                finally:
                    server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        try:  # forget the worktree; never hide the error that brought us here
            _git("worktree", "prune")
        except RuntimeError as exc:
            print(f"warning: git worktree prune: {exc}", file=sys.stderr)

    def median(name: str, key: str) -> float:
        return round(statistics.median(float(x[key]) for x in runs[name]), 3)

    keys = KEYS
    medians = {
        name: {k: median(name, k) for k in keys} | {"errors": sum(x["errors"] for x in runs[name])} for name in runs
    }
    return {
        "old": {"rev": rev, "commit": commit},
        "new": {"commit": head, "uncommitted_changes": dirty},
        "rounds": rounds,
        "concurrency": concurrency,
        "seconds": seconds,
        "medians": medians,
        "new_over_old": {k: ratio(medians["new"][k], medians["old"][k]) for k in keys},
        "runs": runs,
    }
