"""The CI gate: figures one mode must reach on one split, per eval set.

The thresholds live in ``eval/thresholds.json`` (committed), one block per
named set (``eval/sets.py``).  Set them a little below the measured figures
and raise them as retrieval improves.  Under ``min``, a name is a ranking
metric over every answerable item (``hit@1``), over one kind
(``quick_ref:hit@1``), or the off-topic abstention recall
(``abstain_recall``); under ``max``, ``false_abstain_rate`` (answerable
queries the searcher refused).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from eval.runner import ModeReport, RankingMetrics, SplitMetrics

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.json"
_METRIC = re.compile(r"^(hit|mrr|ndcg)@(\d+)$")
ABSTENTION_MIN = ("abstain_recall",)
ABSTENTION_MAX = ("false_abstain_rate",)


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


def _abstention_value(split: SplitMetrics, name: str) -> float:
    value = split.abstention.recall if name == "abstain_recall" else split.abstention.false_abstain_rate
    if value is None:
        raise ValueError(f"the run has no items to measure {name}")
    return value


@dataclass(frozen=True, slots=True)
class Gate:
    mode: str
    split: str
    minimums: dict[str, float]
    maximums: dict[str, float] = field(default_factory=dict)
    eval_set: str = "standard"

    @classmethod
    def load(cls, eval_set: str = "standard", path: Path = THRESHOLDS) -> Gate:
        gates = cls.load_all(path)
        if eval_set not in gates:
            raise ValueError(f"{path}: no thresholds for set {eval_set!r} (has {', '.join(gates)})")
        return gates[eval_set]

    @classmethod
    def load_all(cls, path: Path = THRESHOLDS) -> dict[str, Gate]:
        """One gate per set named in the thresholds file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        gates = {}
        for name, block in data["sets"].items():
            minimums = {str(k): float(v) for k, v in block.get("min", {}).items()}
            maximums = {str(k): float(v) for k, v in block.get("max", {}).items()}
            if not minimums and not maximums:
                raise ValueError(f"{path}: set {name!r} has no thresholds under 'min' or 'max'")
            unknown = [k for k in maximums if k not in ABSTENTION_MAX]
            if unknown:
                raise ValueError(
                    f"{path}: set {name!r}: only {', '.join(ABSTENTION_MAX)} can be a maximum, not {unknown}"
                )
            gates[name] = cls(str(data["mode"]), str(data["split"]), minimums, maximums, name)
        return gates

    def measured(self, report: ModeReport) -> dict[str, float]:
        """The gated figures of ``report`` (which must be the gated mode with the gated split)."""
        if report.mode != self.mode:
            raise ValueError(f"the gate is on mode {self.mode!r}, got a {report.mode!r} report")
        split = report.splits.get(self.split)
        if split is None or split.overall is None:
            raise ValueError(f"the {report.mode} report has no answerable {self.split!r} items to gate on")
        out = {}
        for name in (*self.minimums, *self.maximums):
            if name in ABSTENTION_MIN or name in ABSTENTION_MAX:
                out[name] = _abstention_value(split, name)
                continue
            kind, _, metric = name.rpartition(":")
            ranking = split.per_kind.get(kind) if kind else split.overall
            if ranking is None:
                raise ValueError(f"the {report.mode} report has no {kind!r} items in {self.split!r} to gate {name}")
            out[name] = metric_value(ranking, metric, report.k)
        return out

    def violations(self, report: ModeReport) -> list[str]:
        """One line per figure on the wrong side of its threshold; empty when the gate passes."""
        where = f"{self.eval_set} {self.mode} {self.split}"
        out = []
        for name, value in self.measured(report).items():
            if name in self.minimums and value < self.minimums[name]:
                out.append(f"{where} {name} {value:.3f} < {self.minimums[name]:.3f}")
            if name in self.maximums and value > self.maximums[name]:
                out.append(f"{where} {name} {value:.3f} > {self.maximums[name]:.3f}")
        return out

    def describe(self, report: ModeReport) -> str:
        """The gated figures with their thresholds, for a report line."""
        parts = []
        for name, value in self.measured(report).items():
            bound = f"min {self.minimums[name]:.3f}" if name in self.minimums else f"max {self.maximums[name]:.3f}"
            parts.append(f"{name} {value:.3f} ({bound})")
        return ", ".join(parts)
