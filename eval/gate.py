"""The CI gate: minimum figures one mode must reach on one split.

The thresholds live in ``eval/thresholds.json`` (committed).  Set them a
little below the measured figures and raise them as retrieval improves.  A
name is a metric over every answerable item (``hit@1``) or over one kind
(``topic_switch:hit@1``): the conversation kinds are gated on their own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from eval.runner import ModeReport, RankingMetrics

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.json"
_METRIC = re.compile(r"^(hit|mrr|ndcg)@(\d+)$")


def metric_value(ranking: RankingMetrics, name: str, k: int) -> float:
    """The value of ``hit@N``, ``mrr@k`` or ``ndcg@k`` (k being the run's depth)."""
    m = _METRIC.match(name)
    if not m:
        raise ValueError(f"unknown gate metric {name!r}: use hit@N, mrr@{k} or ndcg@{k}")
    metric, depth = m.group(1), int(m.group(2))
    if metric == "hit" and 1 <= depth <= k:
        return ranking.hit(depth)
    if metric in ("mrr", "ndcg") and depth == k:
        return ranking.mrr if metric == "mrr" else ranking.ndcg
    raise ValueError(f"gate metric {name!r} cannot be read from a run with k={k}")


@dataclass(frozen=True, slots=True)
class Gate:
    mode: str
    split: str
    minimums: dict[str, float]

    @classmethod
    def load(cls, path: Path = THRESHOLDS) -> Gate:
        data = json.loads(path.read_text(encoding="utf-8"))
        minimums = {str(name): float(value) for name, value in data["min"].items()}
        if not minimums:
            raise ValueError(f"{path}: no thresholds under 'min'")
        return cls(mode=str(data["mode"]), split=str(data["split"]), minimums=minimums)

    def measured(self, report: ModeReport) -> dict[str, float]:
        """The gated figures of ``report`` (which must be the gated mode with the gated split)."""
        if report.mode != self.mode:
            raise ValueError(f"the gate is on mode {self.mode!r}, got a {report.mode!r} report")
        split = report.splits.get(self.split)
        if split is None or split.overall is None:
            raise ValueError(f"the {report.mode} report has no answerable {self.split!r} items to gate on")
        out = {}
        for name in self.minimums:
            kind, _, metric = name.rpartition(":")
            ranking = split.per_kind.get(kind) if kind else split.overall
            if ranking is None:
                raise ValueError(f"the {report.mode} report has no {kind!r} items in {self.split!r} to gate {name}")
            out[name] = metric_value(ranking, metric, report.k)
        return out

    def violations(self, report: ModeReport) -> list[str]:
        """One line per figure below its threshold; empty when the gate passes."""
        return [
            f"{self.mode} {self.split} {name} {value:.3f} < {self.minimums[name]:.3f}"
            for name, value in self.measured(report).items()
            if value < self.minimums[name]
        ]
