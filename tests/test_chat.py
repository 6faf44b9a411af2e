"""Chat through ``with TestClient(app)``: the extractive answer, follow-ups,
abstention, filters, and the Server-Sent Events framing of both streaming
entry points."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from service_support import (
    CHAT_KEYS,
    ENSEMBLE_ID,
    ENSEMBLE_TITLE,
    HIT_KEYS,
    OFF_TOPIC,
    deltas_text,
    parse_sse,
    service_settings,
)

from index.embed import Embedder
from index.engine import IngestReport
from qbank.answer import BankCatalog
from service.app import create_app


@pytest.fixture(scope="module")
def client(embedder: Embedder, built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("chat")
    with TestClient(create_app(service_settings(built.path, tmp), background_load=False, embedder=embedder)) as c:
        yield c


def user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def chat(client: TestClient, *messages: dict[str, str], **extra: object) -> dict:
    r = client.post("/api/chat", json={"messages": list(messages), **extra})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    return r.json()


def test_chat_answers_from_the_curated_question(client: TestClient) -> None:
    body = chat(client, user("explain bagging"))
    assert set(body) >= CHAT_KEYS
    assert body["abstained"] is False
    assert body["generated_by"] == "extractive"
    assert body["rewritten_query"] == "explain bagging"
    assert re.fullmatch(r"[0-9a-f]{32}", body["message_id"])
    sources = body["sources"]
    assert 1 <= len(sources) <= 4
    assert all(set(s) == HIT_KEYS for s in sources)
    assert sources[0]["id"] == ENSEMBLE_ID
    assert body["suggestions"] == [s["title"] for s in sources[1:4]]
    answer = body["answer"]
    assert answer.startswith(f"### {ENSEMBLE_TITLE}\n")
    sections = client.get(f"/api/questions/{ENSEMBLE_ID}").json()["sections"]
    assert any(f"**{s['heading']}:**\n\n{s['markdown']}\n" in answer for s in sections)  # verbatim from the bank
    assert f"[Full answer](/q/{ENSEMBLE_ID})" in answer
    assert "_From the " not in answer  # one bank loaded: nothing to say about banks
    assert "**Interviewer's Insight:**" in answer


def test_message_ids_are_unique(client: TestClient) -> None:
    ids = {chat(client, user("explain bagging"))["message_id"] for _ in range(3)}
    assert len(ids) == 3


def test_two_turn_follow_up_is_rewritten_with_the_earlier_turn(client: TestClient) -> None:
    """The issue's second "done when" case."""
    first = chat(client, user("explain bagging"))
    follow = chat(
        client,
        user("explain bagging"),
        {"role": "assistant", "content": first["answer"]},
        user("and how is boosting different?"),
    )
    assert follow["abstained"] is False
    rewritten = follow["rewritten_query"].lower()
    assert "bagging" in rewritten and "boosting" in rewritten
    assert follow["sources"][0]["id"] == ENSEMBLE_ID
    assert follow["answer"].startswith(f"### {ENSEMBLE_TITLE}\n")
    alone = chat(client, user("and how is boosting different?"))
    assert alone["rewritten_query"] == "and how is boosting different?"  # no history, nothing to rewrite with


def test_asking_for_code_puts_the_code_first(client: TestClient) -> None:
    body = chat(client, user("show me python code for lasso and ridge"))
    assert body["abstained"] is False
    lines = body["answer"].split("\n")
    assert lines[0].startswith("### ")
    assert lines[3:6] == ["**Code:**", "", "```python"]


@pytest.fixture(scope="module")
def catalog(client: TestClient) -> BankCatalog:
    catalog: BankCatalog = client.app.state.qbank.engine.composer.catalog  # type: ignore[attr-defined]
    return catalog


def test_the_catalog_speaks_of_the_banks_present(catalog: BankCatalog) -> None:
    assert catalog.banks == ("Machine Learning Interview Questions",)
    assert "the “Machine Learning Interview Questions” bank" in catalog.abstain_text
    assert len(catalog.examples) == 5 and catalog.examples[-1].startswith("What does ")


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_abstain_with_example_questions(
    client: TestClient, catalog: BankCatalog, question: str
) -> None:
    body = chat(client, user(question))
    assert body["abstained"] is True
    assert body["sources"] == []
    assert body["suggestions"] == list(catalog.examples[:3])
    assert body["answer"].startswith(catalog.abstain_text)
    for example in catalog.examples:
        assert f"- {example}\n" in body["answer"]


def test_the_example_questions_offered_on_abstention_are_answered(client: TestClient, catalog: BankCatalog) -> None:
    for example in catalog.examples:
        body = chat(client, user(example))
        assert body["abstained"] is False, body["rewritten_query"]
        assert body["sources"] or (body["kind"] == "company_list" and "](/q/" in body["answer"])


def test_chat_filters_restrict_the_sources(client: TestClient) -> None:
    body = chat(client, user("explain bagging"), filters={"company": "Netflix"})
    assert body["abstained"] is False
    assert body["sources"][0]["id"] == ENSEMBLE_ID
    assert all("Netflix" in s["companies"] for s in body["sources"])


def test_chat_with_an_unknown_filter_value_abstains(client: TestClient) -> None:
    body = chat(client, user("explain bagging"), filters={"company": "Initech"})
    assert (body["abstained"], body["sources"]) == (True, [])


# -- Server-Sent Events ---------------------------------------------------------


def stream(client: TestClient, path: str, messages: list[dict[str, str]]) -> list:
    payload: dict[str, object] = {"messages": messages}
    if path == "/api/chat":
        payload["stream"] = True
    r = client.post(path, json=payload)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    return parse_sse(r.text)


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
def test_sse_sends_sources_then_answer_pieces_then_done(client: TestClient, path: str) -> None:
    messages = [user("explain bagging")]
    events = stream(client, path, messages)
    names = [e.event for e in events]
    assert names[0] == "sources" and names[-1] == "done"
    assert set(names[1:-1]) == {"delta"} and len(names) > 10  # the answer comes in many pieces
    first, done = events[0].data, events[-1].data
    assert set(first) == {"sources", "rewritten_query"}
    assert first["rewritten_query"] == "explain bagging"
    assert set(done) >= CHAT_KEYS
    assert [s["id"] for s in first["sources"]] == [s["id"] for s in done["sources"]]
    assert first["sources"][0]["id"] == ENSEMBLE_ID
    assert deltas_text(events) == done["answer"]
    plain = chat(client, *messages)
    assert {k: done[k] for k in CHAT_KEYS - {"message_id"}} == {k: plain[k] for k in CHAT_KEYS - {"message_id"}}


def test_sse_follow_up_and_abstention(client: TestClient, catalog: BankCatalog) -> None:
    events = stream(client, "/api/chat/stream", [user("explain bagging"), user("and how is boosting different?")])
    assert events[0].data["sources"][0]["id"] == ENSEMBLE_ID
    assert "bagging" in events[-1].data["rewritten_query"]
    off = stream(client, "/api/chat/stream", [user(OFF_TOPIC[0])])
    assert off[0].data["sources"] == []
    assert off[-1].event == "done" and off[-1].data["abstained"] is True
    assert deltas_text(off) == off[-1].data["answer"]
    assert off[-1].data["answer"].startswith(catalog.abstain_text)
