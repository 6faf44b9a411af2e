"""The eval chart: hit@k curves per mode and hit@1 per kind, drawn on a
matplotlib Agg canvas (no display, no pyplot global state)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from eval.dataset import KINDS
from eval.runner import ModeReport


def write_chart(reports: Sequence[ModeReport], path: Path) -> None:
    """hit@k curves per mode (test solid, dev dashed) and hit@1 per kind bars
    (test split when it ran, else dev)."""
    from matplotlib import rcParams
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14, 5.5))
    FigureCanvasAgg(fig)
    curves, bars = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    colors = rcParams["axes.prop_cycle"].by_key()["color"]
    for i, r in enumerate(reports):
        for split, style in (("test", "-"), ("dev", "--")):
            m = r.splits.get(split)
            if m is None or m.overall is None:
                continue
            ks = range(1, len(m.overall.hit_curve) + 1)
            color = colors[i % len(colors)]
            curves.plot(ks, m.overall.hit_curve, style, marker="o", ms=3, color=color, label=f"{r.mode} {split}")
    lows = [min(m.overall.hit_curve) for r in reports for m in r.splits.values() if m.overall]
    floor = max(0.0, math.floor((min(lows, default=0.0) - 0.05) * 10) / 10)
    curves.set(xlabel="k", ylabel="hit@k", title="hit@k per mode", ylim=(floor, 1.02))
    curves.grid(alpha=0.3)
    curves.legend(fontsize=8, loc="lower right")

    split = "test" if any("test" in r.splits for r in reports) else "dev"
    kinds = [kd for kd in KINDS if any(split in r.splits and kd in r.splits[split].per_kind for r in reports)]
    width = 0.8 / max(len(reports), 1)
    for i, r in enumerate(reports):
        per_kind = r.splits[split].per_kind if split in r.splits else {}
        values = [per_kind[kd].hit(1) if kd in per_kind else 0.0 for kd in kinds]
        xs = [j + (i - (len(reports) - 1) / 2) * width for j in range(len(kinds))]
        bars.bar(xs, values, width, label=r.mode, color=colors[i % len(colors)])
    bars.set_xticks(range(len(kinds)), kinds, rotation=30, ha="right")
    bars.set(ylabel="hit@1", title=f"hit@1 per kind ({split})", ylim=(0, 1.15), yticks=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    bars.grid(axis="y", alpha=0.3)
    bars.legend(fontsize=8, loc="upper center", ncols=max(len(reports), 1))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
