"""Generated overviews for the quick-reference rows no full answer covers,
written at ingest by an LLM through the fake OpenAI-compatible endpoint
(``FakeOpenAI``, non-streamed completions, as the real API answers them).

Each row gets one overview when an LLM is configured and the operator asks
(``Knowledge(expander=...)``, the ``--expand-rows`` of ``qbank ingest``),
kept in the index under its row title, model and prompt version, indexed as
the row's ``expansion`` chunks and marked as generated in the record, the
chunk, the search hit, the chat answer, the question page and Slack.  Any
failure of the endpoint leaves the row as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from service_support import FakeOpenAI, service_settings
from typer.testing import CliRunner

import ingest.enrich
import ingest.expand
from index.engine import IngestReport
from index.engine import ingest as run_ingest
from index.store import load_artifact
from ingest.enrich import Knowledge
from ingest.expand import MAX_CHARS, MAX_TOKENS, PROMPT_VERSION, RowExpander, clean_expansion
from ingest.models import QuickRef
from qbank.answer.llm import LLMClient
from qbank.cli import app
from qbank.settings import get_settings
from service.app import create_app

DROPOUT = "What is Dropout?"
OVERVIEWS = {
    "Generative Adversarial Networks": (
        "A generator network and a discriminator network are trained against each other: the forger makes fakes "
        "and the detective learns to tell them from real data, until the fakes look real. Candidates describe it "
        "as two networks playing a game."
    ),
    "Markov Chain Monte Carlo": (
        "It draws samples from a posterior that cannot be written down by running a random walk whose long-run "
        "distribution is that posterior. People ask how to sample a distribution known only up to a constant."
    ),
    "Actor-Critic Methods": (
        "A policy network chooses actions while a value network scores them, and each one's error trains the "
        "other. It is asked about as combining policy gradients with a learned baseline."
    ),
    "Survival Analysis": (
        "It models the time until an event such as churn or failure when some subjects have not had the event "
        "yet (censoring). Candidates ask how to predict when, not whether, something happens."
    ),
}
GAN = "Generative Adversarial Networks"
FORGER_QUERY = "a forger makes fakes and a detective learns to tell them from real data until the fakes look real"
LABEL = (
    "written by the model fake-model when the index was built; it is not the bank's text and was not checked "
    "against any source"
)


def bank_text() -> str:
    rows = [f"| 1 | {DROPOUT} | | Google | Easy | Regularization |"]
    rows += [f"| {n} | {title} | | Google | Hard | Deep Learning |" for n, title in enumerate(OVERVIEWS, 2)]
    return (
        f"""# Row Overview Test Bank

## Premium Interview Questions

### {DROPOUT} - Google Interview Question

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


def answer_about_the_topic(messages: list[dict[str, str]]) -> str:
    """What the fake model writes: the overview of the topic it was asked about."""
    topic = re.search(r"^Topic: (.+)$", messages[-1]["content"], re.M)
    assert topic is not None, messages
    return OVERVIEWS.get(topic.group(1), "I do not know this topic well enough to describe it.")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(reply=answer_about_the_topic, hang_s=3.0) as running:
        yield running


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rows-content")
    (folder / "bank.md").write_text(bank_text(), encoding="utf-8")
    return folder


def expander(fake: FakeOpenAI, model: str = "fake-model", timeout_s: float = 5.0) -> RowExpander:
    return RowExpander(LLMClient(fake.base_url, model, timeout_s=timeout_s))


@pytest.fixture(scope="module")
def expanded(
    fake: FakeOpenAI, content: Path, fake_embedder: HashEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> tuple[IngestReport, list[dict[str, object]]]:
    """The test bank ingested once with its rows expanded; the requests the endpoint got."""
    fake.reset("ok")
    index = tmp_path_factory.mktemp("expanded") / "index"
    report = run_ingest(content, index, fake_embedder, knowledge=Knowledge(expander=expander(fake)))
    return report, list(fake.requests)


def rows(report: IngestReport) -> dict[str, QuickRef]:
    return {r.title: r for r in report.artifact.quick_refs}


def test_each_uncovered_row_is_asked_once_without_streaming(
    expanded: tuple[IngestReport, list[dict[str, object]]],
) -> None:
    report, requests = expanded
    asked = []
    for request in requests:
        body = request["json"]
        assert isinstance(body, dict)
        assert (body["model"], body["stream"], body["max_tokens"]) == ("fake-model", False, MAX_TOKENS)
        asked.append(re.findall(r"^Topic: (.+)$", body["messages"][-1]["content"], re.M)[0])
    assert asked == list(OVERVIEWS)  # the Dropout row has a full answer: never asked
    assert rows(report)[DROPOUT].question_id is not None and rows(report)[DROPOUT].expansion is None


def test_the_overview_is_kept_on_the_row_marked_as_generated(
    expanded: tuple[IngestReport, list[dict[str, object]]],
) -> None:
    """As read back from the index on disk."""
    report, _ = expanded
    gan = rows(report)[GAN].expansion
    assert gan is not None
    assert (gan.title, gan.text, gan.generated_by, gan.prompt_version) == (
        GAN,
        OVERVIEWS[GAN],
        "fake-model",
        PROMPT_VERSION,
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", gan.generated_at)
    assert report.artifact.manifest.counts["row_expansions"] == len(OVERVIEWS)
    enrichment = report.stats.enrichment
    assert enrichment is not None
    assert (enrichment.expansions_written, enrichment.expansions_reused, enrichment.expansion_problems) == (4, 0, ())


def test_the_overview_is_a_generated_chunk_of_its_row(expanded: tuple[IngestReport, list[dict[str, object]]]) -> None:
    report, _ = expanded
    row = rows(report)[GAN]
    chunks = [c for c in report.artifact.chunks if c.record_id == row.id]
    assert [(c.id, c.kind, c.doc_id) for c in chunks] == [
        (f"{row.id}#row", "quick_reference", row.id),
        (f"{row.id}#expansion.0", "expansion", row.id),
    ]
    overview = chunks[1]
    assert overview.generated and not chunks[0].generated
    assert overview.heading == "Generated overview (fake-model)"
    assert overview.text == f"{GAN}\nDeep Learning\n{OVERVIEWS[GAN]}"
    assert overview.meta == {"bank": row.bank_slug, "generated": True, "generated_by": "fake-model"}


@pytest.fixture(scope="module")
def client(
    expanded: tuple[IngestReport, list[dict[str, object]]],
    fake_embedder: HashEmbedder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TestClient]:
    report, _ = expanded
    settings = service_settings(report.path, tmp_path_factory.mktemp("rows-app"))
    with TestClient(create_app(settings, background_load=False, embedder=fake_embedder)) as c:
        yield c


def test_a_described_topic_finds_its_row_and_the_hit_says_the_text_is_generated(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": FORGER_QUERY, "k": 3}).json()["hits"]
    assert hits[0]["title"] == GAN
    assert (hits[0]["section"], hits[0]["generated"]) == ("Generated overview (fake-model)", True)
    assert hits[0]["snippet"].startswith("A generator network and a discriminator network")
    assert [h["generated"] for h in client.get("/api/search", params={"q": "dropout"}).json()["hits"][:1]] == [False]


def test_the_chat_answer_shows_the_overview_under_a_generated_label(client: TestClient) -> None:
    body = client.post("/api/chat", json={"messages": [{"role": "user", "content": FORGER_QUERY}]}).json()
    assert (body["kind"], body["generated_by"]) == ("quick_reference", "extractive")
    assert body["sources"][0]["generated"] is True
    overview = f"**Generated overview** ({LABEL}):\n\n> {OVERVIEWS[GAN]}"
    assert overview in body["answer"]
    assert body["answer"].index("The bank has no curated answer") < body["answer"].index("**Generated overview**")


def test_the_question_api_and_page_show_the_overview_as_generated(
    client: TestClient, expanded: tuple[IngestReport, list[dict[str, object]]]
) -> None:
    report, _ = expanded
    row = rows(report)[GAN]
    detail = client.get(f"/api/questions/{row.id}").json()
    assert detail["expansion"] == {
        "generated": True,
        "generated_by": "fake-model",
        "generated_at": row.expansion.generated_at if row.expansion else None,
        "label": LABEL[0].upper() + LABEL[1:],
        "text": OVERVIEWS[GAN],
    }
    dropout = client.get(f"/api/questions/{rows(report)[DROPOUT].id}").json()
    assert dropout["expansion"] is None
    page = client.get(f"/q/{row.id}").text
    assert '<h2 id="overview-title">Generated overview</h2>' in page
    assert f'<p class="note">{LABEL[0].upper() + LABEL[1:]}.</p>' in page.replace("&#39;", "'")
    assert OVERVIEWS[GAN].split(":")[0] in page


def test_slack_shows_the_overview_under_a_generated_label(
    expanded: tuple[IngestReport, list[dict[str, object]]], fake_embedder: HashEmbedder
) -> None:
    from index.engine import make_searcher
    from qbank.answer.composer import AnswerComposer
    from service.slack.blocks import answer_blocks
    from service.slack.short import short_blocks

    report, _ = expanded
    answer = AnswerComposer(make_searcher(report.artifact, fake_embedder)).compose([("user", FORGER_QUERY)])
    assert answer.kind == "quick_reference"
    for blocks in (short_blocks(answer, "http://qbank.test"), answer_blocks(answer, "http://qbank.test")):
        text = "\n".join(b["text"]["text"] for b in blocks if b.get("type") == "section")
        assert f"*Generated overview* _({LABEL})_:\n> A generator network and a discriminator network" in text


def test_a_reingest_reuses_the_overviews_and_asks_nothing(
    expanded: tuple[IngestReport, list[dict[str, object]]], fake: FakeOpenAI, content: Path, fake_embedder: HashEmbedder
) -> None:
    report, _ = expanded
    fake.reset("ok")
    without = run_ingest(content, report.path, fake_embedder)  # no LLM asked: what `qbank ingest` does by default
    asked = run_ingest(content, report.path, fake_embedder, knowledge=Knowledge(expander=expander(fake)))
    assert fake.requests == []  # the same row titles, model and prompt version: nothing to write
    for again in (without, asked):
        assert {t: r.expansion for t, r in rows(again).items()} == {t: r.expansion for t, r in rows(report).items()}
        assert again.stats.embedded == 0
    assert asked.stats.enrichment is not None and asked.stats.enrichment.expansions_reused == 4


def test_another_model_a_new_prompt_or_refresh_writes_them_again(
    fake: FakeOpenAI,
    content: Path,
    fake_embedder: HashEmbedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = tmp_path / "index"
    fake.reset("ok")
    run_ingest(content, index, fake_embedder, knowledge=Knowledge(expander=expander(fake)))
    fake.reset("ok")
    other = run_ingest(content, index, fake_embedder, knowledge=Knowledge(expander=expander(fake, "other-model")))
    assert len(fake.requests) == 4
    assert {r.expansion.generated_by for r in other.artifact.quick_refs if r.expansion} == {"other-model"}
    assert {c.heading for c in other.artifact.chunks if c.generated} == {"Generated overview (other-model)"}

    fake.reset("ok")
    refreshed = Knowledge(expander=expander(fake, "other-model"), refresh=True)
    run_ingest(content, index, fake_embedder, knowledge=refreshed)
    assert len(fake.requests) == 4

    for module in (ingest.enrich, ingest.expand):
        monkeypatch.setattr(module, "PROMPT_VERSION", PROMPT_VERSION + 1)
    fake.reset("ok")
    newer = run_ingest(content, index, fake_embedder, knowledge=Knowledge(expander=expander(fake, "other-model")))
    assert len(fake.requests) == 4
    assert {r.expansion.prompt_version for r in newer.artifact.quick_refs if r.expansion} == {PROMPT_VERSION + 1}


@pytest.mark.parametrize("mode", ["http500", "malformed", "empty", "hang"])
def test_a_failing_endpoint_leaves_every_row_with_its_title_only_text(
    mode: str, fake: FakeOpenAI, content: Path, fake_embedder: HashEmbedder, tmp_path: Path
) -> None:
    plain = run_ingest(content, tmp_path / "plain", fake_embedder)
    fake.reset(mode)
    failed = run_ingest(
        content, tmp_path / "index", fake_embedder, knowledge=Knowledge(expander=expander(fake, timeout_s=0.5))
    )
    assert failed.artifact.manifest.content_hash == plain.artifact.manifest.content_hash
    assert all(r.expansion is None for r in failed.artifact.quick_refs)
    enrichment = failed.stats.enrichment
    assert enrichment is not None and enrichment.expansions == 0
    problems = [why for _, why in enrichment.expansion_problems]
    assert len(problems) == len(OVERVIEWS)
    # Three failures in a row and the endpoint is taken to be down: the fourth row is not asked.
    assert len(fake.requests) == 3
    assert problems[3] == "not asked: the endpoint failed 3 times in a row"
    expected = {
        "http500": "LLM endpoint answered HTTP 500",
        "malformed": "malformed completion from LLM endpoint",
        "empty": "LLM endpoint returned no content",
        "hang": "LLM endpoint failed: ReadTimeout",
    }[mode]
    assert all(p.startswith(expected) for p in problems[:3]), problems


def test_a_failure_keeps_the_overview_the_index_already_has(
    fake: FakeOpenAI, content: Path, fake_embedder: HashEmbedder, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    fake.reset("ok")
    first = run_ingest(content, index, fake_embedder, knowledge=Knowledge(expander=expander(fake)))
    fake.reset("http500")
    again = run_ingest(content, index, fake_embedder, knowledge=Knowledge(expander=expander(fake), refresh=True))
    assert len(fake.requests) == 3
    assert {t: r.expansion for t, r in rows(again).items()} == {t: r.expansion for t, r in rows(first).items()}


def test_a_reply_without_usable_text_is_not_kept(fake: FakeOpenAI) -> None:
    fake.reset("ok")
    row = QuickRef.from_dict(
        {
            "id": "b--qr-9",
            "bank": "B",
            "bank_slug": "b",
            "number": 9,
            "title": "Some Topic",
            "practice_url": None,
            "practice_label": None,
            "companies": [],
            "difficulty": None,
            "topics": [],
            "source": {"path": "b.md", "line": 1},
        }
    )
    with FakeOpenAI(reply=lambda messages: "```python\nprint(1)\n```") as code_only:
        outcome = expander(code_only).expand(row)
    assert outcome.expansion is None and outcome.problem is not None
    assert outcome.problem.startswith("the reply has no usable text")


def test_clean_expansion_keeps_prose_only_and_bounds_it() -> None:
    reply = (
        "## Overview\n\nIt is **useful**:\n\n- first point\n- second point\n\n"
        "```python\nimport torch\n```\n\n1. Asked as how to do it."
    )
    expected = "Overview\n\nIt is **useful**:\n\nfirst point second point\n\nAsked as how to do it."
    assert clean_expansion(reply) == expected
    long = " ".join(["word"] * 1000) + "."
    assert len(clean_expansion(long)) <= MAX_CHARS
    assert clean_expansion("   ") == ""


def test_the_prompt_names_the_row_and_its_topics() -> None:
    row = QuickRef.from_dict(
        {
            "id": "b--qr-2",
            "bank": "B",
            "bank_slug": "b",
            "number": 2,
            "title": "Markov Chain Monte Carlo",
            "practice_url": None,
            "practice_label": None,
            "companies": [],
            "difficulty": None,
            "topics": ["Bayesian Methods", "Sampling"],
            "source": {"path": "b.md", "line": 1},
        }
    )
    system, user = ingest.expand.expansion_messages(row)
    assert system["role"] == "system" and "no code" in system["content"]
    assert user["content"].startswith("Topic: Markov Chain Monte Carlo\nArea: Bayesian Methods, Sampling\n\n")
    assert "how a candidate might describe it or ask about it without knowing its name" in user["content"]


# -- qbank ingest --expand-rows ----------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., Result]]:
    """The Typer app in-process with hermetic settings (no QBANK_* but what a test sets, no .env)."""
    for key in [k for k in os.environ if k.startswith("QBANK_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, [str(a) for a in args])
    get_settings.cache_clear()


def test_expand_rows_needs_an_llm(cli: Callable[..., Result], content: Path, tmp_path: Path) -> None:
    result = cli("ingest", "--content", content, "--index", tmp_path / "index", "--expand-rows")
    assert result.exit_code == 1
    assert "error: --expand-rows needs an LLM: set QBANK_LLM_BASE_URL and QBANK_LLM_MODEL" in result.output
    assert not (tmp_path / "index").exists()


def test_qbank_ingest_expands_rows_only_when_asked_and_says_what_it_did(
    cli: Callable[..., Result], fake: FakeOpenAI, content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QBANK_LLM_BASE_URL", fake.base_url)
    monkeypatch.setenv("QBANK_LLM_MODEL", "fake-model")
    get_settings.cache_clear()
    index = tmp_path / "index"
    fake.reset("ok")
    plain = cli("ingest", "--content", content, "--index", index)
    assert plain.exit_code == 0, plain.output
    assert fake.requests == [] and "row overviews" not in plain.output  # an LLM configured is not an LLM asked

    written = cli("ingest", "--content", content, "--index", index, "--expand-rows")
    assert written.exit_code == 0, written.output
    assert len(fake.requests) == 4
    assert (
        "row overviews (generated): 4 of the 4 rows no full answer covers (4 written now, 0 from the previous "
        "index; 4 chunks)"
    ) in written.output
    assert "practice links" not in written.output
    assert sum(c.generated for c in load_artifact(index).chunks) == 4

    fake.reset("http500")
    failed = cli("ingest", "--content", content, "--index", index, "--expand-rows", "--refresh")
    assert failed.exit_code == 0, failed.output
    assert "(0 written now, 4 from the previous index; 4 chunks)" in failed.output
    assert "  4 rows not written (3 LLM endpoint answered HTTP 500, 1 not asked); each is logged above" in failed.output
