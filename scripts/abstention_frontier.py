"""How far can abstention floors go on the near-domain off-topic queries?  A
measurement behind eval/README.md ("More near-domain off-topic queries"),
not used by qbank.  Run after `qbank ingest`:

    .venv/bin/python scripts/abstention_frontier.py

1. Every off-topic item of the hard set (all splits), decided by the rule
   for an index without sentence units (``CHUNK_ONLY_FLOORS`` on the best
   chunk's cosine) and by today's rule (``AbstentionConfig()`` on the larger
   of the best chunk's and the best sentence unit's cosine), counted apart
   for the items before and after ``h228`` (the ones added on 2026-12-02).
2. On both sets' dev items: for each budget of hard-set false abstains, the
   best hard off-topic recall any setting of `qbank tune`'s floor grid
   (widened to BM25 floors up to 20) reaches while the standard set refuses
   no more answerable and no fewer off-topic items than now.  Since the
   neighbouring subjects (2026-12-02) every setting includes their veto
   (``neighbour_margin`` 0.10), so this part no longer reproduces the
   frontier eval/README.md quotes from before them ("at 4.6% false abstains,
   recall 0.535").
3. The neighbouring-subjects veto (``AbstentionConfig.neighbour_margin``,
   index/neighbours.py) by margin, and without it: off-topic items refused
   and answerable items refused, per set and split."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.dataset import index_record_ids, load_items, select_split  # noqa: E402
from eval.runner import EvalRunner  # noqa: E402
from eval.sets import EVAL_SETS  # noqa: E402
from eval.tune import ABSTENTION_GRID, abstention_figures, abstention_settings, collect  # noqa: E402
from index.components.abstain import CHUNK_ONLY_FLOORS, AbstentionConfig  # noqa: E402
from scripts.lever_support import open_searcher  # noqa: E402

ADDED_FROM = 228  # h228 on: the near-domain queries added on 2026-12-02


def main() -> None:
    _, artifact, searcher = open_searcher()
    runner = EvalRunner(searcher, modes=("hybrid",))
    ids = index_record_ids(artifact)

    hard = load_items(list(EVAL_SETS["hard"].files), ids)
    counts = {"before h228": [0, 0, 0], "h228 on": [0, 0, 0]}
    for e in collect(searcher, [i for i in hard if i.kind == "off_topic"], runner.targets):
        group = "h228 on" if int(e.item.id[1:]) >= ADDED_FROM else "before h228"
        counts[group][0] += 1
        counts[group][1] += not CHUNK_ONLY_FLOORS.answers(e.top_dense, e.top_bm25, e.vocab_idf)
        counts[group][2] += not AbstentionConfig().answers(e.dense_evidence, e.top_bm25, e.vocab_idf)
    print("hard off-topic items, all splits: refused by the chunk-only rule / by today's rule")
    for group, (n, chunk, today) in counts.items():
        print(f"  {group:<12} {n:>3} items: {chunk} / {today}")

    dev = {
        name: collect(searcher, select_split(load_items(list(EVAL_SETS[name].files), ids), "dev"), runner.targets)
        for name in ("standard", "hard")
    }
    grid = dict(ABSTENTION_GRID)
    grid["bm25_floor"] = tuple(sorted({*grid["bm25_floor"], 12.0, 15.0, 20.0}))
    now = {name: abstention_figures(ev, AbstentionConfig()) for name, ev in dev.items()}
    fits = []
    for cfg in abstention_settings(grid):
        std, hrd = abstention_figures(dev["standard"], cfg), abstention_figures(dev["hard"], cfg)
        if std.false_abstain <= now["standard"].false_abstain + 1e-9 and std.recall >= now["standard"].recall - 1e-9:
            fits.append(hrd)
    h = now["hard"]
    print(
        f"dev now: hard recall {h.recall:.3f} at {h.false_abstain:.3f} false abstains "
        f"({h.off_topic} off-topic, {h.answerable} answerable)"
    )
    for refused in (3, 4, 5, 6, 8, 10):
        budget = refused / h.answerable
        best = max((f for f in fits if f.false_abstain <= budget + 1e-9), key=lambda f: (f.recall, -f.false_abstain))
        print(
            f"  at most {refused} answerable hard dev items refused: best recall {best.recall:.3f} "
            f"(false abstains {best.false_abstain:.3f}) {best.config}"
        )

    print("neighbouring-subjects veto: off-topic refused / off-topic, answerable refused / answerable")
    every = {
        name: collect(searcher, load_items(list(EVAL_SETS[name].files), ids), runner.targets)
        for name in ("standard", "hard")
    }
    for margin in (None, 0.0, 0.05, 0.1, 0.15, 0.2):
        cells = []
        for name, evidence in every.items():
            for split in ("dev", "test"):
                chosen = [e for e in evidence if e.item.split == split]
                if margin is None:  # no neighbours: what an index built without them decides
                    chosen = [replace(e, top_neighbour=None) for e in chosen]
                fit = abstention_figures(chosen, replace(AbstentionConfig(), neighbour_margin=margin or 0.0))
                off, ok = round(fit.recall * fit.off_topic), round(fit.false_abstain * fit.answerable)
                cells.append(f"{name} {split} {off}/{fit.off_topic}, {ok}/{fit.answerable}")
        label = "without" if margin is None else f"margin {margin:.2f}"
        print(f"  {label:<12} " + " | ".join(cells))


if __name__ == "__main__":
    main()
