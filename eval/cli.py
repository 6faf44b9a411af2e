"""``qbank eval``: run every retrieval mode over the eval set, print the
metrics table and write the reports.  Registered on the ``qbank`` app in
``qbank/cli.py``; the model and index load inside the command, never at import."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the model and index load inside the commands, never at import
    from index.embed import Embedder
    from index.store import IndexArtifact
    from qbank.settings import Settings

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = EVAL_DIR / "reports"
MOCK_OUT = DEFAULT_OUT / "mock"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _open_index(index: Path | None, content: Path | None) -> tuple[Settings, Embedder, IndexArtifact]:
    """The settings (a bad one is a clean exit that never shows its value), the loaded
    encoder and the index, built from the content folder first when there is none.
    Index errors propagate for the command to report."""
    from index.engine import load_or_build
    from qbank.settings import offline_embedder, settings_or_exit

    try:
        settings = settings_or_exit()
    except ValueError as exc:
        raise _fail(str(exc)) from None
    embedder = offline_embedder(settings).load()
    index_dir, content_dir = index or settings.index_dir, content or settings.content_dir
    artifact = load_or_build(
        index_dir,
        content_dir,
        embedder,
        dense_kind=settings.dense_index,
        progress=True,
        neighbours_dir=settings.neighbours_dir,
    )
    return settings, embedder, artifact


def eval_command(
    eval_set: Annotated[
        str | None,
        typer.Option(
            "--set",
            help="Named eval set: standard (single questions and conversations), hard (described topics, "
            "situation paraphrases, near-domain off-topic) or all; each is reported and gated apart.",
            show_default="all",
        ),
    ] = None,
    queries: Annotated[
        list[Path] | None,
        typer.Option("--queries", help="Your own eval set (JSONL) instead of a named one; repeat for several."),
    ] = None,
    index: Annotated[Path | None, typer.Option("--index", help="Index directory (default: QBANK_INDEX_DIR).")] = None,
    content: Annotated[
        Path | None,
        typer.Option("--content", help="Content folder, to build a missing index (default: QBANK_CONTENT_DIR)."),
    ] = None,
    modes: Annotated[
        str,
        typer.Option(
            "--modes",
            help="Comma-separated pipelines: hybrid, bm25, dense, hybrid-rrf, hybrid-max, hybrid-late "
            "(late-interaction rerank; needs the export extra), hybrid-llm (LLM rerank; needs QBANK_LLM_*).",
        ),
    ] = "hybrid,bm25,dense",
    split: Annotated[str, typer.Option("--split", help="dev, test or all (both, reported apart).")] = "all",
    out: Annotated[Path, typer.Option("--out", help="Reports folder.", show_default="eval/reports")] = DEFAULT_OUT,
    k: Annotated[int, typer.Option("--k", min=5, max=50, help="Ranking depth (MRR@k, nDCG@k).")] = 10,
) -> None:
    """Run every retrieval mode over the eval sets; print hit@k, MRR, nDCG, abstention,
    code, multi-turn and latency figures per set, split and kind, write JSON, markdown,
    a chart and a failure listing per set, and check each set's CI gate."""
    from eval.dataset import SPLIT_SEED, DatasetError, index_record_ids, load_items, select_split
    from eval.gate import Gate
    from eval.report import RunInfo, text_table, write_reports
    from eval.runner import EvalRunner
    from eval.sets import EvalSet, choose_sets
    from index.engine import make_searcher
    from index.search import NEEDS_LLM, PIPELINES
    from index.store import IndexLoadError
    from qbank.answer.llm import LLMClient

    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in PIPELINES]
    if not chosen or unknown:
        raise _fail(f"unknown mode(s) {', '.join(unknown) or '(none given)'}: use {', '.join(PIPELINES)}")
    if split not in ("dev", "test", "all"):
        raise _fail(f"unknown split {split!r}: use dev, test or all")
    if queries and eval_set:
        raise _fail("give --set or --queries, not both")
    try:
        sets = (EvalSet("custom", tuple(queries), "", "your queries"),) if queries else choose_sets(eval_set or "all")
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    try:
        settings, embedder, artifact = _open_index(index, content)
        record_ids = index_record_ids(artifact)
        selected = {s.name: select_split(load_items(list(s.files), record_ids), split) for s in sets}
        empty = [name for name, items in selected.items() if not items]
        if empty:
            raise ValueError(f"eval set {', '.join(empty)} has no {split} items")
        llm = LLMClient.from_settings(settings)
        needs_llm = [m for m in chosen if m in NEEDS_LLM]
        if needs_llm and llm is None:
            raise ValueError(f"mode {', '.join(needs_llm)} needs an LLM: set QBANK_LLM_BASE_URL and QBANK_LLM_MODEL")
        runner = EvalRunner(make_searcher(artifact, embedder, llm), modes=chosen, k=k, progress=True)
        runs = {name: runner.run(items) for name, items in selected.items()}
    except DatasetError as exc:
        raise _fail(f"{exc}\nfix the eval set before running it") from exc
    except (IndexLoadError, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc

    gates = Gate.load_all()
    failed = False
    for s in sets:
        reports = runs[s.name]
        typer.secho(f"#### {s.name} set: {s.about}", bold=True)
        for report in reports:
            typer.echo(text_table(report) + "\n")
        info = RunInfo(
            date=dt.date.today().isoformat(),
            queries=", ".join(_shown(p) for p in s.files),
            items=len(selected[s.name]),
            split=split,
            split_seed=SPLIT_SEED,
            k=k,
            index={name: getattr(artifact.manifest, name) for name in ("model", "built_at", "content_hash", "counts")},
        )
        files = write_reports(reports, out / s.subdir if s.subdir else out, info)
        typer.echo("reports: " + ", ".join(_shown(p) for p in (*files.modes.values(), files.summary, files.chart)))
        typer.echo(f"failures: {_shown(files.failures)}")
        gate = gates.get(s.name)
        gated = next((r for r in reports if gate and r.mode == gate.mode and gate.split in r.splits), None)
        if gate is None or gated is None:
            continue
        try:
            figures, violations = gate.describe(gated), gate.violations(gated)
        except ValueError as exc:
            typer.secho(f"{s.name} gate not checked: {exc}", fg=typer.colors.YELLOW)
            continue
        if violations:
            failed = True
            typer.secho(f"{s.name} gate FAILS: {'; '.join(violations)}", fg=typer.colors.RED)
        else:
            typer.secho(f"{s.name} gate ok: {gate.mode} {gate.split} {figures}", fg=typer.colors.GREEN)
        typer.echo("")
    if failed:
        raise typer.Exit(code=2)


def tune_command(
    index: Annotated[Path | None, typer.Option("--index", help="Index directory (default: QBANK_INDEX_DIR).")] = None,
    content: Annotated[
        Path | None,
        typer.Option("--content", help="Content folder, to build a missing index (default: QBANK_CONTENT_DIR)."),
    ] = None,
    eval_set: Annotated[
        str, typer.Option("--set", help="Named eval set(s) whose dev split to fit on: standard, hard or all.")
    ] = "all",
    max_false_abstain: Annotated[
        float,
        typer.Option(
            "--max-false-abstain", min=0.0, max=1.0, help="Share of answerable dev queries the floors may refuse."
        ),
    ] = 0.03,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the fit; write nothing.")] = False,
) -> None:
    """Fit the fusion weights and abstention floors for the index's model on the eval
    sets' dev split and store them with the index (calibration.json), which search then
    uses.  Run it after building an index with another model; `qbank eval` then shows
    the effect on the test split."""
    from eval.dataset import DatasetError, index_record_ids, load_items, select_split
    from eval.runner import EvalRunner
    from eval.sets import choose_sets
    from eval.tune import calibration_for, collect, fit_abstention, fit_fusion
    from index.calibration import save_calibration
    from index.engine import make_searcher
    from index.store import IndexLoadError

    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        sets = choose_sets(eval_set)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    try:
        _, embedder, artifact = _open_index(index, content)
        searcher = make_searcher(artifact, embedder)
        runner = EvalRunner(searcher, modes=("hybrid",))
        evidence = {
            s.name: collect(
                searcher,
                select_split(load_items(list(s.files), index_record_ids(artifact)), "dev"),
                runner.targets,
                progress=True,
            )
            for s in sets
        }
        fusion_before, fusion_after = fit_fusion(evidence, searcher.title_only, searcher.weights)
        abstain_before, abstain_after = fit_abstention(evidence, searcher.abstention.config, max_false_abstain)
    except DatasetError as exc:
        raise _fail(f"{exc}\nfix the eval set before running it") from exc
    except (IndexLoadError, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc

    typer.echo(
        f"dev split of {', '.join(s.name for s in sets)}: {fusion_after.n} ranked items, "
        f"{abstain_after.off_topic} off-topic, model {artifact.manifest.model}"
    )
    typer.echo(f"{'':24}{'before':>10}{'after':>10}")
    for name, a, b in (
        ("hit@1", fusion_before.hit1, fusion_after.hit1),
        ("mrr@10", fusion_before.mrr, fusion_after.mrr),
        ("abstain recall", abstain_before.recall, abstain_after.recall),
        ("false-abstain rate", abstain_before.false_abstain, abstain_after.false_abstain),
    ):
        typer.echo(f"{name:24}{a:>10.3f}{b:>10.3f}")
    typer.echo(f"fusion: {fusion_after.weights}")
    typer.echo(f"abstention: {abstain_after.config}")
    if dry_run:
        typer.echo("dry run: nothing written")
        return
    if artifact.path is None:
        raise _fail("the index has no directory to store the calibration in")
    calibration = calibration_for(
        searcher, fusion_after, abstain_after, (fusion_before, abstain_before), ",".join(s.name for s in sets)
    )
    path = save_calibration(calibration, artifact.path)
    typer.echo(f"wrote {_shown(path)}; run `qbank eval` to see the test split")


def mock_eval_command(
    index: Annotated[Path | None, typer.Option("--index", help="Index directory (default: QBANK_INDEX_DIR).")] = None,
    content: Annotated[
        Path | None,
        typer.Option("--content", help="Content folder, to build a missing index (default: QBANK_CONTENT_DIR)."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Labelled answers (JSONL).", show_default="eval/data/mock_answers.jsonl"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Reports folder.", show_default="eval/reports/mock")] = MOCK_OUT,
) -> None:
    """Measure the mock interviewer's scorer against hand-labelled answers: precision, recall,
    F1, agreement and kappa over every (answer, signal) pair, for each mix of lexical and
    embedding similarity and each threshold, dev and test apart; says which setting the dev
    split supports and whether it is the one shipped (exit 2 when not)."""
    from eval.mock import DATA, TOPIC_FLOORS, MockDataError, judge, load_items
    from eval.mock_report import build, text, write
    from index.store import IndexLoadError
    from qbank.mock import DENSE_WEIGHT, THRESHOLD, TOPIC_FLOOR, MockScorer

    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    data = data or DATA
    try:
        settings, embedder, artifact = _open_index(index, content)
        questions = {q.id: q for q in artifact.questions}
        items = load_items(data, questions)
        by_floor = {
            floor: judge(MockScorer(embedder, artifact.sparse, topic_floor=floor), items, questions)
            for floor in sorted({*TOPIC_FLOORS, TOPIC_FLOOR})
        }
    except MockDataError as exc:
        raise _fail(f"{exc}\nfix the labelled answers before running it") from exc
    except (IndexLoadError, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    report = build(by_floor, TOPIC_FLOOR, THRESHOLD, DENSE_WEIGHT)
    info = {
        "date": dt.date.today().isoformat(),
        "data": _shown(data),
        "model": artifact.manifest.model,
        "encoder": settings.encoder,
    }
    typer.echo(text(report))
    summary, raw = write(report, out, info)
    typer.echo(f"reports: {_shown(summary)}, {_shown(raw)}")
    # the dev split's best mix at its best floor (report.chosen is the best at the shipped floor)
    best = next(f["dev"] for f in report.floors if f["topic_floor"] == report.chosen_floor)
    if report.shipped_is_chosen:
        typer.secho(
            f"shipped topic_floor {TOPIC_FLOOR}, threshold {THRESHOLD}, dense_weight {DENSE_WEIGHT}: "
            "the dev split's best",
            fg="green",
        )
    else:
        typer.secho(
            f"the dev split supports topic_floor {report.chosen_floor}, threshold {best['threshold']}, dense_weight "
            f"{best['dense_weight']}; qbank/mock/scorer.py ships {TOPIC_FLOOR}, {THRESHOLD}, {DENSE_WEIGHT}",
            fg=typer.colors.RED,
        )
        raise typer.Exit(code=2)
