"""How many quick-reference rows show passages of full answers ("Where the bank's answers
discuss it"), and which.  Run: .venv/bin/python scripts/row_passages.py [--list]

The figure the passage rule was judged by (README, "Quick-reference rows without an
answer"); to compare with an earlier commit, run this file in a checkout of it."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.engine import load_or_build, make_searcher  # noqa: E402
from qbank.settings import offline_embedder, settings_or_exit  # noqa: E402


def main() -> None:
    settings = settings_or_exit()
    embedder = offline_embedder(settings).load()
    artifact = load_or_build(settings.index_dir, settings.content_dir, embedder, neighbours_dir=settings.neighbours_dir)
    searcher = make_searcher(artifact, embedder)
    shown = 0
    for row in artifact.quick_refs:
        passages = searcher.find_passages(row.title)
        shown += bool(passages)
        if "--list" in sys.argv[1:]:
            where = "; ".join(f"{p.chunk.heading} ({p.record.title})" for p in passages) or "-"
            print(f"{row.title}: {where}")
    print(f"{shown} of {len(artifact.quick_refs)} quick-reference rows show passages")


if __name__ == "__main__":
    main()
