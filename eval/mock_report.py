"""The figures ``qbank mock-eval`` prints and writes: every mix's best dev
threshold and how it does on test, the chosen mix across thresholds, the
shipped setting per kind of answer, and each pair where scorer and person
disagree."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.mock import KINDS, THRESHOLDS, WEIGHTS, Agreement, Judgement, agreement, best, by_kind, disagreements, split

CURVE = tuple(t for t in THRESHOLDS if round(t * 100) % 2 == 0 and t <= 0.3)  # every 0.02 up to 0.30


@dataclass(frozen=True, slots=True)
class MockReport:
    shipped: tuple[float, float]  # (threshold, dense_weight) the scorer ships
    chosen: Agreement  # the dev split's best mix and threshold
    mixes: list[dict[str, Any]]
    curve: list[dict[str, Any]]
    kinds: dict[str, dict[str, float]]
    shipped_figures: dict[str, dict[str, float | int]]
    disagreements: list[dict[str, object]]
    items: dict[str, int]

    @property
    def shipped_is_chosen(self) -> bool:
        return self.shipped == (self.chosen.threshold, self.chosen.dense_weight)


def build(judgements: Sequence[Judgement], threshold: float, dense_weight: float) -> MockReport:
    dev, test = split(judgements, "dev"), split(judgements, "test")
    per_mix = [best(dev, w) for w in WEIGHTS]
    chosen = max(per_mix, key=lambda a: (a.f1, a.threshold))
    mixes = [{"dev": a.figures(), "test": agreement(test, a.threshold, a.dense_weight).figures()} for a in per_mix]
    curve = [
        {
            "threshold": t,
            "dev": agreement(dev, t, chosen.dense_weight).figures(),
            "test": agreement(test, t, chosen.dense_weight).figures(),
        }
        for t in CURVE
    ]
    return MockReport(
        shipped=(threshold, dense_weight),
        chosen=chosen,
        mixes=mixes,
        curve=curve,
        kinds=by_kind(judgements, threshold, dense_weight),
        shipped_figures={
            name: agreement(split(judgements, name), threshold, dense_weight).figures()
            for name in ("dev", "test", "all")
        },
        disagreements=disagreements(judgements, threshold, dense_weight),
        items={name: len({j.item.id for j in split(judgements, name)}) for name in ("dev", "test", "all")},
    )


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


FIGURES = ("precision", "recall", "f1", "agreement", "kappa")
SHORT = ("P", "R", "F1", "agreement", "kappa")
MIXES_HEAD = ("dense_weight", "threshold", *(f"{split} {f}" for split in ("dev", "test") for f in SHORT))
CURVE_HEAD = ("threshold", *(f"{split} {f}" for split in ("dev", "test") for f in SHORT[:4]))
DISAGREEMENT_FIELDS = ("id", "split", "kind", "signal", "person", "scorer", "lexical", "dense", "score")


def _prf(f: dict[str, Any]) -> list[object]:
    return [f"{f[name]:.3f}" for name in FIGURES]


def markdown(report: MockReport, info: dict[str, str]) -> str:
    t, w = report.shipped
    lines = [
        f"# Mock interviewer: scorer against hand labels ({info['date']})",
        "",
        f"Data: `{info['data']}`, {report.items['all']} answers ({report.items['dev']} dev, "
        f"{report.items['test']} test), {report.shipped_figures['all']['pairs']} (answer, signal) pairs. "
        f"Model: {info['model']} ({info['encoder']}).",
        "",
        f"Shipped: threshold {t}, dense_weight {w}. Dev split's best F1: threshold {report.chosen.threshold}, "
        f"dense_weight {report.chosen.dense_weight}"
        + (" (the same)." if report.shipped_is_chosen else " (**differs from the shipped setting**)."),
        "",
        "## Shipped setting",
        "",
        _row(["split", "pairs", "precision", "recall", "F1", "agreement", "kappa"]),
        _row(["---"] * 7),
    ]
    for name, f in report.shipped_figures.items():
        lines.append(_row([name, f["pairs"], *_prf(f)]))
    lines += [
        "",
        "## Each mix at its best dev threshold (dense_weight 0: lexical alone; 1: embedding alone)",
        "",
        _row(MIXES_HEAD),
        _row(["---"] * len(MIXES_HEAD)),
    ]
    for m in report.mixes:
        lines.append(_row([m["dev"]["dense_weight"], m["dev"]["threshold"], *_prf(m["dev"]), *_prf(m["test"])]))
    lines += [
        "",
        f"## dense_weight {report.chosen.dense_weight} across thresholds",
        "",
        _row(CURVE_HEAD),
        _row(["---"] * len(CURVE_HEAD)),
    ]
    for c in report.curve:
        lines.append(_row([c["threshold"], *_prf(c["dev"])[:4], *_prf(c["test"])[:4]]))
    lines += [
        "",
        "## Per kind of answer, shipped setting, both splits",
        "",
        _row(["kind", "answers", "signals covered (person)", "signals hit (scorer)", "agreement"]),
        _row(["---"] * 5),
    ]
    for kind in KINDS:
        if kind in report.kinds:
            k = report.kinds[kind]
            lines.append(_row([kind, k["answers"], k["covered"], k["hit"], f"{k['agreement']:.3f}"]))
    lines += [
        "",
        f"## Disagreements at the shipped setting ({len(report.disagreements)})",
        "",
        _row(DISAGREEMENT_FIELDS),
        _row(["---"] * len(DISAGREEMENT_FIELDS)),
    ]
    for d in report.disagreements:
        lines.append(_row([str(d[name]).replace("|", "\\|") for name in DISAGREEMENT_FIELDS]))
    return "\n".join(lines) + "\n"


def text(report: MockReport) -> str:
    """The console version: the shipped setting and each mix."""
    out = [f"{'split':8}{'pairs':>6}{'P':>7}{'R':>7}{'F1':>7}{'agree':>7}{'kappa':>7}"]
    for name, f in report.shipped_figures.items():
        out.append(f"{name:8}{f['pairs']:>6}" + "".join(f"{v:>7}" for v in _prf(f)))
    out.append("")
    out.append(f"{'weight':>7}{'thr':>6}  {'dev F1':>7}{'dev agr':>8}  {'test F1':>8}{'test agr':>9}")
    for m in report.mixes:
        d, t = m["dev"], m["test"]
        out.append(
            f"{d['dense_weight']:>7}{d['threshold']:>6}  {d['f1']:>7.3f}{d['agreement']:>8.3f}  "
            f"{t['f1']:>8.3f}{t['agreement']:>9.3f}"
        )
    return "\n".join(out)


def write(report: MockReport, out: Path, info: dict[str, str]) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    summary = out / f"{info['date']}-summary.md"
    summary.write_text(markdown(report, info), encoding="utf-8")
    data = out / f"{info['date']}-mock.json"
    payload = {
        "info": info,
        "shipped": {"threshold": report.shipped[0], "dense_weight": report.shipped[1]},
        "dev_best": report.chosen.figures(),
        "shipped_figures": report.shipped_figures,
        "mixes": report.mixes,
        "curve": report.curve,
        "kinds": report.kinds,
        "disagreements": report.disagreements,
    }
    data.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary, data
