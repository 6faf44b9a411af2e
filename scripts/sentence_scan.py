"""What the abstention's sentence evidence costs as a bank grows: every unit
scanned (the rule before 2026-12-02) against the units of the dense
candidates only (``Abstention.best_sentence`` now).  A measurement behind
BENCHMARKS.md, not used by qbank.  Run after `qbank ingest`:

    .venv/bin/python scripts/sentence_scan.py

The shipped index's units are tiled ×1, ×10, ×100 and ×230 (about 150k units,
a 100k-chunk bank's worth), each copy with its own chunk positions; the
queries are the standard eval set's first 60, encoded once; the candidates
are the real dense search's over the shipped chunks, so they name as many
chunks (and about as many units) as at any size.  Both ways timed query by
query in the same loop; medians in ms, one thread for numpy's product."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.dataset import load_items  # noqa: E402
from eval.sets import EVAL_SETS  # noqa: E402
from index.components.abstain import Abstention  # noqa: E402
from index.engine import load_or_build, make_searcher  # noqa: E402
from qbank.settings import offline_embedder, settings_or_exit  # noqa: E402

COPIES = (1, 10, 100, 230)


def main() -> None:
    settings = settings_or_exit()
    embedder = offline_embedder(settings).load()
    artifact = load_or_build(settings.index_dir, settings.content_dir, embedder, neighbours_dir=settings.neighbours_dir)
    units = artifact.sentences
    if units is None:
        raise SystemExit("this index has no sentence units: run `qbank ingest`")
    searcher = make_searcher(artifact, embedder)
    items = [i for i in load_items(EVAL_SETS["standard"].files[0]) if not i.history][:60]
    runs = [searcher.dense.run(searcher.analyzer.run(i.query), use_cache=False) for i in items]
    n_chunks = len(artifact.chunks)
    print(f"{len(units)} units over {n_chunks} chunks; {len(runs)} queries; candidates {searcher.dense.candidates}")
    print("| copies | units | vectors (MiB) | every unit: ms p50 | candidates' units: ms p50 | ratio | same value |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for copies in COPIES:
        vectors = np.tile(units.embeddings, (copies, 1))
        chunks = np.concatenate([units.chunks + c * n_chunks for c in range(copies)])
        abstention = Abstention(artifact.sparse, None, vectors, chunks)
        every, theirs, same = [], [], True
        for cosines in runs:
            # The candidates are the shipped chunks the search returned; in the first copy.
            t0 = time.perf_counter()
            a = abstention.best_sentence(replace(cosines, candidates=None))
            t1 = time.perf_counter()
            b = abstention.best_sentence(cosines)
            t2 = time.perf_counter()
            every.append((t1 - t0) * 1000)
            theirs.append((t2 - t1) * 1000)
            same &= a is not None and b is not None and abs(a - b) < 1e-6
        e, t = statistics.median(every), statistics.median(theirs)
        mib = vectors.nbytes / 2**20
        print(f"| ×{copies} | {len(vectors)} | {mib:.0f} | {e:.3f} | {t:.3f} | {e / t:.2f}× | {same} |")


if __name__ == "__main__":
    main()
