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

from eval.mock import (
    KINDS,
    THRESHOLDS,
    WEIGHTS,
    Agreement,
    Judgement,
    agreement,
    best,
    best_mix,
    by_kind,
    disagreements,
    split,
)

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
    # topic_floor: each floor's best dev mix and its test figures; the shipped floor and the dev split's best
    floors: list[dict[str, Any]]
    shipped_floor: float
    chosen_floor: float

    @property
    def shipped_is_chosen(self) -> bool:
        same_mix = self.shipped == (self.chosen.threshold, self.chosen.dense_weight)
        return same_mix and self.shipped_floor == self.chosen_floor


def build(
    by_floor: dict[float, list[Judgement]], topic_floor: float, threshold: float, dense_weight: float
) -> MockReport:
    """``by_floor``: the judgements at each topic floor; the rest of the report is the shipped floor's."""
    floors: list[dict[str, Any]] = []
    for floor, judged in sorted(by_floor.items()):
        mix = best_mix(split(judged, "dev"))
        test_figures = agreement(split(judged, "test"), mix.threshold, mix.dense_weight).figures()
        floors.append({"topic_floor": floor, "dev": mix.figures(), "test": test_figures})
    chosen_floor = float(max(floors, key=lambda f: (f["dev"]["f1"], -f["topic_floor"]))["topic_floor"])  # tie: lower
    judgements = by_floor[topic_floor]
    dev, test = split(judgements, "dev"), split(judgements, "test")
    per_mix = [best(dev, w) for w in WEIGHTS]
    chosen = best_mix(dev)
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
        floors=floors,
        shipped_floor=topic_floor,
        chosen_floor=chosen_floor,
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
        f"Shipped: topic_floor {report.shipped_floor}, threshold {t}, dense_weight {w}. Dev split's best F1: "
        f"topic_floor {report.chosen_floor}, threshold {report.chosen.threshold}, "
        f"dense_weight {report.chosen.dense_weight}"
        + (" (the same)." if report.shipped_is_chosen else " (**differs from the shipped setting**)."),
        "",
        "## Each topic floor at its best dev mix and threshold",
        "",
        "A sentence's closeness to the question's topic counts as at least the floor, so a sentence far from",
        'both the topic and a signal (nonsense, "I don\'t know") is not closer to the signal by chance.',
        "",
        _row(["topic_floor", "dense_weight", "threshold", "dev F1", "test F1"]),
        _row(["---"] * 5),
        *(
            _row(
                [
                    f["topic_floor"],
                    f["dev"]["dense_weight"],
                    f["dev"]["threshold"],
                    f"{f['dev']['f1']:.3f}",
                    f"{f['test']['f1']:.3f}",
                ]
            )
            for f in report.floors
        ),
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
    out.append(f"{'floor':>7}{'weight':>7}{'thr':>6}  {'dev F1':>7}  {'test F1':>8}")
    for row in report.floors:
        d, t = row["dev"], row["test"]
        out.append(
            f"{row['topic_floor']:>7}{d['dense_weight']:>7}{d['threshold']:>6}  {d['f1']:>7.3f}  {t['f1']:>8.3f}"
        )
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
        "shipped": {
            "threshold": report.shipped[0],
            "dense_weight": report.shipped[1],
            "topic_floor": report.shipped_floor,
        },
        "dev_best_topic_floor": report.chosen_floor,
        "floors": report.floors,
        "dev_best": report.chosen.figures(),
        "shipped_figures": report.shipped_figures,
        "mixes": report.mixes,
        "curve": report.curve,
        "kinds": report.kinds,
        "disagreements": report.disagreements,
    }
    data.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary, data
