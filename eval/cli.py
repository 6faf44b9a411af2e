"""``qbank eval``: run every retrieval mode over the eval set, print the
metrics table and write the reports.  Registered on the ``qbank`` app in
``qbank/cli.py``; the model and index load inside the command, never at import."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_QUERIES = (EVAL_DIR / "data" / "queries.jsonl", EVAL_DIR / "data" / "conversations.jsonl")
DEFAULT_OUT = EVAL_DIR / "reports"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def eval_command(
    queries: Annotated[
        list[Path] | None,
        typer.Option(
            "--queries",
            help="Eval set (JSONL); repeat for several.",
            show_default="eval/data/queries.jsonl and eval/data/conversations.jsonl",
        ),
    ] = None,
    index: Annotated[Path | None, typer.Option("--index", help="Index directory (default: QBANK_INDEX_DIR).")] = None,
    content: Annotated[
        Path | None,
        typer.Option("--content", help="Content folder, to build a missing index (default: QBANK_CONTENT_DIR)."),
    ] = None,
    modes: Annotated[
        str, typer.Option("--modes", help="Comma-separated pipelines: hybrid, bm25, dense, hybrid-rrf, hybrid-max.")
    ] = "hybrid,bm25,dense",
    split: Annotated[str, typer.Option("--split", help="dev, test or all (both, reported apart).")] = "all",
    out: Annotated[Path, typer.Option("--out", help="Reports folder.", show_default="eval/reports")] = DEFAULT_OUT,
    k: Annotated[int, typer.Option("--k", min=5, max=50, help="Ranking depth (MRR@k, nDCG@k).")] = 10,
) -> None:
    """Run every retrieval mode over the eval set; print hit@k, MRR, nDCG, abstention,
    code, multi-turn and latency figures per split and kind, and write JSON, markdown,
    a chart and a failure listing."""
    from eval.dataset import SPLIT_SEED, DatasetError, index_record_ids, load_items, select_split
    from eval.gate import Gate
    from eval.report import RunInfo, text_table, write_reports
    from eval.runner import EvalRunner
    from index.encoders import make_embedder
    from index.engine import load_or_build, make_searcher
    from index.search import PIPELINES
    from index.store import IndexLoadError
    from qbank.settings import get_settings

    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    sets = list(queries or DEFAULT_QUERIES)
    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in PIPELINES]
    if not chosen or unknown:
        raise _fail(f"unknown mode(s) {', '.join(unknown) or '(none given)'}: use {', '.join(PIPELINES)}")
    if split not in ("dev", "test", "all"):
        raise _fail(f"unknown split {split!r}: use dev, test or all")
    settings = get_settings()
    index_dir, content_dir = index or settings.index_dir, content or settings.content_dir
    try:
        embedder = make_embedder(settings.model, settings.encoder, settings.model_cache_dir).load()
        artifact = load_or_build(index_dir, content_dir, embedder, dense_kind=settings.dense_index, progress=True)
        items = select_split(load_items(sets, index_record_ids(artifact)), split)
        if not items:
            raise ValueError(f"{', '.join(map(str, sets))} has no {split} items")
        runner = EvalRunner(make_searcher(artifact, embedder), modes=chosen, k=k, progress=True)
        reports = runner.run(items)
    except DatasetError as exc:
        raise _fail(f"{exc}\nfix the eval set before running it") from exc
    except (IndexLoadError, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc

    for report in reports:
        typer.echo(text_table(report) + "\n")
    info = RunInfo(
        date=dt.date.today().isoformat(),
        queries=", ".join(_shown(p) for p in sets),
        items=len(items),
        split=split,
        split_seed=SPLIT_SEED,
        k=k,
        index={name: getattr(artifact.manifest, name) for name in ("model", "built_at", "content_hash", "counts")},
    )
    files = write_reports(reports, out, info)
    typer.echo("reports: " + ", ".join(_shown(p) for p in (*files.modes.values(), files.summary, files.chart)))
    typer.echo(f"failures: {_shown(files.failures)}")

    gate = Gate.load()
    gated = next((r for r in reports if r.mode == gate.mode and gate.split in r.splits), None)
    if gated is None:
        return
    try:
        measured, violations = gate.measured(gated), gate.violations(gated)
    except ValueError as exc:
        typer.secho(f"gate not checked: {exc}", fg=typer.colors.YELLOW)
        return
    figures = ", ".join(f"{name} {value:.3f} (min {gate.minimums[name]:.3f})" for name, value in measured.items())
    if violations:
        typer.secho(f"gate FAILS: {'; '.join(violations)}", fg=typer.colors.RED)
    else:
        typer.secho(f"gate ok: {gate.mode} {gate.split} {figures}", fg=typer.colors.GREEN)
