"""The ``qbank`` command line."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eval.cli import eval_command, mock_eval_command, tune_command
from qbank.settings import ConfigError, Settings, get_settings, offline_embedder, settings_embedder, settings_or_exit

if TYPE_CHECKING:
    from ingest.enrich import EnrichmentReport
    from ingest.merge import BankSource

app = typer.Typer(help="qbank: search interview question banks and serve answers.", no_args_is_help=True)

# The checkout this module runs from; the speed benchmarks live in its bench/
# folder, which is not part of the installed package.
CHECKOUT = Path(__file__).resolve().parent.parent

IndexOpt = Annotated[
    Path | None,
    typer.Option(
        "--index",
        help="Index folder (default: QBANK_INDEX_DIR): a link to its current version, which ingest makes "
        "in a new or empty folder or over an index, never over a folder of other files.",
    ),
]
ContentOpt = Annotated[Path | None, typer.Option("--content", help="Content folder (default: QBANK_CONTENT_DIR).")]


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _load_settings() -> Settings:
    """Settings from the environment, or a clean error naming what is wrong."""
    try:
        return settings_or_exit()
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@app.command()
def ingest(
    content: ContentOpt = None,
    index: IndexOpt = None,
    dense_index: Annotated[str | None, typer.Option(help="FAISS index kind: auto, flat or hnsw.")] = None,
    fetch_links: Annotated[
        bool | None,
        typer.Option(
            "--fetch-links/--no-fetch-links",
            help="Fetch the practice link of each quick-reference row no full answer covers and index the page's "
            "text with the row (network; default: QBANK_FETCH_LINKS). Pages the index already has are reused.",
        ),
    ] = None,
    expand_rows: Annotated[
        bool | None,
        typer.Option(
            "--expand-rows/--no-expand-rows",
            help="Have the configured LLM (QBANK_LLM_BASE_URL, QBANK_LLM_MODEL) write a short overview of each "
            "quick-reference row no full answer covers, indexed with the row and shown as generated (default: "
            "QBANK_EXPAND_ROWS). Overviews the index has for the row title, model and prompt version are reused.",
        ),
    ] = None,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh", help="With --fetch-links or --expand-rows: fetch or write again what the index already has."
        ),
    ] = False,
    drop_knowledge: Annotated[
        bool,
        typer.Option(
            "--drop-knowledge",
            help="Build the rows without the practice-link pages and generated overviews the previous index carries.",
        ),
    ] = False,
) -> None:
    """Parse the question banks in the content folder and build the index."""
    from index.engine import ingest as run_ingest
    from ingest.enrich import Knowledge
    from ingest.expand import RowExpander
    from ingest.fetch import FetchLimits, LinkFetcher
    from qbank.answer.llm import LLMClient

    settings = _load_settings()
    _setup_logging("WARNING")
    content_dir, index_dir = content or settings.content_dir, index or settings.index_dir
    fetch = settings.fetch_links if fetch_links is None else fetch_links
    expand = settings.expand_rows if expand_rows is None else expand_rows
    if refresh and not (fetch or expand):
        raise _fail("--refresh fetches or writes again what the index has: give it with --fetch-links or --expand-rows")
    llm = LLMClient.from_settings(settings)
    if expand and llm is None:
        raise _fail("--expand-rows needs an LLM: set QBANK_LLM_BASE_URL and QBANK_LLM_MODEL")
    limits = FetchLimits(timeout_s=settings.fetch_timeout_s, budget_s=settings.fetch_budget_s)
    knowledge = Knowledge(
        fetcher=LinkFetcher(limits) if fetch else None,
        expander=RowExpander(llm) if expand and llm is not None else None,
        refresh=refresh,
        reuse=not drop_knowledge,
    )
    # The pipeline logs each file's problem as it reads it (for a server that builds its index on
    # start); this command lists them all under the table, once (each was printed twice).
    pipeline_log = logging.getLogger("ingest.pipeline")
    level = pipeline_log.level
    pipeline_log.setLevel(logging.ERROR)
    try:
        embedder = offline_embedder(settings).load()
        report = run_ingest(
            content_dir,
            index_dir,
            embedder,
            dense_kind=dense_index or settings.dense_index,
            progress=True,
            knowledge=knowledge,
            neighbours_dir=settings.neighbours_dir,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        pipeline_log.setLevel(level)  # in-process callers (tests, scripts) keep their logging
    corpus = report.corpus
    typer.echo(f"{'bank':<40} {'questions':>9} {'quick-ref':>9} {'chunks':>7} {'code':>5} {'warnings':>8}")
    for b in corpus.banks:
        typer.echo(
            f"{b.bank[:40]:<40} {b.questions:>9} {b.quick_refs:>9} {b.chunks:>7} {b.code_blocks:>5} {b.warnings:>8}"
        )
        if len(b.sources) > 1:
            for line in _source_lines(b.sources):
                typer.echo(line)
    for n in corpus.notices:
        typer.echo(f"note: {n}")
    for w in corpus.warnings:
        typer.secho(f"warning: {w}", fg=typer.colors.YELLOW, err=True)
    if report.stats.enrichment is not None:
        for line in _knowledge_lines(report.stats.enrichment, fetched=fetch, expanded=expand):
            typer.echo(line)
    s = report.stats
    size = sum(f.stat().st_size for f in report.path.resolve().iterdir())
    typer.echo(
        f"indexed {s.chunks} chunks ({s.embedded} embedded, {s.reused} reused) and {s.sentences} sentence units "
        f"({s.sentences_embedded} embedded) in {s.seconds:.1f}s; {size / 1e6:.1f} MB at {index_dir}"
    )
    near = report.artifact.neighbours
    if near is not None:
        subjects = ", ".join(dict.fromkeys(near.subjects))
        typer.echo(f"{len(near)} questions on neighbouring subjects to tell apart from the banks: {subjects}")


def _knowledge_lines(done: EnrichmentReport, fetched: bool, expanded: bool) -> list[str]:
    """What the rows no full answer covers now carry beyond their title."""
    from ingest.enrich import problem_kinds

    lines = []
    if fetched or done.articles:
        lines.append(
            f"practice links: {done.articles} of {done.with_link} pages indexed for the rows no full answer covers "
            f"({done.articles_fetched} fetched now, {done.articles_reused} from the previous index; "
            f"{done.article_chunks} chunks)"
        )
    if fetched and done.article_problems:
        kinds = ", ".join(f"{n} {kind}" for kind, n in problem_kinds(done.article_problems))
        lines.append(f"  {len(done.article_problems)} pages skipped ({kinds}); each is logged above with its URL")
    if expanded or done.expansions:
        lines.append(
            f"row overviews (generated): {done.expansions} of the {done.rows} rows no full answer covers "
            f"({done.expansions_written} written now, {done.expansions_reused} from the previous index; "
            f"{done.expansion_chunks} chunks)"
        )
    if expanded and done.expansion_problems:
        kinds = ", ".join(f"{n} {kind}" for kind, n in problem_kinds(done.expansion_problems))
        lines.append(f"  {len(done.expansion_problems)} rows not written ({kinds}); each is logged above")
    return lines


def _source_lines(sources: Sequence[BankSource]) -> list[str]:
    """Under a bank merged from several files: what each file gave it, oldest first."""
    lines = []
    for s in sources:
        age = "oldest" if s.version == 1 else "newest" if s.version == len(sources) else f"version {s.version}"
        role = f"seed, {age}" if s.seed else age
        gave = [f"{s.questions} questions"]
        if s.superseded:
            gave.append(f"{s.superseded} superseded by newer copies")
        if s.quick_refs:
            gave.append(f"{s.quick_refs} quick-reference rows")
        if s.company_lists:
            gave.append(f"{s.company_lists} company lists")
        lines.append(f"  from {s.path} ({role}): {', '.join(gave)}")
    return lines


@app.command()
def export(
    encoder: Annotated[
        list[str] | None,
        typer.Option("--encoder", help="ONNX encoder to export (repeat; default: onnx and onnx-int8)."),
    ] = None,
) -> None:
    """Export the model for ONNX Runtime into QBANK_MODEL_CACHE_DIR, fp32 and int8: the build-side step
    (it needs torch) after which ingest and serving run without torch."""
    from index.encoders import ONNX_PRECISION
    from index.onnx_encoder import prepare

    settings = _load_settings()
    _setup_logging("WARNING")
    chosen = encoder or list(ONNX_PRECISION)
    unknown = [e for e in chosen if e not in ONNX_PRECISION]
    if unknown:
        raise _fail(f"not an ONNX encoder: {', '.join(unknown)} (use {', '.join(ONNX_PRECISION)})")
    for name in chosen:
        try:
            done = prepare(settings.model, settings.model_cache_dir, ONNX_PRECISION[name])
        except (RuntimeError, ValueError) as exc:
            raise _fail(str(exc)) from exc
        typer.echo(f"{name}: {done.onnx} (sha256 {done.sha256[:16]})")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Free-text question.")],
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="Number of results.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense.")] = "hybrid",
    company: Annotated[str | None, typer.Option(help="Only questions asked by this company.")] = None,
    difficulty: Annotated[str | None, typer.Option(help="Easy, Medium or Hard.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only questions with this tag.")] = None,
    bank: Annotated[str | None, typer.Option(help="Only this bank (slug or title).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    index: IndexOpt = None,
) -> None:
    """Search the index and print ranked questions with their best section and code."""
    from index.engine import make_searcher
    from index.search import Filters
    from index.store import IndexLoadError, load_artifact

    settings = _load_settings()
    _setup_logging("WARNING")
    if not query.strip():
        raise _fail("the query is empty: pass the question to search for")
    index_dir = index or settings.index_dir
    try:
        embedder = settings_embedder(settings).load()
        artifact = load_artifact(
            index_dir,
            expect_model=embedder.model_name,
            expect_dimension=embedder.dimension,
            expect_encoder=embedder.describe(),
        )
        result = make_searcher(artifact, embedder).search(
            query, k=k, mode=mode, filters=Filters(company, difficulty, tag, bank)
        )
    except (IndexLoadError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        from service.schemas import hit_public

        payload = {
            "query": query,
            "mode": mode,
            "answerable": result.answerable,
            "took_ms": result.took_ms,
            "hits": [hit_public(h, settings.public_url).model_dump() for h in result.hits],
        }
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    chosen = result.filters  # the options' filters, and a company the query names ("slack svm questions")
    if not result.hits and not chosen.is_empty():
        # "--bank nosuch" printed "closest matches:" over an empty list
        from index.filters import filter_phrase

        typer.secho(
            f"(no question in the index is {filter_phrase(chosen)}: nothing to rank; check the filters)",
            fg=typer.colors.YELLOW,
        )
        return
    if not result.answerable:
        typer.secho("(nothing in the bank clears the relevance floor; closest matches:)", fg=typer.colors.YELLOW)
    for rank, hit in enumerate(result.hits, 1):
        r = hit.record
        typer.secho(f"{rank}. {r.title}", bold=True)
        meta = [f"score {hit.score:.3f}", r.difficulty or "-", ", ".join(r.companies) or "-", r.id]
        typer.echo("   " + " | ".join(meta))
        if hit.section:
            typer.echo(f"   section: {hit.section}")
        if hit.snippet:
            typer.echo(f"   {hit.snippet}")
        if getattr(r, "practice_url", None):
            typer.echo(f"   practice: {r.practice_url}")
        if rank == 1 and hit.code:
            block = hit.code[0]
            typer.echo(f"   ```{block.language}")
            for line in block.code.splitlines()[:40]:
                typer.echo(f"   {line}")
            typer.echo("   ```")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: QBANK_HOST).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default: QBANK_PORT).")] = None,
    index: IndexOpt = None,
    content: ContentOpt = None,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="uvicorn worker processes.")] = None,
) -> None:
    """Start the API, chat UI and Slack endpoint with uvicorn (builds the index on first start)."""
    import os

    from service.malloc import limit_arenas

    limit_arenas()  # before any thread starts: service/malloc.py

    import uvicorn

    from service.limits import KEEP_ALIVE_S, GuardedHttpToolsProtocol

    # Workers are separate processes: pass overrides the way Settings reads them.  Absolute,
    # not resolved: an index folder is a link to its current version, and a reload must follow
    # the link to the version a later ingest made, not stay on the one there at start.
    if index is not None:
        os.environ["QBANK_INDEX_DIR"] = str(index.absolute())
    if content is not None:
        os.environ["QBANK_CONTENT_DIR"] = str(content.absolute())
    get_settings.cache_clear()
    settings = _load_settings()
    _setup_logging(settings.log_level)
    if (workers or settings.workers) == 1:  # the app is made in this process: its encoder can start now
        from service import preload

        preload.start(settings_embedder(settings))
    uvicorn.run(
        "service.app:app_factory",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=5,
        http=GuardedHttpToolsProtocol,  # header size limit (431) and header deadline (408): service/limits.py
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=KEEP_ALIVE_S,  # idle kept-alive connections closed: clients must expire theirs sooner
        # X-Forwarded-For only from the configured proxies (uvicorn would trust loopback by default,
        # letting any local client pick its own address and slip the chat rate limit).
        proxy_headers=bool(settings.trusted_proxies.strip()),
        forwarded_allow_ips=settings.trusted_proxies.strip() or None,
    )


@app.command()
def insights(
    days: Annotated[int, typer.Option(min=1, max=366, help="The last this many days (UTC), today included.")] = 30,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="Gaps to print.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the gaps as JSON (as /api/admin/insights).")] = False,
) -> None:
    """Print the top gaps: questions asked without an answer in the query log, grouped by meaning
    with the packaged model, the most asked first (the store of QBANK_DATABASE_URL, or beside the index)."""
    from service.feedback import FeedbackStore
    from service.gaps import GapClusterer
    from service.insights import InsightsReport
    from service.insights_schemas import gap_public
    from service.store import Store, StoreError
    from service.store.queries import QueryLogStore

    settings = _load_settings()
    _setup_logging("WARNING")
    try:
        store = Store(settings.store_url).open()
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    try:
        embedder = settings_embedder(settings).load()
        report = InsightsReport(QueryLogStore(store), FeedbackStore(store), GapClusterer(embedder))
        found = report.run(days)
        every = report.gaps(days)
    except (RuntimeError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        store.close()
    gaps = every[:limit]
    if as_json:
        typer.echo(json.dumps([gap_public(g).model_dump(mode="json") for g in gaps], indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"Top gaps of the last {days} days: {len(every)} gaps among {found.abstained} questions without an "
        f"answer (of {found.queries} asked)"
    )
    if not gaps:
        typer.echo("  nothing went unanswered" if settings.query_log else "  the query log is off (QBANK_QUERY_LOG)")
    for gap in gaps:
        typer.echo(f"{gap.count:>8}  {gap.label}")
        for other in gap.examples[1:]:
            typer.echo(f"{'':>8}    also: {other}")


app.command("eval")(eval_command)
app.command("tune")(tune_command)
app.command("mock-eval")(mock_eval_command)


@app.command(
    "bench",
    add_help_option=False,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def bench(ctx: typer.Context) -> None:
    """Benchmark ingest, in-process search, HTTP serving, 100x scale and a Haystack peer
    (from a checkout; `qbank bench --help` lists the options)."""
    if not (CHECKOUT / "bench" / "cli.py").is_file():
        raise _fail(
            f"qbank bench runs from a checkout of the qbank repository: there is no bench/ folder in {CHECKOUT} "
            "(the benchmarks are not part of the installed package)"
        )
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    from bench.cli import main as bench_main

    bench_main(ctx.args, prog_name=ctx.command_path)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
