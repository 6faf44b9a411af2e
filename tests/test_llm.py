"""Optional answer generation, against a local fake of an OpenAI-compatible
endpoint that streams chat completions the way the real API does.

The model gets a capped prompt of the retrieved sections; what it writes is
a checked synthesis shown above the curated answer (never instead of it),
reaching the client as JSON and SSE; any failure of the endpoint (HTTP error,
refused connection, malformed stream, empty stream, timeout) falls back to
the extractive answer with a note, still with status 200."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from server_support import free_port
from service_support import (
    ENSEMBLE_ID,
    ENSEMBLE_TITLE,
    FAKE_PIECES,
    FALLBACK_NOTE,
    OFF_TOPIC,
    FakeOpenAI,
    deltas_text,
    parse_sse,
    service_settings,
)

from index.embed import Embedder
from index.engine import IngestReport
from qbank.answer.generate import FIRST_SOURCE_CHARS, OTHER_SOURCE_CHARS, SEPARATOR, SYNTHESIS_HEADING
from qbank.answer.llm import MAX_TOKENS, SYSTEM_PROMPT, LLMClient, LLMError
from service.app import create_app

BAGGING = [{"role": "user", "content": "explain bagging"}]


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake(fake_openai: FakeOpenAI) -> FakeOpenAI:
    fake_openai.reset("ok")
    return fake_openai


@pytest.fixture(scope="module")
def llm_client(
    embedder: Embedder, built: IngestReport, tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeOpenAI
) -> Iterator[TestClient]:
    settings = service_settings(
        built.path,
        tmp_path_factory.mktemp("llm"),
        llm_base_url=fake_openai.base_url,
        llm_model="fake-model",
        llm_api_key="sk-test",
        llm_timeout_s=0.5,
    )
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as c:
        yield c


@pytest.fixture(scope="module")
def refused_client(
    embedder: Embedder, built: IngestReport, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """An app whose LLM endpoint is a port nothing listens on."""
    settings = service_settings(
        built.path,
        tmp_path_factory.mktemp("llm-refused"),
        llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
        llm_model="fake-model",
        llm_timeout_s=0.5,
    )
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as c:
        yield c


@pytest.fixture(scope="module")
def extractive(embedder: Embedder, built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The answer to BAGGING from an app without an LLM."""
    settings = service_settings(built.path, tmp_path_factory.mktemp("no-llm"))
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as c:
        body = c.post("/api/chat", json={"messages": BAGGING}).json()
        body["sections"] = c.get(f"/api/questions/{ENSEMBLE_ID}").json()["sections"]
    assert body["generated_by"] == "extractive"
    return body


def fallback_answer(extractive: dict) -> str:
    return f"{FALLBACK_NOTE}\n\n{extractive['answer']}"


# -- the generated answer ---------------------------------------------------------


def test_llm_writes_a_synthesis_above_the_curated_answer(
    llm_client: TestClient, fake: FakeOpenAI, extractive: dict
) -> None:
    r = llm_client.post("/api/chat", json={"messages": BAGGING})
    assert r.status_code == 200
    body = r.json()
    assert body["generated_by"] == "llm"
    # Additive: the checked synthesis (every sentence supported by [1]), then the bank's answer verbatim.
    assert body["answer"] == f"{SYNTHESIS_HEADING}\n\n{''.join(FAKE_PIECES)}{SEPARATOR}{extractive['answer']}"
    assert body["abstained"] is False
    assert body["sources"] == extractive["sources"]

    (request,) = fake.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    sent = request["json"]
    assert (sent["model"], sent["stream"], sent["max_tokens"]) == ("fake-model", True, MAX_TOKENS)
    system, prompt = sent["messages"]
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert "ONLY from the numbered sources" in SYSTEM_PROMPT and "Do not write code" in SYSTEM_PROMPT
    assert prompt["role"] == "user"
    content = prompt["content"]
    assert content.startswith(f"Sources:\n\n[1] {ENSEMBLE_TITLE}\n")
    assert content.endswith("\n\nQuestion: explain bagging")
    # [1] carries the start of the sections the extractive answer quotes, the others their snippets, capped.
    quoted = [s for s in extractive["sections"] if f"**{s['heading']}:**\n\n{s['markdown']}\n" in extractive["answer"]]
    assert quoted and quoted[0]["markdown"][:FIRST_SOURCE_CHARS] in content
    sources = body["sources"]
    for i, s in enumerate(sources[1:], 2):
        assert f"\n\n[{i}] {s['title']}\n{s['snippet'][:OTHER_SOURCE_CHARS]}" in content
    assert f"[{len(sources) + 1}] " not in content
    assert len(content) <= FIRST_SOURCE_CHARS + 3 * (OTHER_SOURCE_CHARS + 120) + 200  # the prompt stays small


def test_llm_answer_streams_as_sse(llm_client: TestClient, fake: FakeOpenAI, extractive: dict) -> None:
    r = llm_client.post("/api/chat/stream", json={"messages": BAGGING})
    assert r.status_code == 200
    events = parse_sse(r.text)
    names = [e.event for e in events]
    assert names[0] == "sources" and names[-1] == "done" and set(names[1:-1]) == {"delta"}
    generated = [e.data["text"] for e in events[2 : 2 + len(FAKE_PIECES)]]
    assert events[1].data["text"] == f"{SYNTHESIS_HEADING}\n\n" and generated == list(FAKE_PIECES)
    done = events[-1].data
    assert done["generated_by"] == "llm"
    assert deltas_text(events) == done["answer"]  # nothing was marked, so the deltas add up to the answer
    assert done["answer"].endswith(SEPARATOR + extractive["answer"])
    assert events[0].data["sources"][0]["id"] == ENSEMBLE_ID
    assert len(fake.requests) == 1


def test_unsupported_sentences_and_generated_code_are_marked(llm_client: TestClient, fake: FakeOpenAI) -> None:
    fake.pieces = (
        "Bagging trains models in parallel on bootstrap samples [1]. ",
        "It was invented on the moon by astronauts [1].\n\n",
        "```python\nfrom sklearn.model_selection import SMOTE\n```\n\n",
        "See also [7].",
    )
    try:
        answer = llm_client.post("/api/chat", json={"messages": BAGGING}).json()["answer"]
    finally:
        fake.pieces = FAKE_PIECES
    synthesis = answer.split(SEPARATOR)[0]
    assert "bootstrap samples [1]." in synthesis and "bootstrap samples [1]. _(not" not in synthesis
    assert "astronauts [1]. _(not supported by the cited sources)_" in synthesis
    assert "import SMOTE" not in synthesis and "_(Generated code removed: the bank's own code is below.)_" in synthesis
    assert "See also [7]. _(cites a source that was not given)_" in synthesis


def test_a_quick_reference_topic_without_passages_is_labelled_as_generated(
    llm_client: TestClient, fake: FakeOpenAI
) -> None:
    body = llm_client.post("/api/chat", json={"messages": [{"role": "user", "content": "explain GANs"}]}).json()
    assert body["kind"] == "quick_reference" and body["generated_by"] == "llm"
    heading, rest = body["answer"].split("\n\n", 1)
    assert heading.startswith("**Generated explanation** (the bank has no curated answer for this")
    assert "The bank has no curated answer for this topic" in rest.split(SEPARATOR)[1]


def test_follow_up_sends_the_rewritten_question(llm_client: TestClient, fake: FakeOpenAI) -> None:
    messages = [
        *BAGGING,
        {"role": "assistant", "content": "..."},
        {"role": "user", "content": "and how is boosting different?"},
    ]
    body = llm_client.post("/api/chat", json={"messages": messages}).json()
    assert body["generated_by"] == "llm"
    content = fake.requests[0]["json"]["messages"][1]["content"]
    assert content.endswith(f"\n\nQuestion: {body['rewritten_query']}")
    assert "bagging" in body["rewritten_query"] and "boosting" in body["rewritten_query"]


def test_abstention_does_not_call_the_llm(llm_client: TestClient, fake: FakeOpenAI) -> None:
    body = llm_client.post("/api/chat", json={"messages": [{"role": "user", "content": OFF_TOPIC[0]}]}).json()
    assert (body["abstained"], body["generated_by"], body["sources"]) == (True, "extractive", [])
    assert fake.requests == []


# -- failures fall back to the extractive answer ------------------------------------

FAILURES = [
    ("http500", "LLM endpoint answered HTTP 500"),
    ("malformed", "malformed stream chunk from LLM endpoint: "),
    ("empty", "LLM endpoint streamed no content"),
    ("hang", "LLM endpoint failed: ReadTimeout"),
]


@pytest.mark.parametrize(("mode", "reason"), FAILURES)
def test_endpoint_failure_falls_back_to_the_extractive_answer(
    llm_client: TestClient, fake: FakeOpenAI, extractive: dict, mode: str, reason: str
) -> None:
    fake.reset(mode)
    start = time.monotonic()
    r = llm_client.post("/api/chat", json={"messages": BAGGING})
    elapsed = time.monotonic() - start
    assert r.status_code == 200
    body = r.json()
    assert body["generated_by"] == "extractive"
    assert body["answer"] == fallback_answer(extractive)
    assert body["sources"] == extractive["sources"]
    assert len(fake.requests) == 1
    assert elapsed < fake.hang_s  # a hung endpoint is cut off by llm_timeout_s, not waited out


@pytest.mark.parametrize(("mode", "reason"), FAILURES)
def test_endpoint_failure_mid_stream_resets_and_streams_the_extractive_answer(
    llm_client: TestClient, fake: FakeOpenAI, extractive: dict, mode: str, reason: str
) -> None:
    fake.reset(mode)
    r = llm_client.post("/api/chat", json={"messages": BAGGING, "stream": True})
    assert r.status_code == 200
    events = parse_sse(r.text)
    names = [e.event for e in events]
    reset = names.index("reset")
    # the synthesis heading, and for malformed the good first chunk, were streamed before the failure
    assert names[:reset] == ["sources", "delta"] + (["delta"] if mode == "malformed" else [])
    assert set(names[reset + 1 : -1]) == {"delta"} and names[-1] == "done"
    assert events[reset].data["reason"].startswith(reason)
    done = events[-1].data
    assert done["generated_by"] == "extractive"
    assert deltas_text(events) == done["answer"]
    assert done["answer"].lstrip("\n") == fallback_answer(extractive)


def test_refused_connection_falls_back(refused_client: TestClient, extractive: dict) -> None:
    body = refused_client.post("/api/chat", json={"messages": BAGGING}).json()
    assert (body["generated_by"], body["answer"]) == ("extractive", fallback_answer(extractive))
    events = parse_sse(refused_client.post("/api/chat/stream", json={"messages": BAGGING}).text)
    reset = next(e for e in events if e.event == "reset")
    assert reset.data["reason"].startswith("LLM endpoint failed: ConnectError")
    assert events[-1].data["answer"].lstrip("\n") == fallback_answer(extractive)


# -- the client on its own ----------------------------------------------------------


def collect(client: LLMClient, question: str = "q", sources: list[tuple[str, str]] | None = None) -> list[str]:
    async def run() -> list[str]:
        return [p async for p in client.stream(question, sources or [("Title", "text")])]

    return asyncio.run(run())


def test_client_streams_content_deltas(fake: FakeOpenAI) -> None:
    assert collect(LLMClient(fake.base_url, "fake-model")) == list(FAKE_PIECES)
    assert "Authorization" not in fake.requests[0]["headers"]  # no key, no header


def test_client_raises_llm_error_for_a_wrong_path(fake: FakeOpenAI) -> None:
    with pytest.raises(LLMError, match="^LLM endpoint answered HTTP 404$"):
        collect(LLMClient(fake.base_url + "/nope", "fake-model"))


def test_client_numbers_the_sources() -> None:
    messages = LLMClient.build_messages("why?", [("A", "alpha"), ("B", "beta")])
    assert messages[1] == {"role": "user", "content": "Sources:\n\n[1] A\nalpha\n\n[2] B\nbeta\n\nQuestion: why?"}


def test_client_refuses_a_non_positive_timeout() -> None:
    with pytest.raises(ValueError, match="timeout_s must be positive"):
        LLMClient("http://127.0.0.1:1/v1", "m", timeout_s=0)
