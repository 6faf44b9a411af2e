"""What the lever scripts share: the searcher over the configured index, and the kept
evidence of every single-message eval item grouped by set, split and hard kind."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.dataset import index_record_ids, load_items  # noqa: E402
from eval.runner import EvalRunner  # noqa: E402
from eval.sets import EVAL_SETS  # noqa: E402
from eval.tune import Evidence, collect  # noqa: E402
from index.embed import Embedder  # noqa: E402
from index.engine import load_or_build, make_searcher  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.store import IndexArtifact  # noqa: E402
from qbank.settings import offline_embedder, settings_or_exit  # noqa: E402


@dataclass(frozen=True, slots=True)
class Levers:
    embedder: Embedder
    artifact: IndexArtifact
    searcher: Searcher
    groups: dict[str, list[Evidence]]  # "standard dev", "hard test", "paraphrase dev", ...


def open_searcher() -> tuple[Embedder, IndexArtifact, Searcher]:
    """The configured model, its index (built when missing) and a searcher over them."""
    settings = settings_or_exit()
    embedder = offline_embedder(settings).load()
    artifact = load_or_build(settings.index_dir, settings.content_dir, embedder, neighbours_dir=settings.neighbours_dir)
    return embedder, artifact, make_searcher(artifact, embedder)


def evidence_groups() -> Levers:
    """Every answerable single-message item of both sets (no company lists), retrieved once."""
    embedder, artifact, searcher = open_searcher()
    runner = EvalRunner(searcher, modes=("hybrid",))
    ids = index_record_ids(artifact)
    groups: dict[str, list[Evidence]] = {}
    for name in ("standard", "hard"):
        items = [i for i in load_items(list(EVAL_SETS[name].files), ids) if not i.history]
        for e in collect(searcher, items, runner.targets):
            if e.targets and not e.company_only:
                groups.setdefault(f"{name} {e.item.split}", []).append(e)
                if name == "hard":
                    groups.setdefault(f"{e.item.kind} {e.item.split}", []).append(e)
    return Levers(embedder, artifact, searcher, groups)
