"""``qbank bench``: measured speed at today's size and at ~100x, against the targets.

Sections (all by default; name some to run only those): ``--ingest`` (parse,
chunk, embed, index, size), ``--inprocess`` (the floor and each search mode,
cold, warm, with and without the query-embedding cache), ``--peer``
(Haystack's in-memory hybrid pipeline), ``--http`` (a real ``qbank serve``
under wrk), ``--scale`` (~100k chunks).  Results go to
``eval/reports/bench-<date>.json``; BENCHMARKS.md is written from them.
Registered on the ``qbank`` app in ``qbank/cli.py``; nothing heavy is
imported until the command runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_OUT_DIR = EVAL_DIR / "reports"
DEFAULT_EXTRA = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "corpus-extra"

# The targets, checked against every run.
TARGET_FLOOR_RATIO = 1.3
TARGET_HTTP = {"concurrency": 8, "p50_ms": 15.0, "p99_ms": 50.0, "rps": 100.0}
TARGET_SCALE_P50_MS = 30.0
TARGET_PEER_SPEEDUP = 3.0


def _target(name: str, met: bool | None, figure: str) -> dict[str, Any]:
    return {"target": name, "met": met, "figure": figure}


def check_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    if inp := report.get("inprocess"):
        r = inp["ratios"]["hybrid_uncached_p50_over_floor_p50"]
        out.append(_target(f"in-process hybrid p50 <= {TARGET_FLOOR_RATIO}x floor", r <= TARGET_FLOOR_RATIO, f"{r}x"))
    for http in report.get("http", []):
        runs = [
            x
            for x in http["runs"]
            if x["endpoint"] == "/api/search"
            and x["regime"] == "cached"
            and x["concurrency"] == TARGET_HTTP["concurrency"]
        ]
        for x in runs:
            lat = x["latency_ms"]
            met = (
                lat["p50"] <= TARGET_HTTP["p50_ms"]
                and lat["p99"] <= TARGET_HTTP["p99_ms"]
                and x["rps"] >= TARGET_HTTP["rps"]
                and x["failed"] == 0
            )
            figure = f"p50 {lat['p50']} ms, p99 {lat['p99']} ms, {x['rps']} req/s, {x['failed']} failed"
            out.append(
                _target(
                    f"HTTP /api/search c=8 ({http['workers']} worker(s)): p50<=15, p99<=50, >=100 rps, 0 errors",
                    met,
                    figure,
                )
            )
    if sc := report.get("scale"):
        kind = sc["build"]["auto_kind"]
        s = sc["search"][kind]
        full, cached = s["uncached_embedding_ms"]["hybrid"]["p50"], s["cached_embedding_ms"]["hybrid"]["p50"]
        n = sc["target_chunks"]
        out.append(
            _target(
                f"{n} chunks ({kind}): hybrid p50 <= 30 ms, embedding included",
                full <= TARGET_SCALE_P50_MS,
                f"{full} ms",
            )
        )
        out.append(
            _target(
                f"{n} chunks ({kind}): hybrid p50 <= 30 ms, embedding cached",
                cached <= TARGET_SCALE_P50_MS,
                f"{cached} ms",
            )
        )
    if (peer := report.get("peer")) and "speedup_p50_uncached" in peer:
        ours, theirs = peer["accuracy"]["qbank"], peer["accuracy"]["haystack"]
        as_good = ours["hit@1"] >= theirs["hit@1"] and ours["mrr@10"] >= theirs["mrr@10"]
        for label, key in (("embedding uncached", "speedup_p50_uncached"), ("embedding cached", "speedup_p50_cached")):
            x = peer[key]
            out.append(
                _target(
                    f">= 3x faster than Haystack at equal or better accuracy ({label})",
                    x >= TARGET_PEER_SPEEDUP and as_good,
                    f"{x}x; hit@1 {ours['hit@1']} vs {theirs['hit@1']}, MRR@10 {ours['mrr@10']} vs {theirs['mrr@10']}",
                )
            )
    return out


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
) -> dict[str, Any]:
    import torch

    from eval.bench_ingest import ingest_section
    from eval.bench_inprocess import cold_first_query, encoder_threads, floor_and_search
    from eval.bench_stats import bench_queries, machine_info, spread, timed
    from index.dense import set_search_threads
    from index.embed import Embedder
    from index.search import MODES, Searcher
    from qbank.settings import get_settings
    from service.state import settle_heap

    report: dict[str, Any] = {"machine": machine_info(), "sections": sorted(sections), "quick": quick}
    queries = bench_queries(queries_path)
    if quick:
        queries = spread(queries, 60)
    report["queries"] = {
        "file": str(queries_path),
        "used": len(queries),
        "answerable": sum(q.answerable for q in queries),
    }
    # Ingest runs with the libraries' default threads, as `qbank ingest` does; queries
    # with the service's `query_threads`, as `qbank serve` does.
    embedder, model_ms = timed(lambda: Embedder().load())
    report["model_load_s"] = round(model_ms / 1000, 3)
    threads = get_settings().query_threads
    report["threads"] = {"ingest": torch.get_num_threads(), "queries": threads or torch.get_num_threads()}

    use_extra = not quick and bool({"ingest", "scale"} & sections)
    _say("ingest")
    runs = ingest_section(content, extra if use_extra else None, work, embedder)
    if "ingest" in sections:
        report["ingest"] = {name: run.figures for name, run in runs.items()}
    shipped = runs["shipped"]
    if threads:
        torch.set_num_threads(threads)
        set_search_threads(threads)
    searcher = Searcher(shipped.artifact, embedder)
    settle_heap()  # as the service does once its index is loaded

    if "inprocess" in sections:
        _say("in-process search")
        report["inprocess"] = floor_and_search(searcher, embedder, queries)
        report["inprocess"]["encoder_threads"] = encoder_threads(embedder, [q.text for q in queries[:40]])
        modes = ("hybrid",) if quick else MODES
        report["inprocess"]["cold_first_query"] = [
            cold_first_query(shipped.index_dir, m, queries[0].text, threads) for m in modes
        ]
    if "peer" in sections:
        from eval.bench_peer import haystack_available, peer_section

        _say("peer (Haystack)")
        if haystack_available():
            report["peer"] = peer_section(searcher, queries)
        else:
            report["peer"] = {"skipped": "haystack-ai 2.x is not installed: pip install -e '.[bench]'"}
    if "http" in sections:
        from eval.bench_load import http_section

        report["http"] = []
        for w in workers:
            _say(f"HTTP, {w} worker(s)")
            report["http"].append(http_section(shipped.index_dir, queries, w, seconds))
    if "scale" in sections:
        from eval.bench_scale import scale_section

        base = runs.get("shipped+extra", shipped)
        _say(f"scale: {scale_chunks} chunks from {base.name}")
        del searcher
        report["scale"] = scale_section(
            base.corpus, base.artifact.embeddings, embedder, queries, scale_chunks, work, threads
        ) | {"base_corpus": base.name, "base_chunks": len(base.corpus.chunks)}
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    report["targets"] = check_targets(report)
    return report


def print_summary(report: dict[str, Any]) -> None:
    m = report["machine"]
    typer.echo(
        f"machine: {m['nproc']} CPU ({m['cpu_model']}), {m['ram_gib']} GiB, "
        f"load {m['loadavg_start']} -> {m['loadavg_end']}"
    )
    for name, f in report.get("ingest", {}).items():
        typer.echo(
            f"ingest {name}: {f['chunks']} chunks, parse {f['parse_chunk_s']}s, embed {f['embed_s']}s, "
            f"index {f['index_build_s']}s, save {f['save_s']}s, {f['index_bytes'] / 1e6:.1f} MB"
        )
    if inp := report.get("inprocess"):
        fl = inp["floor_ms"]
        typer.echo(
            f"floor p50: embed {fl['embed']['p50']:.2f} + faiss {fl['faiss']['p50']:.3f} "
            f"+ bm25 {fl['bm25']['p50']:.3f} ms"
        )
        for mode, s in inp["search_uncached_ms"].items():
            c = inp["search_cached_ms"][mode]
            typer.echo(
                f"  {mode:>6}: uncached p50/p99 {s['p50']:.2f}/{s['p99']:.2f} ms, "
                f"cached {c['p50']:.3f}/{c['p99']:.3f} ms"
            )
    for http in report.get("http", []):
        typer.echo(
            f"HTTP ({http['workers']} worker(s), ready in {http['startup_to_ready_s']}s, "
            f"RSS {http['rss_mib_after_load']} MiB):"
        )
        for x in http["runs"]:
            lat = x["latency_ms"]
            typer.echo(
                f"  {x['endpoint']:<12} {x['regime']:<8} c={x['concurrency']:<3} {x['rps']:>7.1f} req/s  "
                f"p50 {lat['p50']:>7.2f}  p99 {lat['p99']:>7.2f} ms  failed {x['failed']}"
            )
    if (peer := report.get("peer")) and "accuracy" in peer:
        typer.echo(
            f"Haystack p50 {peer['haystack_hybrid_ms']['p50']:.2f} ms "
            f"(retrieval alone {peer['haystack_retrieval_only_ms']['p50']:.2f}) vs qbank "
            f"{peer['qbank_hybrid_uncached_ms']['p50']:.2f} (cached {peer['qbank_hybrid_cached_ms']['p50']:.3f}); "
            f"accuracy {peer['accuracy']}"
        )
    if sc := report.get("scale"):
        for kind, s in sc["search"].items():
            typer.echo(
                f"scale {sc['target_chunks']} {kind}: p50 hybrid/bm25/dense cached "
                + "/".join(f"{s['cached_embedding_ms'][m]['p50']:.2f}" for m in ("hybrid", "bm25", "dense"))
                + f" ms, hybrid uncached {s['uncached_embedding_ms']['hybrid']['p50']:.2f} ms"
            )
    for t in report["targets"]:
        mark = "MET   " if t["met"] else "MISSED"
        typer.echo(f"{mark} {t['target']}: {t['figure']}")


def bench_command(
    quick: Annotated[
        bool, typer.Option("--quick", help="A fast subset: 60 queries, 3 s runs, 10k-chunk scale.")
    ] = False,
    ingest: Annotated[bool, typer.Option("--ingest", help="Run the ingest section.")] = False,
    inprocess: Annotated[bool, typer.Option("--inprocess", help="Run the in-process search section.")] = False,
    peer: Annotated[bool, typer.Option("--peer", help="Run the Haystack comparison.")] = False,
    http: Annotated[bool, typer.Option("--http", help="Run the HTTP section (real qbank serve + wrk).")] = False,
    scale: Annotated[bool, typer.Option("--scale", help="Run the scale section.")] = False,
    scale_chunks: Annotated[int | None, typer.Option(min=1000, help="Chunks in the scale corpus (100000).")] = None,
    seconds: Annotated[float | None, typer.Option(min=1, help="Seconds per HTTP load run (10).")] = None,
    workers: Annotated[
        list[int] | None, typer.Option("--workers", min=1, max=8, help="uvicorn workers (repeat; 1 and 2).")
    ] = None,
    content: Annotated[Path | None, typer.Option("--content", help="Shipped content (QBANK_CONTENT_DIR).")] = None,
    extra: Annotated[Path, typer.Option("--extra", help="Extra banks, used if present.")] = DEFAULT_EXTRA,
    queries: Annotated[Path, typer.Option("--queries", help="Eval queries (JSONL).")] = EVAL_DIR
    / "data"
    / "queries.jsonl",
    out: Annotated[Path | None, typer.Option("--out", help="JSON report (eval/reports/bench-<date>.json).")] = None,
) -> None:
    """Benchmark ingest, in-process search, HTTP serving, 100x scale and a Haystack peer;
    print a summary and write a JSON report."""
    from qbank.settings import get_settings

    logging.basicConfig(level="WARNING", stream=sys.stderr)
    chosen = {
        n
        for n, on in (("ingest", ingest), ("inprocess", inprocess), ("peer", peer), ("http", http), ("scale", scale))
        if on
    }
    sections = chosen or {"ingest", "inprocess", "peer", "http", "scale"}
    stamp = dt.datetime.now().strftime("%Y-%m-%dT%H%M")
    out = out or DEFAULT_OUT_DIR / f"bench-{stamp}.json"
    work = Path(tempfile.mkdtemp(prefix="qbank-bench-"))
    started = time.perf_counter()
    try:
        report = run_bench(
            sections,
            quick,
            content or get_settings().content_dir,
            extra if extra.is_dir() else None,
            queries,
            scale_chunks or (10_000 if quick else 100_000),
            seconds or (3.0 if quick else 10.0),
            workers or [1, 2],
            work,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["date"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    report["command"] = " ".join(["qbank bench", *sys.argv[2:]])
    report["wall_s"] = round(time.perf_counter() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_summary(report)
    typer.echo(f"wrote {out} ({report['wall_s']} s)")
