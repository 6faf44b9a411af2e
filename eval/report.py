"""Render eval results: the stdout table, per-mode JSON, a markdown summary,
a failure listing and a chart.

Files written to the reports folder, one set per run date::

    <date>-<mode>.json    every figure of one mode per split and kind, its failures and outcomes
    <date>-summary.md     tables comparing the modes
    <date>-failures.md    each miss: the query, its gold, what ranked first
    <date>-chart.png      hit@k curves per mode, hit@1 per kind
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.chart import write_chart
from eval.dataset import KINDS, SPLITS
from eval.runner import REPORTED_HITS, Failure, ModeReport, RankingMetrics, SplitMetrics


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What a run was over; recorded in every report."""

    date: str
    queries: str
    items: int
    split: str
    split_seed: str
    k: int
    index: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReportFiles:
    modes: dict[str, Path]
    summary: Path
    failures: Path
    chart: Path


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _splits(report: ModeReport) -> list[str]:
    return [s for s in SPLITS if s in report.splits]


# -- JSON ---------------------------------------------------------------------


def ranking_dict(m: RankingMetrics, k: int) -> dict[str, Any]:
    return {
        "n": m.n,
        **{f"hit@{c}": _r(m.hit(c)) for c in REPORTED_HITS},
        f"mrr@{k}": _r(m.mrr),
        f"ndcg@{k}": _r(m.ndcg),
        "hit_curve": [_r(v) for v in m.hit_curve],
    }


def split_dict(m: SplitMetrics, k: int) -> dict[str, Any]:
    a = m.abstention
    return {
        "items": m.items,
        "overall": ranking_dict(m.overall, k) if m.overall else None,
        "per_kind": {kind: ranking_dict(r, k) for kind, r in m.per_kind.items()},
        "abstention": {
            **dataclasses.asdict(a),
            "precision": _r(a.precision),
            "recall": _r(a.recall),
            "false_abstain_rate": _r(a.false_abstain_rate),
        },
        "needs_code_top_has_code": _r(m.code_share),
        "multi_turn_hit@1": _r(m.multi_turn_hit1),
        "multi_turn_hit@1_last_message": _r(m.multi_turn_hit1_last_message),
        "latency_ms": {"median": _r(m.latency_median_ms), "p95": _r(m.latency_p95_ms)},
    }


def failure_dict(f: Failure) -> dict[str, Any]:
    return {
        "id": f.item.id,
        "kind": f.item.kind,
        "split": f.item.split,
        "query": f.item.query,
        "history": list(f.item.history),
        "searched": f.searched,
        "gold": list(f.item.gold),
        "targets": [{"id": t, "title": title} for t, title in zip(f.targets, f.target_titles, strict=True)],
        "gold_rank": f.gold_rank,
        "first": {"id": f.top_id, "title": f.top_title},
        "problems": list(f.problems),
    }


def mode_dict(report: ModeReport, info: RunInfo) -> dict[str, Any]:
    return {
        "mode": report.mode,
        "run": dataclasses.asdict(info),
        "seconds": round(report.seconds, 2),
        "splits": {name: split_dict(m, report.k) for name, m in report.splits.items()},
        "failures": [failure_dict(f) for f in report.failures],
        "outcomes": [
            {
                "id": o.item.id,
                "split": o.item.split,
                "kind": o.item.kind,
                "ranked": list(o.ranked[:5]),
                "answered": o.answered,
                "latency_ms": round(o.latency_ms, 2),
            }
            for o in report.outcomes
        ],
    }


# -- the stdout table ---------------------------------------------------------

_COLS = ("n", *(f"hit@{c}" for c in REPORTED_HITS), "mrr", "ndcg")
_WIDTHS = (4, 6, 6, 6, 6, 6)
_GAP = "   "


def _ranking_cells(m: RankingMetrics | None) -> str:
    if m is None:
        return " ".join(f"{'-':>{w}}" for w in _WIDTHS)
    values = (str(m.n), *(_f(m.hit(c)) for c in REPORTED_HITS), _f(m.mrr), _f(m.ndcg))
    return " ".join(f"{v:>{w}}" for v, w in zip(values, _WIDTHS, strict=True))


def _pair(a: float | None, b: float | None) -> str:
    return f"{_f(a)} / {_f(b)}"


def text_table(report: ModeReport) -> str:
    """A compact fixed-width table: overall and per-kind ranking metrics, then
    abstention, code, multi-turn and latency lines, one column group per split."""
    splits = _splits(report)
    block = len(_ranking_cells(None))
    counts = ", ".join(f"{s} {report.splits[s].items}" for s in splits)
    lines = [f"== {report.mode} ==  {counts} queries, {report.seconds:.1f}s  (mrr and ndcg @{report.k})"]
    lines.append(f"{'':<15}" + _GAP.join(f" {s} ".center(block, "-") for s in splits))
    lines.append(
        f"{'kind':<15}" + _GAP.join(" ".join(f"{c:>{w}}" for c, w in zip(_COLS, _WIDTHS, strict=True)) for _ in splits)
    )
    rows: list[tuple[str, list[RankingMetrics | None]]] = [("overall", [report.splits[s].overall for s in splits])]
    for kind in KINDS:
        if any(kind in report.splits[s].per_kind for s in splits):
            rows.append((kind, [report.splits[s].per_kind.get(kind) for s in splits]))
    lines += [f"{name:<15}" + _GAP.join(_ranking_cells(m) for m in ms) for name, ms in rows]
    extras = {
        "off-topic abstention precision / recall": lambda m: _pair(m.abstention.precision, m.abstention.recall),
        "false-abstain rate": lambda m: _f(m.abstention.false_abstain_rate),
        "needs_code: top answer has code": lambda m: _f(m.code_share),
        "multi-turn hit@1 rewritten / last msg": lambda m: _pair(m.multi_turn_hit1, m.multi_turn_hit1_last_message),
        "latency ms median / p95": lambda m: f"{_f(m.latency_median_ms, 1)} / {_f(m.latency_p95_ms, 1)}",
    }
    lines.append(f"{'':<40}" + "".join(f"{s:<17}" for s in splits).rstrip())
    for label, cell in extras.items():
        lines.append((f"{label:<40}" + "".join(f"{cell(report.splits[s]):<17}" for s in splits)).rstrip())
    return "\n".join(lines)


# -- markdown -----------------------------------------------------------------


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def summary_markdown(reports: Sequence[ModeReport], info: RunInfo, chart: str, failures: str) -> str:
    k = info.k
    out = [
        f"# Retrieval eval, {info.date}",
        "",
        f"{info.items} queries from `{info.queries}` (split seed `{info.split_seed}`, split shown: {info.split}); "
        f"index built {info.index.get('built_at', '?')} with `{info.index.get('model', '?')}`, "
        f"content hash `{str(info.index.get('content_hash', '?'))[:12]}`.",
        "",
        f"![hit@k per mode and hit@1 per kind]({chart}) · failures: [{failures}]({failures})",
    ]
    splits = [s for s in SPLITS if any(s in r.splits for r in reports)]
    for split in splits:
        rows = []
        for r in reports:
            m = r.splits.get(split)
            if m is None:
                continue
            o, a = m.overall, m.abstention
            rows.append(
                [
                    r.mode,
                    str(o.n if o else 0),
                    *(_f(o.hit(c) if o else None) for c in REPORTED_HITS),
                    _f(o.mrr if o else None),
                    _f(o.ndcg if o else None),
                    _pair(a.precision, a.recall),
                    _f(a.false_abstain_rate),
                    _f(m.code_share),
                    _pair(m.multi_turn_hit1, m.multi_turn_hit1_last_message),
                    f"{_f(m.latency_median_ms, 1)} / {_f(m.latency_p95_ms, 1)}",
                ]
            )
        header = ["mode", "n", *(f"hit@{c}" for c in REPORTED_HITS), f"MRR@{k}", f"nDCG@{k}"]
        header += [
            "abstain P / R",
            "false abstain",
            "code in top",
            "multi-turn hit@1 (rewritten / last)",
            "ms p50 / p95",
        ]
        out += ["", f"## {split} split", "", *_md_table(header, rows)]
        kinds = [kd for kd in KINDS if any(kd in r.splits[split].per_kind for r in reports if split in r.splits)]
        kind_rows = []
        for kind in kinds:
            cells = [kind]
            for r in reports:
                km = r.splits[split].per_kind.get(kind) if split in r.splits else None
                cells.append(f"{_f(km.hit(1))} / {_f(km.mrr)} ({km.n})" if km else "-")
            kind_rows.append(cells)
        out += [
            "",
            f"hit@1 / MRR@{k} (n) per kind, {split}:",
            "",
            *_md_table(["kind", *(r.mode for r in reports)], kind_rows),
        ]
    return "\n".join(out) + "\n"


def failures_markdown(reports: Sequence[ModeReport], info: RunInfo) -> str:
    out = [
        f"# Eval failures, {info.date}",
        "",
        "Every item whose gold is not ranked first, that abstained wrongly or "
        "answered an off-topic query, or whose code query got no code, grouped by mode and kind.",
    ]
    for r in reports:
        by_split = ", ".join(f"{s} {sum(f.item.split == s for f in r.failures)}" for s in _splits(r))
        out += ["", f"## {r.mode}: {len(r.failures)} of {len(r.outcomes)} items ({by_split})"]
        for kind in KINDS:
            fs = sorted((f for f in r.failures if f.item.kind == kind), key=lambda f: (f.item.split, f.item.id))
            if not fs:
                continue
            out += ["", f"### {kind} ({len(fs)})", ""]
            for f in fs:
                out.append(
                    f"- **{f.item.id}** [{f.item.split}] {json.dumps(f.item.query, ensure_ascii=False)}: "
                    + "; ".join(f.problems)
                )
                if f.item.history:
                    out.append(f"  - history: {' / '.join(f.item.history)}")
                if f.searched != f.item.query:
                    out.append(f"  - searched: {f.searched}")
                if f.targets:
                    golds = ", ".join(f"{title} (`{t}`)" for t, title in zip(f.targets, f.target_titles, strict=True))
                    out.append(f"  - gold: {golds}")
                out.append(f"  - first: {f.top_title} (`{f.top_id}`)")
    return "\n".join(out) + "\n"


def write_reports(reports: Sequence[ModeReport], out_dir: Path, info: RunInfo) -> ReportFiles:
    out_dir.mkdir(parents=True, exist_ok=True)
    modes = {}
    for r in reports:
        path = out_dir / f"{info.date}-{r.mode}.json"
        path.write_text(json.dumps(mode_dict(r, info), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        modes[r.mode] = path
    files = ReportFiles(
        modes=modes,
        summary=out_dir / f"{info.date}-summary.md",
        failures=out_dir / f"{info.date}-failures.md",
        chart=out_dir / f"{info.date}-chart.png",
    )
    write_chart(reports, files.chart)
    files.failures.write_text(failures_markdown(reports, info), encoding="utf-8")
    files.summary.write_text(
        summary_markdown(reports, info, chart=files.chart.name, failures=files.failures.name), encoding="utf-8"
    )
    return files
