"""Practice-link articles for the quick-reference rows no full answer covers,
against a real local HTTP server (``PracticeSite``) whose fixture pages the
test bank's practice links point at.  Nothing here reaches the internet.

Each row's page is fetched only when asked (``Knowledge(fetcher=...)``, the
``--fetch-links`` of ``qbank ingest``), its readable text indexed as
``article`` chunks of the row, and kept in the index: a later ingest without
the network reuses it and fetches nothing.  Every way a page can fail is a
logged skip of that row alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import Result
from fakes import HashEmbedder
from server_support import free_port
from service_support import PRACTICE_PAGES, PracticeSite
from typer.testing import CliRunner

from index.engine import IngestReport, ingest, make_searcher
from index.store import load_artifact
from ingest.enrich import Knowledge, problem_kinds
from ingest.fetch import USER_AGENT, FetchLimits, LinkFetcher
from ingest.models import QuickRef
from ingest.readable import excerpt, readable_text
from qbank.cli import app
from qbank.settings import get_settings

DROPOUT_TITLE = "What is Dropout?"

# Rows: (title, practice-link path or a full URL or None).  Row 1 is the full question's own row.
ROWS = (
    (DROPOUT_TITLE, "/articles/gan.html"),
    ("Generative Adversarial Networks", "/articles/gan.html"),
    ("Markov Chain Monte Carlo", "/articles/mcmc.html"),
    ("Gradient Clipping", "/moved"),
    ("Capsule Networks", "/missing.html"),
    ("Survival Analysis", "/broken.html"),
    ("Hidden Markov Models", "/slow.html"),
    ("Conformal Prediction", "/paper.pdf"),
    ("Federated Learning", "/huge.html"),
    ("Neural Architecture Search", "/endless.html"),
    ("Knowledge Distillation", "/binary.html"),
    ("Curriculum Learning", "/articles/script-only.html"),
    ("Contrastive Learning", "/private/secret.html"),
    ("Active Learning", "CLOSED"),
    ("Meta Learning", None),
)
# What each failing row's problem starts with.
FAILURES = {
    "Capsule Networks": "HTTP 404",
    "Survival Analysis": "HTTP 500",
    "Hidden Markov Models": "timed out",
    "Conformal Prediction": "not HTML (application/pdf)",
    "Federated Learning": "too large",
    "Neural Architecture Search": "too large",
    "Knowledge Distillation": "binary content",
    "Curriculum Learning": "no readable text",
    "Contrastive Learning": "disallowed by the site's robots.txt",
    "Active Learning": "request failed: ConnectError",
}
FETCHED = ("Generative Adversarial Networks", "Markov Chain Monte Carlo", "Gradient Clipping")
LIMITS = FetchLimits(timeout_s=1.0, max_bytes=200_000, budget_s=60, concurrency=4, per_host=2, pause_s=0)


def bank_text(site: PracticeSite, closed_port: int) -> str:
    rows = []
    for n, (title, link) in enumerate(ROWS, 1):
        url = None if link is None else f"http://127.0.0.1:{closed_port}/x.html" if link == "CLOSED" else site.url(link)
        cell = f"[Read more]({url})" if url else ""
        topics = "Regularization" if title == DROPOUT_TITLE else "Deep Learning"
        rows.append(f"| {n} | {title} | {cell} | Google | Medium | {topics} |")
    return (
        f"""# Practice Link Test Bank

## Premium Interview Questions

### {DROPOUT_TITLE} - Google Interview Question

**Difficulty:** 🟢 Easy | **Tags:** `Regularization` | **Asked by:** Google

??? success "View Answer"

    Dropout randomly zeroes activations during training so that units cannot co-adapt.

## Quick Reference: Topics

| Sno | Question Title | Practice Links | Companies Asking | Difficulty | Topics |
|-----|----------------|----------------|------------------|------------|--------|
"""
        + "\n".join(rows)
        + "\n"
    )


@pytest.fixture(scope="module")
def site() -> Iterator[PracticeSite]:
    with PracticeSite(slow_s=3.0, huge_bytes=2_500_000) as running:  # over the default 2 MB limit too
        yield running


@pytest.fixture(scope="module")
def content(site: PracticeSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("practice-content")
    (folder / "bank.md").write_text(bank_text(site, free_port()), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def fetched(
    site: PracticeSite, content: Path, fake_embedder: HashEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> tuple[IngestReport, list[str]]:
    """The test bank ingested once with its links fetched; the pages requested."""
    site.requests.clear()
    index = tmp_path_factory.mktemp("fetched") / "index"
    report = ingest(content, index, fake_embedder, knowledge=Knowledge(fetcher=LinkFetcher(LIMITS)))
    return report, site.pages()


def rows(report: IngestReport) -> dict[str, QuickRef]:
    return {r.title: r for r in report.artifact.quick_refs}


def test_readable_text_keeps_the_article_and_drops_the_page_around_it() -> None:
    page = readable_text((PRACTICE_PAGES / "gan.html").read_text())
    assert page.title == "Two Networks at War: An Introduction | Example ML Blog"
    paragraphs = page.text.split("\n\n")
    assert paragraphs[0] == "Two Networks at War"
    assert paragraphs[1].startswith("A generator network turns random noise into samples")
    assert "Why training is hard" in paragraphs  # a heading is kept, though short
    assert paragraphs[-1].startswith("Common fixes include the Wasserstein loss")
    for dropped in (
        "dataLayer",
        "track(",
        "font-family",
        "cookies",
        "Subscribe",
        "Related posts",
        "Copyright",
        "By A.",
    ):
        assert dropped not in page.text


def test_readable_text_without_an_article_element_drops_hidden_and_navigation() -> None:
    page = readable_text((PRACTICE_PAGES / "mcmc.html").read_text())
    assert page.title == "Sampling the Unwritable Posterior"
    assert page.text.startswith("Sampling the Unwritable Posterior\n\nWhen a posterior distribution cannot be written")
    assert "Metropolis–Hastings" in page.text and "posterior — café" in page.text  # entities decoded
    for dropped in ("Archive", "hidden paragraph", "enable JavaScript"):
        assert dropped not in page.text


def test_excerpt_cuts_at_a_paragraph_then_a_sentence() -> None:
    text = "First paragraph here.\n\nSecond one. It has two sentences.\n\nThird."
    assert excerpt(text, 1000) == text
    assert excerpt(text, 40) == "First paragraph here."
    assert excerpt(text, 50) == "First paragraph here.\n\nSecond one."
    with pytest.raises(ValueError):
        excerpt(text, 0)


def test_fetched_rows_carry_their_article_with_url_time_and_hash(
    fetched: tuple[IngestReport, list[str]], site: PracticeSite
) -> None:
    """As read back from the index on disk (``ingest`` returns the saved index, loaded)."""
    report, _ = fetched
    found = rows(report)
    gan = found["Generative Adversarial Networks"].article
    assert gan is not None
    assert gan.url == site.url("/articles/gan.html")
    assert gan.title == "Two Networks at War: An Introduction | Example ML Blog"
    assert gan.content_hash == hashlib.sha256((PRACTICE_PAGES / "gan.html").read_bytes()).hexdigest()
    assert gan.text.startswith("Two Networks at War\n\nA generator network turns random noise")
    assert len(gan.text) <= LIMITS.excerpt_chars
    assert time.time() - time.mktime(time.strptime(gan.fetched_at, "%Y-%m-%dT%H:%M:%SZ")) < 3600 * 24
    moved = found["Gradient Clipping"].article
    assert moved is not None and moved.url == site.url("/moved")  # the link as the bank writes it
    assert moved.title == "Keeping Gradients in Check"


def test_each_failure_is_a_skip_of_that_row_alone(fetched: tuple[IngestReport, list[str]], site: PracticeSite) -> None:
    report, _ = fetched
    enrichment = report.stats.enrichment
    assert enrichment is not None
    problems = dict(enrichment.article_problems)
    by_title = {title: problems.get(rows(report)[title].practice_url or "") for title in FAILURES}
    for title, expected in FAILURES.items():
        assert by_title[title] is not None and by_title[title].startswith(expected), (title, by_title[title])
        assert rows(report)[title].article is None
    assert len(problems) == len(FAILURES)
    assert {t for t, r in rows(report).items() if r.article is not None} == set(FETCHED)
    assert (enrichment.articles_fetched, enrichment.articles_reused) == (3, 0)
    assert enrichment.rows == len(ROWS) - 1 and enrichment.with_link == len(ROWS) - 2
    assert dict(problem_kinds(enrichment.article_problems))["too large"] == 2


def test_failures_are_logged(
    site: PracticeSite, content: Path, fake_embedder: HashEmbedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fetcher = LinkFetcher(replace(LIMITS, timeout_s=0.5))
    with caplog.at_level(logging.WARNING, logger="ingest.fetch"):
        urls = [site.url("/missing.html"), site.url("/paper.pdf"), site.url("/articles/gan.html")]
        outcomes = fetcher.fetch_all(urls)
    assert [o.article is not None for o in outcomes.values()] == [False, False, True]
    assert sorted(r.getMessage() for r in caplog.records) == [
        f"practice link skipped: {site.url('/missing.html')}: HTTP 404",
        f"practice link skipped: {site.url('/paper.pdf')}: not HTML (application/pdf)",
    ]


def test_rows_covered_by_a_full_answer_are_not_fetched(fetched: tuple[IngestReport, list[str]]) -> None:
    report, pages = fetched
    dropout = rows(report)[DROPOUT_TITLE]
    assert dropout.question_id is not None and dropout.article is None
    # gan.html is requested once: for the GAN row, never for the Dropout row that links to the same page.
    assert pages.count("/articles/gan.html") == 1
    assert not [c for c in report.artifact.chunks if c.kind == "article" and c.doc_id == dropout.question_id]


def test_articles_are_chunks_of_their_row_beside_its_title_chunk(fetched: tuple[IngestReport, list[str]]) -> None:
    report, _ = fetched
    gan = rows(report)["Generative Adversarial Networks"]
    chunks = [c for c in report.artifact.chunks if c.record_id == gan.id]
    assert [c.kind for c in chunks][0] == "quick_reference"
    assert {c.kind for c in chunks[1:]} == {"article"}
    for n, chunk in enumerate(chunks[1:]):
        assert chunk.id == f"{gan.id}#article.{n}" and chunk.doc_id == gan.id
        assert chunk.heading == "Practice link: Two Networks at War: An Introduction | Example ML Blog"
        assert chunk.text.startswith(f"{gan.title}\nTwo Networks at War: An Introduction | Example ML Blog\n")
        assert chunk.meta["source"] == gan.practice_url and not chunk.generated
    assert report.artifact.manifest.counts["row_articles"] == 3


def test_a_described_topic_finds_its_row_through_the_article(
    fetched: tuple[IngestReport, list[str]], fake_embedder: HashEmbedder
) -> None:
    report, _ = fetched
    searcher = make_searcher(report.artifact, fake_embedder)
    hit = searcher.search("a forger and a detective trained against each other until fakes look real", k=3).hits[0]
    assert hit.record.title == "Generative Adversarial Networks"
    assert hit.chunk is not None and hit.chunk.kind == "article"
    assert hit.section == "Practice link: Two Networks at War: An Introduction | Example ML Blog"
    assert hit.snippet.startswith("Two Networks at War A generator network turns random noise")


def test_a_reingest_without_the_network_reuses_every_article(
    fetched: tuple[IngestReport, list[str]],
    site: PracticeSite,
    content: Path,
    fake_embedder: HashEmbedder,
) -> None:
    report, _ = fetched
    site.requests.clear()
    again = ingest(content, report.path, fake_embedder)  # no fetcher: what `qbank ingest` does without the flag
    assert site.requests == []
    assert {t: r.article for t, r in rows(again).items()} == {t: r.article for t, r in rows(report).items()}
    assert [c.id for c in again.artifact.chunks] == [c.id for c in report.artifact.chunks]
    assert again.stats.embedded == 0  # every chunk's vector reused
    assert again.stats.enrichment is not None and again.stats.enrichment.articles_reused == 3


def test_asking_again_fetches_only_what_is_missing_and_refresh_fetches_all(
    fetched: tuple[IngestReport, list[str]],
    site: PracticeSite,
    content: Path,
    fake_embedder: HashEmbedder,
    tmp_path: Path,
) -> None:
    report, _ = fetched
    index = tmp_path / "index"
    ingest(content, index, fake_embedder, knowledge=Knowledge(fetcher=LinkFetcher(LIMITS)))
    site.requests.clear()
    ingest(content, index, fake_embedder, knowledge=Knowledge(fetcher=LinkFetcher(LIMITS)))
    pages = site.pages()
    assert not {"/articles/gan.html", "/articles/mcmc.html", "/moved"} & set(pages)  # cached: not asked again
    assert "/missing.html" in pages and "/broken.html" in pages  # failures are tried again
    site.requests.clear()
    refreshed = ingest(content, index, fake_embedder, knowledge=Knowledge(fetcher=LinkFetcher(LIMITS), refresh=True))
    assert {"/articles/gan.html", "/articles/mcmc.html", "/moved"} <= set(site.pages())
    assert refreshed.stats.enrichment is not None and refreshed.stats.enrichment.articles_fetched == 3


def test_dropping_the_knowledge_gives_the_plain_index_back(
    fetched: tuple[IngestReport, list[str]], content: Path, fake_embedder: HashEmbedder, tmp_path: Path
) -> None:
    report, _ = fetched
    plain = ingest(content, tmp_path / "plain", fake_embedder)
    index = tmp_path / "index"
    ingest(content, index, fake_embedder, knowledge=Knowledge(fetcher=LinkFetcher(LIMITS)))
    dropped = ingest(content, index, fake_embedder, knowledge=Knowledge(reuse=False))
    assert dropped.artifact.manifest.content_hash == plain.artifact.manifest.content_hash
    assert all(r.article is None for r in dropped.artifact.quick_refs)
    assert "row_articles" not in dropped.artifact.manifest.counts


def test_without_knowledge_the_index_is_written_as_before(fake_built: IngestReport) -> None:
    """The shipped bank, ingested the default way: no article or expansion keys,
    chunks or counts anywhere in the index's files."""
    folder = fake_built.path.resolve()
    records = json.loads((folder / "records.json").read_text())
    assert all(set(r) == set(records["quick_refs"][0]) for r in records["quick_refs"])
    assert not {"article", "expansion"} & set(records["quick_refs"][0])
    kinds = {c["kind"] for c in json.loads((folder / "chunks.json").read_text())}
    assert kinds == {"title", "section", "insight", "quick_reference"}
    counts = {"questions", "quick_refs", "chunks", "code_blocks", "banks", "sentences"}  # the units are no knowledge
    assert set(fake_built.artifact.manifest.counts) == counts
    assert fake_built.stats.enrichment is None


def test_the_article_outlives_a_change_of_model(
    fetched: tuple[IngestReport, list[str]], site: PracticeSite, content: Path, tmp_path: Path
) -> None:
    report, _ = fetched

    class OtherModel(HashEmbedder):
        MODEL = "another-hash-embedder"

    index = tmp_path / "index"
    ingest(content, index, HashEmbedder(), knowledge=Knowledge(fetcher=LinkFetcher(LIMITS)))
    site.requests.clear()
    other = ingest(content, index, OtherModel())
    assert site.requests == []
    assert other.stats.embedded == other.stats.chunks  # a new model embeds everything again...
    assert sum(r.article is not None for r in other.artifact.quick_refs) == 3  # ...but fetches nothing


def test_the_time_budget_bounds_the_whole_step(site: PracticeSite) -> None:
    limits = FetchLimits(timeout_s=0.5, max_bytes=200_000, budget_s=1.2, concurrency=1, per_host=1, pause_s=2.0)
    urls = [site.url(f"/slow.html?n={n}") for n in range(8)]
    start = time.monotonic()
    outcomes = LinkFetcher(limits).fetch_all(urls)
    took = time.monotonic() - start
    assert list(outcomes) == urls
    problems = [o.problem or "" for o in outcomes.values()]
    assert all(p.startswith("timed out") or p.startswith("not fetched: the 1.2 s time budget") for p in problems)
    assert sum(p.startswith("not fetched") for p in problems) >= 4
    assert took < 1.2 + 0.5 + 1.0


def test_requests_name_qbank_and_stay_within_the_per_host_limit(site: PracticeSite) -> None:
    site.requests.clear()
    site.agents.clear()
    limits = FetchLimits(timeout_s=2.0, max_bytes=200_000, budget_s=30, concurrency=4, per_host=1, pause_s=0)
    urls = [site.url(f"/articles/gradient.html?n={n}") for n in range(4)]
    outcomes = LinkFetcher(limits).fetch_all(urls)
    assert all(o.article is not None for o in outcomes.values())
    assert set(site.agents) == {USER_AGENT}
    assert site.requests.count("/robots.txt") == 1  # asked once per host


def test_the_lanes_spread_a_host_over_at_most_per_host_lanes() -> None:
    fetcher = LinkFetcher(FetchLimits(per_host=2))
    urls = [f"http://a.example/{n}" for n in range(5)] + ["http://b.example/1"]
    lanes = fetcher._lanes(urls)
    assert lanes == [
        ["http://a.example/0", "http://a.example/2", "http://a.example/4"],
        ["http://a.example/1", "http://a.example/3"],
        ["http://b.example/1"],
    ]


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"timeout_s": 0}, "must be positive"),
        ({"max_bytes": 0}, "must be positive"),
        ({"concurrency": 0}, "at least 1"),
        ({"pause_s": -1}, "non-negative"),
    ],
)
def test_fetch_limits_are_validated(limits: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FetchLimits(**limits)  # type: ignore[arg-type]


def test_a_link_that_is_not_a_web_page_address_is_skipped() -> None:
    urls = ["ftp://example.com/file.html", "javascript:alert(1)", "http://[::1/x", "http://127.0.0.1:abc/x"]
    outcomes = LinkFetcher(LIMITS).fetch_all(urls)
    assert [o.problem for o in outcomes.values()][:3] == ["not an http(s) link"] * 3
    assert (outcomes[urls[3]].problem or "").startswith("could not be read: InvalidURL")


# -- qbank ingest --fetch-links ----------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., Result]]:
    """The Typer app in-process with hermetic settings (no QBANK_* but what a test sets, no .env)."""
    for key in [k for k in os.environ if k.startswith("QBANK_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("QBANK_FETCH_TIMEOUT_S", "1")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, [str(a) for a in args])
    get_settings.cache_clear()


def test_qbank_ingest_fetches_only_when_asked_and_says_what_it_did(
    cli: Callable[..., Result],
    site: PracticeSite,
    content: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    index = tmp_path / "index"
    site.requests.clear()
    plain = cli("ingest", "--content", content, "--index", index)
    assert plain.exit_code == 0, plain.output
    assert site.requests == [] and "practice links" not in plain.output

    with caplog.at_level(logging.WARNING, logger="ingest.fetch"):
        fetched = cli("ingest", "--content", content, "--index", index, "--fetch-links")
    assert fetched.exit_code == 0, fetched.output
    added = sum(c.kind == "article" for c in load_artifact(index).chunks)
    assert (
        "practice links: 3 of 13 pages indexed for the rows no full answer covers "
        f"(3 fetched now, 0 from the previous index; {added} chunks)"
    ) in fetched.output
    assert re.search(r"10 pages skipped \(2 too large, .*1 HTTP 404.*\); each is logged above", fetched.output)
    assert sum("practice link skipped:" in r.getMessage() for r in caplog.records) == 10
    assert re.search(rf"indexed \d+ chunks \({added} embedded, \d+ reused\)", fetched.output)

    site.requests.clear()
    again = cli("ingest", "--content", content, "--index", index)
    assert again.exit_code == 0, again.output
    assert site.requests == []
    assert "3 of 13 pages indexed for the rows no full answer covers (0 fetched now, 3 from" in again.output
    assert "pages skipped" not in again.output

    monkeypatch.setenv("QBANK_FETCH_LINKS", "true")  # the setting asks as the flag does; --no-fetch-links overrides it
    get_settings.cache_clear()
    site.requests.clear()
    assert cli("ingest", "--content", content, "--index", index, "--no-fetch-links").exit_code == 0
    assert site.requests == []
    assert cli("ingest", "--content", content, "--index", index).exit_code == 0
    assert "/missing.html" in site.pages() and "/articles/gan.html" not in site.pages()

    dropped = cli("ingest", "--content", content, "--index", index, "--no-fetch-links", "--drop-knowledge")
    assert dropped.exit_code == 0, dropped.output
    assert "practice links" not in dropped.output
    assert not [c for c in load_artifact(index).chunks if c.kind == "article"]


def test_refresh_needs_fetch_links_or_expand_rows(cli: Callable[..., Result], content: Path, tmp_path: Path) -> None:
    result = cli("ingest", "--content", content, "--index", tmp_path / "index", "--refresh")
    assert result.exit_code == 1
    assert "error: --refresh fetches or writes again what the index has: give it with --fetch-links or" in result.output
    assert not (tmp_path / "index").exists()
