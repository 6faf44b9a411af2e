"""BM25's k1 and b over a grid: each setting's sparse index rebuilt from the index's chunk
tokens (no embedding), every item of both eval sets run through the hybrid pipeline, and
hit@1 counts printed per set and split (and the hard set's quick_ref and paraphrase kinds).
Run: .venv/bin/python scripts/bm25_grid.py [k1,b ...]   (about a minute a setting)"""

from __future__ import annotations

import collections
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.dataset import index_record_ids, load_items  # noqa: E402
from eval.runner import EvalRunner  # noqa: E402
from eval.sets import EVAL_SETS  # noqa: E402
from index.build import tokenize_chunks  # noqa: E402
from index.engine import make_searcher  # noqa: E402
from index.sparse import SparseIndex  # noqa: E402
from scripts.lever_support import open_searcher  # noqa: E402

GRID = [(k1, b) for k1 in (0.9, 1.2, 1.6, 2.0) for b in (0.4, 0.6, 0.75, 0.9)]


def main(argv: list[str]) -> None:
    settings = [tuple(float(x) for x in arg.split(",")) for arg in argv] or GRID
    embedder, artifact, _ = open_searcher()
    ids = index_record_ids(artifact)
    items = {name: load_items(list(EVAL_SETS[name].files), ids) for name in ("standard", "hard")}
    tokens = tokenize_chunks(artifact.chunks)
    for k1, b in settings:
        searcher = make_searcher(dataclasses.replace(artifact, sparse=SparseIndex.build(tokens, k1=k1, b=b)), embedder)
        runner = EvalRunner(searcher, modes=("hybrid",))
        parts = []
        for name, group in items.items():
            report = runner.run_mode("hybrid", group)
            for split in ("dev", "test"):
                scored = [o for o in report.outcomes if o.item.split == split and o.targets]
                hits = collections.Counter(o.item.kind for o in scored if o.ranked[:1] and o.ranked[0] in o.targets)
                n = collections.Counter(o.item.kind for o in scored)
                parts.append(f"{name} {split} {sum(hits.values())}/{len(scored)}")
                if name == "hard":
                    parts.append(" ".join(f"{k}:{hits[k]}/{n[k]}" for k in ("quick_ref", "paraphrase")))
        print(f"k1={k1} b={b}: " + " | ".join(parts), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
