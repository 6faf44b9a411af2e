"""``qbank bench``: measured speed at today's size and at ~100x, against the targets.

Sections (all by default; name some to run only those): ``--ingest`` (parse,
chunk, embed, index, size), ``--inprocess`` (the floor and each search mode,
cold, warm, with and without the query-embedding cache), ``--peer``
(Haystack's in-memory hybrid pipeline), ``--http`` (a real ``qbank serve``
under wrk), ``--scale`` (~100k chunks), ``--encoders`` (torch, ONNX fp32 and
int8: query encode, ingest chunks/s, serving), ``--batching`` (concurrent
fresh queries with micro-batching off and on).  Results go to
``bench/reports/bench-<date>.json``; BENCHMARKS.md is written from them.

``qbank bench`` (``qbank/cli.py``) hands its arguments to ``main`` here, so the
options are defined once, in ``bench_command``; nothing heavy is imported
until the command runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from bench.stats import DEFAULT_QUERIES
from bench.summary import check_targets, print_summary

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT_DIR = BENCH_DIR / "reports"


def _say(message: str) -> None:
    typer.echo(f"[{time.strftime('%H:%M:%S')}] {message}", err=True)


def run_bench(
    sections: set[str],
    quick: bool,
    content: Path,
    extra: Path | None,
    queries_path: Path,
    scale_chunks: int,
    seconds: float,
    workers: list[int],
    work: Path,
    against: str | None = None,
) -> dict[str, Any]:
    from bench.ingest import ingest_section
    from bench.inprocess import cold_first_query, encoder_threads, floor_and_search
    from bench.stats import bench_queries, machine_info, spread, timed
    from index.dense import set_search_threads
    from index.search import MODES, Searcher
    from qbank.settings import get_settings, offline_embedder, settings_embedder
    from service.state import settle_heap

    report: dict[str, Any] = {"machine": machine_info(), "sections": sorted(sections), "quick": quick}
    report["extra_banks"] = str(extra) if extra else None
    queries = bench_queries(queries_path)
    if quick:
        queries = spread(queries, 60)
    report["queries"] = {
        "file": str(queries_path),
        "used": len(queries),
        "answerable": sum(q.answerable for q in queries),
    }
    # The product's encoders (QBANK_ENCODER, ONNX Runtime by default): ingest's with the
    # library's default threads, as `qbank ingest` builds it; queries' with the service's
    # `query_threads`, as `qbank serve` builds it (settings_embedder).
    settings = get_settings()
    builder, model_ms = timed(lambda: offline_embedder(settings).load())
    report["model_load_s"] = round(model_ms / 1000, 3)
    report["encoder"] = {"name": settings.encoder, **builder.describe()}
    threads = settings.query_threads
    report["threads"] = {"ingest": "library default", "queries": threads or "library default"}

    _say(f"ingest ({settings.encoder} encoder)")
    runs = ingest_section(content, extra, work, builder)
    if "ingest" in sections:
        report["ingest"] = {name: run.figures for name, run in runs.items()}
    shipped = runs["shipped"]
    builder.close()
    if threads:
        set_search_threads(threads)
    embedder = settings_embedder(settings).load()
    searcher = Searcher(shipped.artifact, embedder)
    settle_heap()  # as the service does once its index is loaded

    if "inprocess" in sections:
        _say("in-process search")
        report["inprocess"] = floor_and_search(searcher, embedder, queries)
        report["inprocess"]["encoder_threads"] = encoder_threads(settings, [q.text for q in queries[:40]])
        modes = ("hybrid",) if quick else MODES
        report["inprocess"]["cold_first_query"] = [
            cold_first_query(shipped.index_dir, m, queries[0].text, threads) for m in modes
        ]
    if "peer" in sections:
        from bench.peer import haystack_available, peer_section

        _say("peer (Haystack)")
        if haystack_available():
            # qbank as it serves (the searcher above); Haystack embeds with sentence-transformers,
            # its own stack.
            report["peer"] = peer_section(searcher, queries)
            report["peer"]["qbank_encoder"] = embedder.describe()
        else:
            report["peer"] = {"skipped": "haystack-ai 2.x is not installed: pip install -e '.[bench]'"}
    if "http" in sections:
        from bench.serving import http_section

        report["http"] = []
        for w in workers:
            _say(f"HTTP, {w} worker(s)")
            report["http"].append(http_section(shipped.index_dir, queries, w, seconds))
    if "encoders" in sections:
        from bench.encoders import encoder_section

        _say("encoders: torch vs ONNX Runtime fp32 and int8")
        report["encoders"] = encoder_section(
            shipped.index_dir, queries, seconds, get_settings().model_cache_dir, content, work
        )
    if "batching" in sections:
        from bench.batching import batching_section

        settings = get_settings()
        encoder = settings.encoder if settings.encoder != "onnx-int8" else "onnx"  # the shipped index is fp32
        wait_ms = settings.query_batch_ms or 2.0
        _say(f"batching: {encoder}, QBANK_QUERY_BATCH_MS 0 vs {wait_ms}")
        report["batching"] = batching_section(
            shipped.index_dir, queries, seconds, settings.model_cache_dir, encoder, wait_ms
        )
    if against is not None:
        from bench.against import against_section

        _say(f"against {against}: start-up, memory and fresh /api/search, side by side")
        report["against"] = against_section(
            against, shipped.index_dir, content, queries, seconds, get_settings().model_cache_dir
        )
    if "scale" in sections:
        from bench.scale import scale_section

        base = runs.get("shipped+extra", shipped)
        _say(f"scale: {scale_chunks} chunks from {base.name}")
        del searcher
        report["scale"] = scale_section(
            base.corpus, base.artifact.embeddings, embedder, queries, scale_chunks, work, threads
        ) | {"base_corpus": base.name, "base_chunks": len(base.corpus.chunks)}
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    report["targets"] = check_targets(report)
    return report


def extra_banks(extra: Path | None, quick: bool, sections: set[str]) -> Path | None:
    """The folder of extra banks that the ingest and scale sections index beside
    the shipped ones: the one ``--extra`` names, never a default (the extra banks
    are an input, not part of the product or the bench), and none in a quick run
    or without those sections."""
    uses = bool({"ingest", "scale"} & sections) and not quick
    if extra is None:
        if uses:
            _say("no --extra: the ingest and scale sections use the shipped banks alone")
        return None
    if not any(p.name.lower() != "readme.md" for p in extra.glob("*.md")):
        raise _fail(f"--extra {extra}: no bank files (*.md) there")
    return extra.resolve() if uses else None


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def bench_command(
    ctx: typer.Context,
    quick: Annotated[
        bool, typer.Option("--quick", help="A fast subset: 60 queries, 3 s runs, 10k-chunk scale.")
    ] = False,
    ingest: Annotated[bool, typer.Option("--ingest", help="Run the ingest section.")] = False,
    inprocess: Annotated[bool, typer.Option("--inprocess", help="Run the in-process search section.")] = False,
    peer: Annotated[bool, typer.Option("--peer", help="Run the Haystack comparison.")] = False,
    http: Annotated[bool, typer.Option("--http", help="Run the HTTP section (real qbank serve + wrk).")] = False,
    scale: Annotated[bool, typer.Option("--scale", help="Run the scale section.")] = False,
    encoders: Annotated[
        bool,
        typer.Option(
            "--encoders", help="Run the torch vs ONNX fp32 vs int8 encoder section (in-process, ingest, serving)."
        ),
    ] = False,
    batching: Annotated[
        bool,
        typer.Option(
            "--batching", help="Run the micro-batching section: concurrent fresh queries, batching off vs on."
        ),
    ] = False,
    scale_chunks: Annotated[int | None, typer.Option(min=1000, help="Chunks in the scale corpus (100000).")] = None,
    seconds: Annotated[float | None, typer.Option(min=1, help="Seconds per HTTP load run (10).")] = None,
    workers: Annotated[
        list[int] | None, typer.Option("--workers", min=1, max=8, help="uvicorn workers (repeat; 1 and 2).")
    ] = None,
    content: Annotated[Path | None, typer.Option("--content", help="Shipped content (QBANK_CONTENT_DIR).")] = None,
    extra: Annotated[
        Path | None,
        typer.Option(
            "--extra",
            exists=True,
            file_okay=False,
            help="Extra banks that the ingest and scale sections add to the shipped ones (none if not given; "
            "this repository's are in tests/fixtures/corpus-extra).",
        ),
    ] = None,
    queries: Annotated[
        Path, typer.Option("--queries", help="Eval queries (JSONL).", show_default="eval/data/queries.jsonl")
    ] = DEFAULT_QUERIES,
    out: Annotated[Path | None, typer.Option("--out", help="JSON report (bench/reports/bench-<date>.json).")] = None,
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            metavar="REV",
            help="Also serve git revision REV (a temporary worktree) and this checkout side by side, alternating: "
            "start to ready, memory, fresh /api/search at concurrency 8. Alone, runs only this comparison.",
        ),
    ] = None,
) -> None:
    """Benchmark ingest, in-process search, HTTP serving, 100x scale and a Haystack peer;
    print a summary and write a JSON report."""
    from qbank.settings import get_settings

    logging.basicConfig(level="WARNING", stream=sys.stderr)
    chosen = {
        n
        for n, on in (
            ("ingest", ingest),
            ("inprocess", inprocess),
            ("peer", peer),
            ("http", http),
            ("scale", scale),
            ("encoders", encoders),
            ("batching", batching),
        )
        if on
    }
    every = {"ingest", "inprocess", "peer", "http", "scale", "encoders", "batching"}
    sections = chosen or (set() if against else every)
    extra = extra_banks(extra, quick, sections)
    if against is not None:
        from bench.against import resolve

        try:
            resolve(against)
        except RuntimeError as exc:
            raise _fail(f"--against {against}: {exc}") from None
    stamp = dt.datetime.now().strftime("%Y-%m-%dT%H%M")
    out = out or DEFAULT_OUT_DIR / f"bench-{stamp}.json"
    work = Path(tempfile.mkdtemp(prefix="qbank-bench-"))
    started = time.perf_counter()
    try:
        report = run_bench(
            sections,
            quick,
            content or get_settings().content_dir,
            extra,
            queries,
            scale_chunks or (10_000 if quick else 100_000),
            seconds or (3.0 if quick else 10.0),
            workers or [1, 2],
            work,
            against,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["date"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    args = ctx.obj if isinstance(ctx.obj, list) else sys.argv[1:]
    report["command"] = " ".join([ctx.command_path, *map(shlex.quote, args)])
    report["wall_s"] = round(time.perf_counter() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_summary(report)
    typer.echo(f"wrote {out} ({report['wall_s']} s)")


app = typer.Typer(add_completion=False)
app.command()(bench_command)


def main(args: list[str] | None = None, prog_name: str = "qbank bench") -> None:
    """Run the command on ``args`` (default: the process's arguments); exits the process."""
    args = sys.argv[1:] if args is None else list(args)
    typer.main.get_command(app).main(args=args, prog_name=prog_name, obj=args)
