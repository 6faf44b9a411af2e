"""Chat through ``with TestClient(app)``: the extractive answer, follow-ups,
abstention, filters, and the Server-Sent Events framing of both streaming
entry points, with the answer as markdown pieces or as rendered blocks."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from service_support import (
    CHAT_KEYS,
    ENSEMBLE_ID,
    ENSEMBLE_TITLE,
    FAKE_MARKDOWN,
    FALLBACK_NOTE,
    HIT_KEYS,
    MARKDOWN_MARKS,
    OFF_TOPIC,
    FakeOpenAI,
    SSEvent,
    deltas_text,
    in_pieces,
    parse_sse,
    service_settings,
)

from index.embed import Embedder
from index.engine import IngestReport
from qbank.answer import BankCatalog
from qbank.answer.generate import SEPARATOR, SYNTHESIS_HEADING
from qbank.answer.markdown import heading_label
from service.app import create_app
from service.render import render_markdown
from service.routes.chat import FRAME_CHARS

IMBALANCED_DATA_ID = "machine-learning--what-is-imbalanced-data-how-do-you-handle-it-in-classification"


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


@pytest.mark.parametrize("name", ["company", "tag", "bank", "difficulty"])
def test_a_filter_with_a_line_break_is_a_422(client: TestClient, name: str) -> None:
    """A line break let a filter put a heading into the answer's markdown (attack run)."""
    body = {"messages": [user("explain dropout")], "filters": {name: "Hard\n## Expired"}}
    r = client.post("/api/chat", json=body)
    assert r.status_code == 422 and "a filter is a name on one line" in r.text
    assert client.post("/api/search", json={"q": "dropout", name: "x\ry"}).status_code == 422


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


def test_a_heading_that_ends_in_punctuation_gets_no_colon(client: TestClient) -> None:
    body = chat(client, user("what is imbalanced data?"))
    answer = body["answer"]
    assert body["sources"][0]["id"] == IMBALANCED_DATA_ID
    assert "\n**What is Imbalanced Data?**\n" in answer  # the bank's own heading, as it asks
    assert not re.search(r"[?!.:]:\*\*", answer)  # never "?:" or "::"
    assert "\n**Evaluation for Imbalanced:**\n" in answer  # a heading without punctuation still gets its colon


@pytest.mark.parametrize(
    ("heading", "label"),
    [("Bias", "Bias:"), ("What is Imbalanced Data?", "What is Imbalanced Data?"), ("Note:", "Note:"),
     ("Stop!", "Stop!"), ("The end.", "The end."), ("Trade-off (bias vs variance)", "Trade-off (bias vs variance):")],
)  # fmt: skip
def test_heading_label(heading: str, label: str) -> None:
    assert heading_label(heading) == label


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


def stream(client: TestClient, path: str, messages: list[dict[str, str]], **extra: object) -> list[SSEvent]:
    payload: dict[str, object] = {"messages": messages, **extra}
    if path == "/api/chat":
        payload["stream"] = True
    r = client.post(path, json=payload)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    return parse_sse(r.text)


def test_a_streamed_answer_comes_in_frames_of_several_words_each_ending_at_a_word(client: TestClient) -> None:
    """Not a frame per word (hundreds of event-loop turns for one answer on a busy server):
    about FRAME_CHARS each, cut only between words or after a line."""
    events = stream(client, "/api/chat", [user("explain bagging")])
    text = deltas_text(events)
    frames = [e.data["text"] for e in events if e.event == "delta"]
    words = text.split()
    assert len(frames) * 2 <= len(words), (len(frames), len(words))  # 46 frames for 156 words (a word each before)
    longest = max(len(w) for w in words)
    assert all(len(f) < FRAME_CHARS + longest + 1 for f in frames)
    for frame in frames[:-1]:  # each ends after a space or a line, before the next word
        assert frame.endswith((" ", "\n")), repr(frame)


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


# -- render "html": the answer as rendered blocks (what the web page asks for) --


def page_states(events: list[SSEvent]) -> list[str]:
    """The answer's HTML as the page shows it after each event: ``block`` sets
    the block at its index and drops what follows, ``tail`` drops what follows
    its index and shows its preview there, ``reset`` drops everything."""
    blocks: list[str] = []
    tail = ""
    states = []
    for e in events:
        if e.event == "reset":
            blocks, tail = [], ""
        elif e.event == "block":
            blocks, tail = [*blocks[: e.data["index"]], e.data["html"]], ""
        elif e.event == "tail":
            blocks, tail = blocks[: e.data["index"]], e.data["html"]
        else:
            continue
        states.append("".join(blocks) + tail)
    return states


def visible_text(html: str) -> str:
    """What a reader sees of rendered HTML, code and formulas left out."""
    html = re.sub(r"<(pre|code|math)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", "", html).replace("&quot;", '"').replace("&amp;", "&")


# a question with code, formulas and links; a company list; a quick-reference topic; an abstention
HTML_QUESTIONS = ["explain precision recall and f1", "what does Uber ask?", "explain word embeddings", OFF_TOPIC[0]]


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
@pytest.mark.parametrize("question", HTML_QUESTIONS)
def test_sse_html_sends_the_answer_as_rendered_blocks(client: TestClient, path: str, question: str) -> None:
    events = stream(client, path, [user(question)], render="html")
    names = [e.event for e in events]
    assert names[0] == "sources" and names[-1] == "done"
    assert set(names[1:-1]) == {"block"} and len(names) >= 4  # no markdown is sent
    assert [e.data["index"] for e in events[1:-1]] == list(range(len(events) - 2))
    done = events[-1].data
    assert page_states(events)[-1] == done["answer_html"]  # the blocks add up to the final page, exactly
    for state in page_states(events):
        assert not [m for m in MARKDOWN_MARKS if m in visible_text(state)], state
    markdown = stream(client, path, [user(question)])[-1].data
    assert {k: done[k] for k in CHAT_KEYS - {"message_id"}} == {k: markdown[k] for k in CHAT_KEYS - {"message_id"}}
    assert done["answer_html"] == markdown["answer_html"]


def test_an_unknown_render_is_refused(client: TestClient) -> None:
    r = client.post("/api/chat/stream", json={"messages": [user("explain bagging")], "render": "pdf"})
    assert r.status_code == 422
    assert "'markdown' or 'html'" in r.json()["detail"][0]["msg"]


@pytest.fixture(scope="module")
def markdown_llm() -> Iterator[FakeOpenAI]:
    """A model that writes ``FAKE_MARKDOWN`` three characters at a time, 10 ms apart."""
    with FakeOpenAI(pieces=in_pieces(FAKE_MARKDOWN), delay_s=0.01) as fake:
        yield fake


@pytest.fixture(scope="module")
def llm_client(
    embedder: Embedder, built: IngestReport, tmp_path_factory: pytest.TempPathFactory, markdown_llm: FakeOpenAI
) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("chat-llm")
    settings = service_settings(built.path, tmp, llm_base_url=markdown_llm.base_url, llm_model="fake-model")
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as c:
        yield c


def test_sse_html_renders_generated_text_as_it_is_written(llm_client: TestClient, markdown_llm: FakeOpenAI) -> None:
    markdown_llm.reset("ok")
    events = stream(llm_client, "/api/chat/stream", [user("explain bagging")], render="html")
    names = [e.event for e in events]
    assert names[0] == "sources" and names[-1] == "done" and set(names[1:-1]) == {"block", "tail"}
    done = events[-1].data
    # The synthesis (checked: marks where it is not supported) above the curated answer.
    assert done["generated_by"] == "llm" and done["answer"].startswith(f"{SYNTHESIS_HEADING}\n\n### Bagging")
    assert SEPARATOR in done["answer"]
    states = page_states(events)
    assert done["answer_html"] == render_markdown(done["answer"])
    assert "Interviewer" in states[-1] and states[-1].startswith("<p><strong>Summary</strong>")
    assert names.count("tail") >= 5  # the unfinished block was shown as it grew
    assert len(set(states)) >= 10
    for state in states:
        assert not [m for m in MARKDOWN_MARKS if m in visible_text(state)], state
    assert any("Bagging</strong> trains" in s and "in sequence" not in s for s in states)  # a block, part-written


def test_sse_html_after_a_generation_failure_shows_the_curated_blocks(
    llm_client: TestClient, markdown_llm: FakeOpenAI
) -> None:
    markdown_llm.reset("malformed")  # one good piece, then a broken chunk
    events = stream(llm_client, "/api/chat/stream", [user("explain bagging")], render="html")
    names = [e.event for e in events]
    reset = names.index("reset")
    assert set(names[reset + 1 : -1]) == {"block"}
    done = events[-1].data
    assert done["generated_by"] == "extractive" and done["answer"].startswith(FALLBACK_NOTE)
    assert page_states(events)[-1] == done["answer_html"] == render_markdown(done["answer"])


@pytest.mark.parametrize(
    ("said", "size"),
    [
        ("what does Spotify ask?", "1 question in the bank. Ask about it.\n"),
        ("what does Slack ask?", "4 questions in the bank, easiest first. Ask about any of them.\n"),
    ],
)
def test_a_list_with_nothing_to_narrow_offers_no_narrowing(client: TestClient, said: str, size: str) -> None:
    """Spotify's one Medium question came with "narrow the list" and a "Which of those are hard?"
    suggestion (tester finding)."""
    reply = chat(client, user(said))
    assert size in reply["answer"] and "which of those are hard" not in reply["answer"].lower()
    assert "Which of those are hard?" not in reply["suggestions"]


def test_courtesy_after_a_refusal_is_no_second_introduction(client: TestClient) -> None:
    """ "ok cool" after a refusal got the first visit's "Hi! I answer ..." again (tester finding)."""
    refused = chat(client, user("what is the capital of france"))
    assert refused["abstained"]
    earlier = [user("what is the capital of france"), {"role": "assistant", "content": refused["answer"]}]
    reply = chat(client, *earlier, user("ok cool"))
    assert reply["kind"] == "reply" and reply["answer"].startswith("OK. Ask another question")
    assert reply["suggestions"]  # the questions to try


def test_a_list_already_narrowed_to_a_difficulty_does_not_offer_that_narrowing(client: TestClient) -> None:
    first = chat(client, user("what does Uber ask?"))
    assert 'easiest first. Ask about any of them, or narrow the list ("which of those are hard?")' in first["answer"]
    earlier = [user("what does Uber ask?"), {"role": "assistant", "content": first["answer"]}]
    hard = chat(client, *earlier, user("which of those are hard?"))["answer"]
    assert hard.startswith("### Hard questions asked at Uber\n\n3 questions in the bank. Ask about any of them.\n")
    assert "which of those are hard" not in hard and "easiest first" not in hard


def test_the_page_shows_the_follow_up_reading_of_a_refused_new_subject_as_its_first_button(client: TestClient) -> None:
    """The API offered it, the page did not: the page shows an abstention's examples (tester finding)."""
    first = chat(client, user("explain gradient descent"))
    earlier = [user("explain gradient descent"), {"role": "assistant", "content": first["answer"]}]
    events = stream(client, "/api/chat", [*earlier, user("what's a good recipe for banana bread")], render="html")
    done = next(e.data for e in events if e.event == "done")
    chip = "About “How Does Gradient Descent Work?”: what's a good recipe for banana bread"
    assert done["abstained"] and done["suggestions"][0] == chip
    buttons = re.findall(r'<button type="submit" form="composer" name="ask" value="([^"]*)"', done["answer_html"])
    assert buttons and html.unescape(buttons[0]) == chip


def test_the_page_offers_a_company_lists_narrowing_and_first_questions_as_buttons(client: TestClient) -> None:
    """The API offered "Which of those are hard?", the page showed no way to ask it (tester finding)."""
    events = stream(client, "/api/chat", [user("what does Uber ask?")], render="html")
    done = next(e.data for e in events if e.event == "done")
    assert done["kind"] == "company_list" and done["suggestions"][0] == "Which of those are hard?"
    buttons = re.findall(r'<button type="submit" form="composer" name="ask" value="([^"]*)"', done["answer_html"])
    assert [html.unescape(b) for b in buttons] == done["suggestions"]
    assert done["answer_html"].index("Ask in the chat:") > done["answer_html"].index("/q/")  # under the list


def test_the_page_does_not_name_the_sources_twice(client: TestClient) -> None:
    """The "Related:" line named questions the page lists under "Sources" (tester finding);
    the API's markdown keeps the line, which is all it has."""
    events = stream(client, "/api/chat", [user("explain overfitting")], render="html")
    done = next(e.data for e in events if e.event == "done")
    related = re.search(r"\*\*Related:\*\* (.+)", done["answer"])
    assert related is not None and len(done["sources"]) > 1
    assert all(f"/q/{s['id']}" in related.group(1) for s in done["sources"][1:3])
    assert "Related:" not in done["answer_html"] and "<h3>" in done["answer_html"]


def test_help_after_a_refusal_is_the_introduction(client: TestClient) -> None:
    """It got "OK. Ask another question, for example one of these." (tester finding)."""
    refused = chat(client, user("what is the capital of france"))
    earlier = [user("what is the capital of france"), {"role": "assistant", "content": refused["answer"]}]
    reply = chat(client, *earlier, user("help"))
    assert reply["kind"] == "reply" and reply["answer"].startswith("I answer interview questions from")
