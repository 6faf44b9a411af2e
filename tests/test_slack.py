"""The Slack bot end to end: signed requests to the running app, Slack faked at
the transport (``slack_support.FakeSlack``, which says how)."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi.testclient import TestClient
from pydantic import ValidationError
from server_support import free_port, hermetic_env, qbank_command, qbank_server
from service_support import CONTENT, REPO, service_settings
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_support import (
    ABSTAIN_START,
    APP_TOKEN,
    BOT_ID,
    BOT_USER,
    DROPOUT_ID,
    DROPOUT_TITLE,
    DROPPED,
    PUBLIC_URL,
    SECRET,
    TOKEN,
    Failure,
    FakeSlack,
    action_body,
    api_error,
    block_problems,
    blocks_of,
    button,
    command_body,
    event_body,
    mention,
    message,
    new_ts,
    only_answer,
    rate_limited,
    running_fake,
    send,
    settle,
    sign,
    slack_settings,
    unescaped,
)

from index.engine import IngestReport
from qbank.answer.conversation import turns_kept
from qbank.settings import Settings
from service.app import create_app
from service.slack import SlackBot, SocketModeConnector, socket_mode_handler
from service.slack.blocks import HELP_TEXT, LOADING_TEXT, USAGE_TEXT
from service.slack.bot import thread_history
from service.slack.buttons import (
    EXPAND_ACTION,
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    OPEN_ACTION,
    SHARE_ACTION,
    AnswerRef,
    actions,
)
from service.slack.delivery import RATE_LIMIT_MAX_WAIT_S, RATE_LIMIT_RETRIES
from service.slack.kit import size
from service.slack.scopes import METHOD_SCOPES, needed_scopes

# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with running_fake() as slack:
        yield slack


@pytest.fixture(autouse=True)
def _clean_fake(fake: FakeSlack) -> None:
    fake.reset()


@pytest.fixture(scope="module")
def client(built: IngestReport, fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = slack_settings(built, fake, tmp_path_factory.mktemp("slack"))
    with TestClient(create_app(settings, background_load=False)) as c:
        yield c


@pytest.fixture
def bot(client: TestClient) -> SlackBot:
    b: SlackBot = client.app.state.slack  # type: ignore[attr-defined]
    return b


def assert_dropout_answer(blocks: list[dict[str, Any]], share: bool = False) -> None:
    """The short answer to "how does dropout work": title, one section, code, sources, buttons."""
    assert block_problems(blocks) == []
    assert unescaped(blocks) == []
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": DROPOUT_TITLE, "emoji": True}}
    assert [b["type"] for b in blocks] == ["header", "section", "section", "context", "actions"]
    assert blocks[1]["text"]["text"].startswith("*How Dropout Works*")
    code = [b["text"]["text"] for b in blocks_of("section", blocks) if "```" in b["text"]["text"]]
    assert code and "self.dropout1 = nn.Dropout(p=0.5)" in code[0]
    assert blocks[3]["elements"][0]["text"].startswith(f"1. <{PUBLIC_URL}/q/{DROPOUT_ID}|{DROPOUT_TITLE}>\n2. ")
    (buttons,) = blocks_of("actions", blocks)
    expected = [EXPAND_ACTION, OPEN_ACTION, FEEDBACK_UP, FEEDBACK_DOWN]
    assert [e["action_id"] for e in buttons["elements"]] == ([SHARE_ACTION] if share else []) + expected
    assert button(blocks, OPEN_ACTION)["url"] == f"{PUBLIC_URL}/q/{DROPOUT_ID}"
    assert json.loads(button(blocks, FEEDBACK_UP)["value"])["question_id"] == DROPOUT_ID
    assert blocks[-1] is buttons
    assert size(blocks) < 3000  # about one phone screen


# -- security ---------------------------------------------------------------------------


def _forgeries(body: str) -> dict[str, dict[str, str]]:
    return {
        "unsigned": {},
        "wrong secret": sign(body, secret="not-the-secret"),
        "other body": sign(body + "&text=tampered"),
        "stale": sign(body, timestamp=int(time.time()) - 6 * 60),
        "timestamp only": {"X-Slack-Request-Timestamp": str(int(time.time()))},
    }


@pytest.mark.parametrize("forgery", list(_forgeries("")))
@pytest.mark.parametrize("kind", ["command", "event", "action"])
def test_forged_requests_get_401_and_nothing_happens(
    client: TestClient, bot: SlackBot, fake: FakeSlack, kind: str, forgery: str
) -> None:
    event = mention("how does dropout work")
    body = {
        "command": command_body("how does dropout work", fake.response_url("forged")),
        "event": event_body(event, event_id=f"EvForged{kind}{forgery}"),
        "action": action_body(
            FEEDBACK_UP, json.dumps({"question_id": DROPOUT_ID, "query": "x"}), fake.response_url("f")
        ),
    }[kind]
    feedback_before = len(client.app.state.qbank.feedback.all())  # type: ignore[attr-defined]
    response = send(client, body, _forgeries(body[0])[forgery])
    assert response.status_code == 401
    assert bot.pool.in_flight == 0
    settle(bot)
    assert fake.calls == []
    assert len(client.app.state.qbank.feedback.all()) == feedback_before  # type: ignore[attr-defined]
    if kind == "event":  # the forged event_id was not remembered: the real delivery is answered
        assert send(client, event_body(event, event_id=f"EvForged{kind}{forgery}")).status_code == 200
        assert only_answer(fake, bot, "chat.postMessage")["thread_ts"] == event["ts"]


def test_url_verification_challenge_is_answered_when_signed(client: TestClient) -> None:
    body = (json.dumps({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                        "type": "url_verification"}), "application/json")  # fmt: skip
    assert send(client, body, {}).status_code == 401
    response = send(client, body)
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


# -- questions and answers ---------------------------------------------------------------


def test_ask_answers_privately_with_a_share_button(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    response = send(client, command_body("how does dropout work", fake.response_url("ask1")))
    assert response.status_code == 200
    assert response.text == ""  # acknowledged at once; the answer comes through response_url
    answer = only_answer(fake, bot, "response_url")
    assert answer["_path"] == "/response_url/ask1"
    assert (answer["response_type"], answer["replace_original"]) == ("ephemeral", False)
    assert answer["text"] == DROPOUT_TITLE
    assert_dropout_answer(answer["blocks"], share=True)
    assert button(answer["blocks"], SHARE_ACTION)["text"]["text"] == "Share in channel"


def test_share_in_channel_posts_the_answer_with_who_asked(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    question = "how does dropout work <really>"
    assert send(client, command_body(question, fake.response_url("ask-share"))).status_code == 200
    private = only_answer(fake, bot, "response_url")
    assert private["response_type"] == "ephemeral"
    value = button(private["blocks"], SHARE_ACTION)["value"]
    fake.reset()
    click = action_body(SHARE_ACTION, value, fake.response_url("share"), ephemeral=True)
    assert send(client, click).status_code == 200
    fake.wait_for("response_url", count=2)
    settle(bot)
    shared, removed = (c.payload for c in fake.answers())
    assert (shared["response_type"], shared["replace_original"]) == ("in_channel", False)
    assert shared["_path"] == "/response_url/share"
    blocks = shared["blocks"]
    assert block_problems(blocks) == [] and unescaped(blocks) == []
    assert blocks[0]["elements"][0]["text"] == "<@U0000USER> asked: how does dropout work &lt;really&gt;"
    assert blocks[1]["text"]["text"] == DROPOUT_TITLE
    assert [e["action_id"] for e in blocks_of("actions", blocks)[0]["elements"]] == [
        EXPAND_ACTION,
        OPEN_ACTION,
        FEEDBACK_UP,
        FEEDBACK_DOWN,
    ]  # everyone sees it now: nothing left to share
    assert removed == {"text": "", "delete_original": True, "_path": "/response_url/share"}


def test_show_full_answer_expands_a_thread_answer_in_place(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    event = mention("how does dropout work")
    assert send(client, event_body(event, "EvExpand")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")
    assert_dropout_answer(posted["blocks"])
    fake.reset()
    expand = button(posted["blocks"], EXPAND_ACTION)
    click = action_body(EXPAND_ACTION, expand["value"], fake.response_url("expand"), blocks=posted["blocks"])
    assert send(client, click).status_code == 200
    full = only_answer(fake, bot, "response_url")
    assert full["replace_original"] is True and full["text"] == DROPOUT_TITLE  # the same message, replaced
    blocks = full["blocks"]
    assert block_problems(blocks) == [] and unescaped(blocks) == []
    assert [b["type"] for b in blocks] == ["header", "context", "section", "section", "section", "context", "actions"]
    assert blocks[1]["elements"][0]["text"].startswith("*Difficulty:* Medium · *Asked at:* Amazon, Meta")
    assert "*Why It Works (Multiple Perspectives)*" in blocks[2]["text"]["text"]
    assert "model.eval()" in blocks[3]["text"]["text"]  # all of the code
    assert blocks[4]["text"]["text"].startswith("*Interviewer's insight*")
    assert [e["action_id"] for e in blocks[-1]["elements"]] == [OPEN_ACTION, FEEDBACK_UP, FEEDBACK_DOWN]
    assert button(blocks, FEEDBACK_UP)["value"] == expand["value"]  # feedback and thread history still read it
    assert size(blocks) > size(posted["blocks"])


def test_show_full_answer_on_a_private_ask_keeps_it_private_and_shareable(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    assert send(client, command_body("show me pytorch code for dropout", fake.response_url("ask-x"))).status_code == 200
    private = only_answer(fake, bot, "response_url")["blocks"]
    fake.reset()
    value = button(private, EXPAND_ACTION)["value"]
    assert send(client, action_body(EXPAND_ACTION, value, fake.response_url("x"), ephemeral=True)).status_code == 200
    full = only_answer(fake, bot, "response_url")
    assert full["replace_original"] is True and "response_type" not in full
    assert block_problems(full["blocks"]) == []
    assert [e["action_id"] for e in blocks_of("actions", full["blocks"])[0]["elements"]] == [
        SHARE_ACTION,
        OPEN_ACTION,
        FEEDBACK_UP,
        FEEDBACK_DOWN,
    ]
    assert full["blocks"][2]["text"]["text"].startswith("*Code*")  # asked for code: still first


def test_a_question_is_logged_once_as_slack_without_the_user_and_a_button_adds_nothing(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    log = client.app.state.qbank.query_log  # type: ignore[attr-defined]
    assert log.flush(10)
    before = len(log.rows.entries())
    assert send(client, command_body("how does dropout work", fake.response_url("ask-log"))).status_code == 200
    private = only_answer(fake, bot, "response_url")["blocks"]
    fake.reset()
    value = button(private, EXPAND_ACTION)["value"]
    assert send(client, action_body(EXPAND_ACTION, value, fake.response_url("x"), ephemeral=True)).status_code == 200
    only_answer(fake, bot, "response_url")  # the full answer, composed again: not a new question
    assert log.flush(10)
    rows = log.rows.entries()[before:]
    assert [(r.surface, r.action, r.query, r.top_id, r.abstained) for r in rows] == [
        ("slack", "chat", "how does dropout work", "machine-learning--what-is-dropout-and-why-does-it-work", False)
    ]
    assert rows[0].learner is None and "U0000USER" not in repr(rows[0])


def test_a_shared_answer_expands_keeping_who_asked(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    assert send(client, command_body("explain bagging", fake.response_url("ask-b"))).status_code == 200
    value = button(only_answer(fake, bot, "response_url")["blocks"], SHARE_ACTION)["value"]
    fake.reset()
    assert send(client, action_body(SHARE_ACTION, value, fake.response_url("s"), ephemeral=True)).status_code == 200
    fake.wait_for("response_url", count=2)
    settle(bot)
    shared = fake.answers()[0].payload["blocks"]
    fake.reset()
    value = button(shared, EXPAND_ACTION)["value"]
    assert send(client, action_body(EXPAND_ACTION, value, fake.response_url("e"), blocks=shared)).status_code == 200
    full = only_answer(fake, bot, "response_url")["blocks"]
    assert block_problems(full) == []
    assert full[0] == shared[0] and full[0]["elements"][0]["text"] == "<@U0000USER> asked: explain bagging"
    assert full[1]["text"]["text"] == "What is Ensemble Learning? Explain Bagging, Boosting, and Stacking"
    assert SHARE_ACTION not in json.dumps(full)


def test_a_company_list_asked_privately_can_be_shared(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    assert send(client, command_body("what does Uber ask?", fake.response_url("ask-uber"))).status_code == 200
    private = only_answer(fake, bot, "response_url")
    assert private["response_type"] == "ephemeral" and private["blocks"][0]["text"]["text"] == "Questions asked at Uber"
    share = button(private["blocks"], SHARE_ACTION)
    assert [e["action_id"] for e in blocks_of("actions", private["blocks"])[0]["elements"]] == [
        SHARE_ACTION,
        OPEN_ACTION,
    ]
    fake.reset()
    assert (
        send(client, action_body(SHARE_ACTION, share["value"], fake.response_url("s"), ephemeral=True)).status_code
        == 200
    )
    fake.wait_for("response_url", count=2)
    settle(bot)
    shared = fake.answers()[0].payload
    assert shared["response_type"] == "in_channel" and block_problems(shared["blocks"]) == []
    assert shared["blocks"][0]["elements"][0]["text"] == "<@U0000USER> asked: what does Uber ask?"
    assert shared["blocks"][1]["text"]["text"] == "Questions asked at Uber"
    assert "How Does Gradient Descent Work?" in json.dumps(shared["blocks"])


def test_a_button_whose_answer_changed_says_so_privately(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    value = json.dumps({"question_id": "machine-learning--no-longer-there", "query": "how does dropout work"})
    assert send(client, action_body(EXPAND_ACTION, value, fake.response_url("gone"))).status_code == 200
    answer = only_answer(fake, bot, "response_url")
    assert (answer["response_type"], answer["replace_original"]) == ("ephemeral", False)
    assert answer["text"] == (
        "That answer has changed since it was posted: "
        f"<{PUBLIC_URL}/q/machine-learning--no-longer-there|open it on the web>."
    )


def test_empty_ask_gets_usage_help(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    response = send(client, command_body("   ", fake.response_url("empty")))
    assert response.status_code == 200
    assert response.text == HELP_TEXT and "/ask practice" in HELP_TEXT
    settle(bot)
    assert fake.answers() == []


def test_empty_mention_gets_usage_help_in_its_thread(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    event = mention("")
    assert send(client, event_body(event, "EvEmptyMention")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")
    assert (posted["thread_ts"], posted["text"]) == (event["ts"], USAGE_TEXT)


def test_over_long_question_is_answered_with_the_limit_privately(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    assert send(client, command_body("why " * 600, fake.response_url("long"))).status_code == 200
    answer = only_answer(fake, bot, "response_url")
    assert answer["text"] == "question is 2399 characters; the limit is 2000"
    assert answer["response_type"] == "ephemeral" and not answer.get("blocks")


def test_ask_that_finds_nothing_stays_private(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    assert send(client, command_body("what is the best pizza in naples", fake.response_url("miss"))).status_code == 200
    answer = only_answer(fake, bot, "response_url")
    assert answer["response_type"] == "ephemeral" and answer["text"].startswith(ABSTAIN_START)
    assert block_problems(answer["blocks"]) == [] and not blocks_of("actions", answer["blocks"])  # nothing to share


def test_mention_is_answered_in_a_thread_under_it(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    event = mention("how does dropout work")
    assert send(client, event_body(event, "EvMention1")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")
    assert (posted["channel"], posted["thread_ts"]) == ("C0000CHAN", event["ts"])
    assert_dropout_answer(posted["blocks"])
    assert posted["unfurl_links"] is False


def test_direct_message_is_answered_in_a_thread(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    event = message("How do I handle class imbalance?")
    assert send(client, event_body(event, "EvDm1")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")
    assert (posted["channel"], posted["thread_ts"]) == ("D0000DM", event["ts"])
    # The bank answers class imbalance twice; either is the right answer here.
    assert posted["blocks"][0]["text"]["text"] in {
        "What is Imbalanced Data? How Do You Handle It in Classification?",
        "How Do You Handle Imbalanced Datasets?",
    }
    assert block_problems(posted["blocks"]) == []


def test_thread_follow_up_is_answered_with_the_thread_as_history(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    follow_up = "show me the code for it"
    composer = client.app.state.qbank.engine.composer  # type: ignore[attr-defined]
    alone = composer.compose([("user", follow_up)])
    assert (
        alone.abstained or alone.record is None or alone.record.id != DROPOUT_ID
    )  # the history is what makes it dropout

    first = mention("how does dropout work")
    fake.add_message("C0000CHAN", user="U0000USER", text=first["text"], ts=first["ts"])
    assert send(client, event_body(first, "EvThread1")).status_code == 200
    fake.wait_for("chat.postMessage")
    settle(bot)

    reply = message(follow_up, channel="C0000CHAN", channel_type="channel", thread_ts=first["ts"])
    fake.add_message("C0000CHAN", user="U0000USER", text=follow_up, ts=reply["ts"], thread_ts=first["ts"])
    assert send(client, event_body(reply, "EvThread2")).status_code == 200
    posted = fake.wait_for("chat.postMessage", count=2)[1]
    settle(bot)
    assert [p["channel"] for p in fake.posts("conversations.replies")] == ["C0000CHAN"]
    assert posted["thread_ts"] == first["ts"]
    assert posted["blocks"][0]["text"]["text"] == DROPOUT_TITLE
    assert "```" in posted["blocks"][1]["text"]["text"]  # asked for code: the code comes first
    value = json.loads(button(posted["blocks"], FEEDBACK_UP)["value"])
    assert value["query"] == f"how does dropout work {follow_up}"
    assert value["turns"] == ["how does dropout work", follow_up]  # what "Show full answer" composes again


def thread_conversation(client: TestClient, bot: SlackBot, fake: FakeSlack, *said: str) -> list[dict[str, Any]]:
    """A person mentions the bot, then replies in its thread, message by message;
    every answer posted."""
    first = mention(said[0])
    fake.add_message("C0000CHAN", user="U0000USER", text=first["text"], ts=first["ts"])
    before = len(fake.posts("chat.postMessage"))
    assert send(client, event_body(first, f"Ev{first['ts']}")).status_code == 200
    fake.wait_for("chat.postMessage", count=before + 1)
    settle(bot)
    for n, text in enumerate(said[1:], 2):
        reply = message(text, channel="C0000CHAN", channel_type="channel", thread_ts=first["ts"])
        fake.add_message("C0000CHAN", user="U0000USER", text=text, ts=reply["ts"], thread_ts=first["ts"])
        assert send(client, event_body(reply, f"Ev{reply['ts']}")).status_code == 200
        fake.wait_for("chat.postMessage", count=before + n)
        settle(bot)
    posted = fake.posts("chat.postMessage")[before:]
    assert all(p["thread_ts"] == first["ts"] and block_problems(p["blocks"]) == [] for p in posted)
    return posted


def test_a_thread_lists_what_a_company_asks_and_narrows_it(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    listed, hard = thread_conversation(client, bot, fake, "what does Uber ask?", "which of those are hard?")
    assert listed["blocks"][0]["text"]["text"] == "Questions asked at Uber"
    assert "How Does Gradient Descent Work?" in json.dumps(listed["blocks"])
    assert hard["blocks"][0]["text"]["text"] == "Hard questions asked at Uber"
    assert "How Does Gradient Descent Work?" not in json.dumps(hard["blocks"])
    assert "How Do You Deploy ML Models to Production?" in json.dumps(hard["blocks"])
    # the whole list offers the narrowing; the Hard ones, narrowed already, only picks
    assert "which of those are hard" in json.dumps(listed["blocks"])
    assert "which of those are hard" not in json.dumps(hard["blocks"]) and "pick one" in json.dumps(hard["blocks"])
    assert "every one of its" not in json.dumps(listed["blocks"])


def test_a_company_list_that_is_the_whole_bank_says_so(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    """Every question of the bank lists Google: its list of 102 told a candidate nothing (tester finding)."""
    (listed,) = thread_conversation(client, bot, fake, "what does Google ask?")
    assert "The bank lists Google for every one of its" in json.dumps(listed["blocks"])


def test_a_thread_read_to_its_end_says_it_starts_again(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    first, second, third = thread_conversation(client, bot, fake, "explain l1 vs l2", "go on", "go on")
    title = first["blocks"][0]["text"]["text"]
    assert third["blocks"][0]["text"]["text"] == title
    shown = json.dumps(third["blocks"], ensure_ascii=False)
    assert f"That was all of “{title}”; here it is again from the start." in shown
    assert "again from the start" not in json.dumps(first["blocks"]) + json.dumps(second["blocks"])


def test_a_new_topic_in_a_thread_is_not_merged_with_the_previous(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    _, bagging = thread_conversation(client, bot, fake, "explain GANs", "explain bagging")
    assert bagging["blocks"][0]["text"]["text"] == "What is Ensemble Learning? Explain Bagging, Boosting, and Stacking"
    value = json.loads(button(bagging["blocks"], FEEDBACK_UP)["value"])
    assert value["query"] == "explain bagging"


def test_thanks_in_a_thread_gets_a_reply_and_the_topic_goes_on(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    _, thanks, code = thread_conversation(client, bot, fake, "how does dropout work", "thanks!", "show me the code")
    assert not blocks_of("header", thanks["blocks"]) and not blocks_of("actions", thanks["blocks"])
    assert thanks["blocks"][0]["text"]["text"].startswith("You're welcome.")
    assert DROPOUT_TITLE in thanks["text"] or DROPOUT_TITLE in json.dumps(thanks["blocks"])
    assert code["blocks"][0]["text"]["text"] == DROPOUT_TITLE
    assert "```" in code["blocks"][1]["text"]["text"]


def test_follow_up_to_a_shared_ask_answer_reads_the_question_from_it(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    """A shared /ask answer starts no thread of user messages: the question is read back from our own answer."""
    assert send(client, command_body("how does dropout work", fake.response_url("ask2"))).status_code == 200
    value = button(only_answer(fake, bot, "response_url")["blocks"], SHARE_ACTION)["value"]
    fake.reset()
    assert send(client, action_body(SHARE_ACTION, value, fake.response_url("s2"), ephemeral=True)).status_code == 200
    fake.wait_for("response_url", count=2)
    settle(bot)
    blocks = fake.answers()[0].payload["blocks"]
    fake.reset()
    parent_ts = new_ts()
    fake.add_message("C0000ASK", user=BOT_USER, bot_id=BOT_ID, text=DROPOUT_TITLE, blocks=blocks, ts=parent_ts)
    reply = message("what about its code", channel="C0000ASK", channel_type="channel", thread_ts=parent_ts)
    assert send(client, event_body(reply, "EvAskThread")).status_code == 200
    posted = fake.wait_for("chat.postMessage")[0]
    assert posted["thread_ts"] == parent_ts
    assert posted["blocks"][0]["text"]["text"] == DROPOUT_TITLE


def test_thread_between_people_is_left_alone(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    parent = new_ts()
    fake.add_message("C0000CHAN", user="U0000OTHER", text="lunch?", ts=parent)
    reply = message("how does dropout work", channel="C0000CHAN", channel_type="channel", thread_ts=parent)
    assert send(client, event_body(reply, "EvPeople")).status_code == 200
    settle(bot)
    assert [c.method for c in fake.calls] == ["conversations.replies"]


def test_a_retried_event_is_answered_once(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    body = event_body(mention("how does dropout work"), "EvRetried")
    assert send(client, body).status_code == 200
    for retry in ("1", "2"):
        headers = sign(body[0]) | {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        assert send(client, body, headers).status_code == 200
    only_answer(fake, bot, "chat.postMessage")


def test_a_retry_whose_first_delivery_never_came_is_answered(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    body = event_body(mention("how does dropout work"), "EvLostFirst")
    headers = sign(body[0]) | {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert send(client, body, headers).status_code == 200
    assert only_answer(fake, bot, "chat.postMessage")["blocks"][0]["text"]["text"] == DROPOUT_TITLE


@pytest.mark.parametrize(
    "event",
    [
        message("how does dropout work", user=BOT_USER, bot_id=BOT_ID),  # our own answer
        message("how does dropout work", user="U0000BOT2", bot_id="B0000OTHER", subtype="bot_message"),
        message("how does dropout work", bot_id="B0000OTHER", subtype="bot_message") | {"user": None},
        message("how does dropout work", subtype="message_changed"),
        mention("how does dropout work", user="U0000BOT2", bot_id="B0000OTHER"),  # another bot mentioning us
        message("how does dropout work", channel="C0000CHAN", channel_type="channel"),  # channel chatter, no thread
    ],
    ids=["own message", "other bot", "bot without user", "edit", "bot mention", "channel message"],
)
def test_bots_and_chatter_are_ignored(
    client: TestClient, bot: SlackBot, fake: FakeSlack, event: dict[str, Any]
) -> None:
    assert send(client, event_body(event, f"EvIgnored{event['ts']}")).status_code == 200
    settle(bot)
    assert fake.answers() == []


def test_off_topic_question_gets_the_abstain_message(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    assert send(client, event_body(mention("what is the best pizza in naples"), "EvPizza")).status_code == 200
    blocks = only_answer(fake, bot, "chat.postMessage")["blocks"]
    assert block_problems(blocks) == []
    assert blocks[0]["type"] == "section" and blocks[0]["text"]["text"].startswith(ABSTAIN_START)
    assert not blocks_of("header", blocks) and not blocks_of("actions", blocks)


def test_question_while_the_index_loads_gets_a_retry_message(
    client: TestClient, bot: SlackBot, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client.app.state.qbank, "engine", None)  # type: ignore[attr-defined]
    assert send(client, command_body("how does dropout work", fake.response_url("loading"))).status_code == 200
    answer = only_answer(fake, bot, "response_url")
    assert answer["text"] == LOADING_TEXT and not answer.get("blocks")
    assert answer["response_type"] == "ephemeral"


def home_opened(tab: str) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": "U0000USER", "channel": "D0000DM", "tab": tab, "event_ts": new_ts()}


def test_opening_app_home_publishes_what_the_bot_does(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    assert send(client, event_body(home_opened("home"), "EvHome")).status_code == 200
    fake.wait_for("views.publish")
    settle(bot)
    (published,) = fake.posts("views.publish")
    assert published["user_id"] == "U0000USER"
    view = published["view"]
    assert view["type"] == "home"
    assert block_problems(view["blocks"]) == [] and unescaped(view["blocks"]) == []
    text = "\n".join(
        b["text"]["text"] if b["type"] in ("section", "header") else b["elements"][0]["text"] for b in view["blocks"]
    )
    catalog = client.app.state.qbank.engine.composer.catalog  # type: ignore[attr-defined]
    for said in ("curated question banks (“Machine Learning Interview Questions”)", "/ask how does dropout work",
                 "Share in channel", "Mention me", "direct message", "Follow up in the thread", "Show full answer",
                 "/ask practice google medium", "/ask practice weak", "/ask practice remind on",
                 f"<{PUBLIC_URL}|", *catalog.examples):  # fmt: skip
        assert said in text
    fake.reset()
    assert send(client, event_body(home_opened("messages"), "EvHomeMessages")).status_code == 200
    settle(bot)
    assert fake.calls == []  # the Messages tab: nothing to publish


@pytest.mark.parametrize(("action_id", "helpful"), [(FEEDBACK_UP, True), (FEEDBACK_DOWN, False)])
def test_feedback_button_is_stored_with_the_web_ui_feedback(
    client: TestClient, bot: SlackBot, fake: FakeSlack, action_id: str, helpful: bool
) -> None:
    state = client.app.state.qbank  # type: ignore[attr-defined]
    assert send(client, command_body("how does dropout work", fake.response_url("fb"))).status_code == 200
    (buttons,) = blocks_of("actions", only_answer(fake, bot, "response_url")["blocks"])
    value = next(e["value"] for e in buttons["elements"] if e["action_id"] == action_id)
    fake.reset()
    before = len(state.feedback.all())
    message_ts = new_ts()  # a message of its own: a second vote on one message replaces the first
    response = send(client, action_body(action_id, value, fake.response_url("click"), message_ts=message_ts))
    assert response.status_code == 200
    thanks = only_answer(fake, bot, "response_url")
    assert thanks["response_type"] == "ephemeral" and thanks["replace_original"] is False
    assert thanks["text"] == "Thanks for the feedback!"
    rows = state.feedback.all()
    assert len(rows) == before + 1
    row = rows[-1]
    assert (row.source, row.question_id, row.helpful, row.query) == (
        "slack",
        DROPOUT_ID,
        helpful,
        "how does dropout work",
    )
    assert (row.message_id, row.user_id) == (f"C0000ASK:{message_ts}", "U0000USER")
    assert state.metrics.feedback.labels("slack", str(helpful).lower())._value.get() >= 1


def test_feedback_for_an_unknown_question_is_not_stored(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    state = client.app.state.qbank  # type: ignore[attr-defined]
    before = len(state.feedback.all())
    value = json.dumps({"question_id": "no-such-question", "query": "q"})
    assert send(client, action_body(FEEDBACK_UP, value, fake.response_url("bad"))).status_code == 200
    assert only_answer(fake, bot, "response_url")["text"] == "Sorry, I couldn't record that feedback."
    assert len(state.feedback.all()) == before


# -- a real server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(built: IngestReport, fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The app under uvicorn on a loopback port, its lifespan run by uvicorn."""
    app = create_app(slack_settings(built, fake, tmp_path_factory.mktemp("slack-uv")), background_load=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", app
    uv.should_exit = True
    thread.join(timeout=30)


def post(url: str, body: tuple[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
    content, content_type = body
    headers = sign(content) if headers is None else headers
    return httpx.post(f"{url}/slack/events", content=content, headers=headers | {"Content-Type": content_type})


def test_real_server_answers_ask_how_does_dropout_work(server: tuple[str, Any], fake: FakeSlack) -> None:
    url, app = server
    body = command_body("how does dropout work", fake.response_url("uv-ask"))
    assert post(url, body, sign(body[0], secret="forged")).status_code == 401
    response = post(url, body)
    assert response.status_code == 200
    answer = fake.wait_for("response_url")[0]
    assert app.state.slack.pool.wait_idle(30)
    assert len(fake.answers()) == 1
    assert answer["response_type"] == "ephemeral"
    assert_dropout_answer(answer["blocks"], share=True)


def test_real_server_acknowledges_a_slow_search_within_3_seconds(
    server: tuple[str, Any], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, app = server
    composer = app.state.qbank.engine.composer
    compose = composer.compose

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(4)
        return compose(*args, **kwargs)

    monkeypatch.setattr(composer, "compose", slow)
    event = mention("how does dropout work")
    start = time.monotonic()
    response = post(url, event_body(event, "EvSlow"))
    acked = time.monotonic()
    assert response.status_code == 200
    assert acked - start < 3.0
    assert fake.answers() == []
    posted = fake.wait_for("chat.postMessage", timeout_s=60)[0]
    answered_at = fake.answers()[0].at
    assert answered_at - start >= 4.0  # the search really ran after the acknowledgement
    assert posted["thread_ts"] == event["ts"]
    assert posted["blocks"][0]["text"]["text"] == DROPOUT_TITLE


# -- configuration ---------------------------------------------------------------------------


@pytest.fixture
def no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BOT_TOKEN", "SIGNING_SECRET", "APP_TOKEN"):
        monkeypatch.delenv(f"QBANK_SLACK_{name}", raising=False)


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"slack_bot_token": TOKEN}, "QBANK_SLACK_SIGNING_SECRET"),
        ({"slack_signing_secret": SECRET}, "QBANK_SLACK_BOT_TOKEN"),
    ],
)
def test_half_configured_slack_fails_naming_the_missing_variable(
    no_slack_env: None, given: dict[str, str], missing: str
) -> None:
    with pytest.raises(ValidationError, match=missing):
        Settings(_env_file=None, **given)  # type: ignore[call-arg]


def test_half_configured_slack_from_the_environment_fails(no_slack_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QBANK_SLACK_BOT_TOKEN", TOKEN)
    with pytest.raises(ValueError, match="QBANK_SLACK_SIGNING_SECRET is missing"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_without_slack_settings_the_route_is_not_mounted(
    no_slack_env: None, built: IngestReport, tmp_path: Path
) -> None:
    app = create_app(service_settings(built.path, tmp_path), background_load=False)
    with TestClient(app) as c:
        body = command_body("how does dropout work", "http://127.0.0.1:9/none")
        assert c.post("/slack/events", content=body[0], headers=sign(body[0])).status_code == 404
        assert c.get("/api/search", params={"q": "dropout"}).json()["hits"][0]["id"] == DROPOUT_ID
    assert not hasattr(app.state, "slack")


def test_app_token_chooses_socket_mode_without_connecting(built: IngestReport, fake: FakeSlack, tmp_path: Path) -> None:
    settings = slack_settings(built, fake, tmp_path, slack_app_token="xapp-1-test")
    bot: SlackBot = create_app(settings).state.slack
    assert bot.uses_socket_mode
    handler = socket_mode_handler(bot)
    try:
        assert isinstance(handler, SocketModeHandler)
        assert handler.app is bot.app and handler.app_token == "xapp-1-test"
        assert handler.client.web_client.base_url == fake.api_url
        assert not handler.client.is_connected()
    finally:
        handler.close()
    assert fake.calls == []
    plain: SlackBot = create_app(slack_settings(built, fake, tmp_path)).state.slack
    assert not plain.uses_socket_mode
    with pytest.raises(ValueError, match="QBANK_SLACK_APP_TOKEN"):
        socket_mode_handler(plain)


# -- the README's run command, and the manifest ---------------------------------------------


def slack_env(fake: FakeSlack, **slack: str) -> dict[str, str]:
    """Settings for a ``qbank serve`` that talks to the fake Slack."""
    return {"QBANK_SLACK_API_URL": fake.api_url, "QBANK_PUBLIC_URL": PUBLIC_URL} | slack


@pytest.mark.server
def test_qbank_serve_with_the_two_env_vars_serves_slack_events(
    built: IngestReport, fake: FakeSlack, tmp_path: Path
) -> None:
    env = slack_env(fake, QBANK_SLACK_BOT_TOKEN=TOKEN, QBANK_SLACK_SIGNING_SECRET=SECRET)
    with qbank_server(built.path, tmp_path, content_dir=CONTENT, env=env) as server:
        url = server.base_url
        body = command_body("how does dropout work", fake.response_url("serve"))
        assert post(url, body, {}).status_code == 401
        assert post(url, body, sign(body[0], secret="forged")).status_code == 401
        assert post(url, body).status_code == 200
        answer = fake.wait_for("response_url")[0]
        assert_dropout_answer(answer["blocks"], share=True)
        assert len(fake.answers()) == 1


@pytest.mark.parametrize(("given", "missing"), [("BOT_TOKEN", "SIGNING_SECRET"), ("SIGNING_SECRET", "BOT_TOKEN")])
def test_qbank_serve_refuses_half_configured_slack(
    built: IngestReport, fake: FakeSlack, tmp_path: Path, given: str, missing: str
) -> None:
    env = hermetic_env(
        QBANK_INDEX_DIR=str(built.path),
        QBANK_FEEDBACK_PATH=str(tmp_path / "feedback.sqlite3"),
        **slack_env(fake, **{f"QBANK_SLACK_{given}": "xoxb-1-only-one"}),
    )
    done = subprocess.run(
        [*qbank_command(), "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"QBANK_SLACK_{missing} is missing" in done.stderr


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "service" / "slack" / "manifest.yml").read_text())
    return loaded


def test_manifest_asks_for_what_the_bot_uses() -> None:
    found = manifest()
    (ask,) = found["features"]["slash_commands"]
    assert ask["command"] == "/ask" and ask["url"].endswith("/slack/events")
    settings = found["settings"]
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert settings["interactivity"] == {"is_enabled": True, "request_url": ask["url"]}
    assert found["features"]["app_home"]["home_tab_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "message.im",
        "message.mpim",
        "message.channels",
        "message.groups",
    }


def test_manifest_scopes_are_exactly_what_the_code_needs() -> None:
    found = manifest()
    events = found["settings"]["event_subscriptions"]["bot_events"]
    scopes = found["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    assert set(scopes) == needed_scopes(events, bool(found["features"]["slash_commands"]))
    assert "im:read" not in scopes  # nothing lists conversations


_CALL = re.compile(r"\bclient\.((?:auth|apps|chat|conversations|users|views|reactions|files)_\w+)\(")


def test_every_web_api_method_the_code_calls_is_in_the_scope_table() -> None:
    called = {
        name.replace("_", ".")
        for path in (REPO / "service" / "slack").glob("*.py")
        for name in _CALL.findall(path.read_text())
    }
    assert {"chat.postMessage", "conversations.replies", "views.publish"} <= called  # the scan finds calls
    assert called - {"apps.connections.open"} <= set(METHOD_SCOPES)  # that one is the app-level token's


def test_the_slack_readme_gives_each_scope_its_reason() -> None:
    readme = (REPO / "service" / "slack" / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_.:]+)` \| (.+) \|$", readme, re.M))
    assert set(rows) == set(manifest()["oauth_config"]["scopes"]["bot"])
    assert all(len(why) > 10 for why in rows.values())


# -- hostile requests (hardening round 2) ------------------------------------------------


def test_a_replayed_signed_command_is_answered_once(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    body = command_body("how does dropout work", fake.response_url("replay"))
    headers = sign(body[0])
    assert send(client, body, headers).status_code == 200
    only_answer(fake, bot, "response_url")
    fake.reset()
    assert send(client, body, headers).status_code == 200  # the same signed bytes, within five minutes
    settle(bot)
    assert fake.posts("response_url") == []


# "²³" passes str.isdigit() and int() refuses it; 4,400 digits are past int()'s limit: both were 500s
@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-5", "12.5", "²³", "9" * 4400])
def test_a_malformed_timestamp_is_a_401_not_a_500(client: TestClient, timestamp: str) -> None:
    content, content_type = command_body("dropout", "https://hooks.slack.com/commands/x")
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers | {"Content-Type": content_type}).items()]
    r = client.post("/slack/events", content=content, headers=raw)  # type: ignore[arg-type]
    assert r.status_code == 401


def test_a_signature_that_is_not_ascii_is_a_401_not_a_500(client: TestClient) -> None:
    """hmac.compare_digest refuses non-ASCII strings: a TypeError and a 500 (attack run)."""
    content, content_type = command_body("dropout", "https://hooks.slack.com/commands/x")
    headers = [
        (b"x-slack-request-timestamp", str(int(time.time())).encode()),
        (b"x-slack-signature", "v0=é".encode()),
        (b"content-type", content_type.encode()),
    ]
    assert client.post("/slack/events", content=content, headers=headers).status_code == 401  # type: ignore[arg-type]


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", "text=caf\xe9".encode("latin-1")])
def test_a_body_that_is_not_utf8_is_a_401_not_a_500(client: TestClient, content: bytes) -> None:
    """slack_sdk's verifier decoded the body as UTF-8 and raised: a 500 and two tracebacks (tester finding)."""
    headers = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64}
    r = client.post(
        "/slack/events", content=content, headers=headers | {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("content", "content_type"),
    [("not json", "application/json"), ("[1]", "application/json"), ("payload=1", "application/x-www-form-urlencoded")],
)
def test_a_signed_body_that_does_not_parse_is_a_400_not_a_500(
    client: TestClient, content: str, content_type: str
) -> None:
    """Bolt parsed a JSON content type's body as JSON and raised, and a JSON body or form payload
    that is no object failed inside it (tester and second reader findings)."""
    r = client.post("/slack/events", content=content, headers=sign(content) | {"Content-Type": content_type})
    assert r.status_code == 400 and "does not parse" in r.text


def test_thousands_of_headers_are_refused_before_anything_reads_them(client: TestClient) -> None:
    content, content_type = command_body("dropout", "https://hooks.slack.com/commands/x")
    headers = [(f"x-pad-{i}", "x") for i in range(5000)] + [("content-type", content_type)]
    started = time.monotonic()
    r = client.post("/slack/events", content=content, headers=headers)
    assert r.status_code == 431
    assert time.monotonic() - started < 5  # a single pass, not one lookup per header


def test_an_unsigned_large_body_is_logged_as_a_bounded_excerpt_once(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    content = "payload=" + "A" * 60_000
    with caplog.at_level("DEBUG"):
        r = client.post("/slack/events", content=content, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 401
    mentions = [rec for rec in caplog.records if "AAAA" in rec.getMessage()]
    assert len(mentions) == 1 and len(mentions[0].getMessage()) < 400


# -- delivery (hardening round 2) ------------------------------------------------------------


def test_a_rate_limited_answer_is_posted_after_retry_after(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", rate_limited(1))
    event = mention("how does dropout work")
    assert send(client, event_body(event, "EvRateLimited")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")
    first, second = fake.attempts("chat.postMessage")
    assert (first.failure, second.failure) == ("ratelimited", None)
    assert second.at - first.at >= 1.0  # Slack's Retry-After was kept
    assert posted["thread_ts"] == event["ts"] and posted["blocks"][0]["text"]["text"] == DROPOUT_TITLE


def test_a_dropped_connection_is_retried(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", DROPPED)
    event = message("how does dropout work")
    assert send(client, event_body(event, "EvDropped")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")
    assert [c.failure for c in fake.attempts("chat.postMessage")] == ["dropped", None]
    assert posted["blocks"][0]["text"]["text"] == DROPOUT_TITLE


def test_rate_limits_are_retried_a_bounded_number_of_times_then_logged(
    client: TestClient, bot: SlackBot, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("chat.postMessage", *[rate_limited(0)] * 10)
    with caplog.at_level(logging.WARNING, logger="service.slack"):
        assert send(client, event_body(mention("how does dropout work"), "EvLimited")).status_code == 200
        settle(bot)
    assert len(fake.attempts("chat.postMessage")) == 1 + RATE_LIMIT_RETRIES
    (logged,) = [r.getMessage() for r in caplog.records if "not posted" in r.getMessage()]
    assert "C0000CHAN" in logged and "'how does dropout work'" in logged and "ratelimited" in logged


def test_a_rate_limit_longer_than_worth_waiting_is_not_slept_on(
    client: TestClient, bot: SlackBot, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("chat.postMessage", rate_limited(int(RATE_LIMIT_MAX_WAIT_S) + 60))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="service.slack"):
        assert send(client, event_body(mention("explain bagging"), "EvLongLimit")).status_code == 200
        settle(bot)
    assert time.monotonic() - started < RATE_LIMIT_MAX_WAIT_S
    assert len(fake.attempts("chat.postMessage")) == 1
    assert any("C0000CHAN" in r.getMessage() and "'explain bagging'" in r.getMessage() for r in caplog.records)


def test_not_in_channel_tells_the_asker_to_invite_the_bot_in_a_dm(
    client: TestClient, bot: SlackBot, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake.outside.add("C0000OUT")
    with caplog.at_level(logging.INFO, logger="service.slack"):
        assert (
            send(client, event_body(mention("how does dropout work", channel="C0000OUT"), "EvOut")).status_code == 200
        )
        fake.wait_for("chat.postMessage")
        settle(bot)
    assert [(c.method, c.payload.get("channel")) for c in fake.calls if c.method != "auth.test"] == [
        ("chat.postMessage", "C0000OUT"),  # not_in_channel
        ("chat.postEphemeral", "C0000OUT"),  # not_in_channel either
        ("conversations.open", None),
        ("chat.postMessage", "D0000USER"),
    ]
    assert fake.attempts("conversations.open")[0].payload["users"] == "U0000USER"
    (dm,) = fake.posts("chat.postMessage")
    assert dm["text"] == (
        f"I couldn't answer you in <#C0000OUT>: I'm not in that channel. Invite me to the channel with "
        f"/invite <@{BOT_USER}>, then ask again, or send me a direct message."
    )
    said = [r.getMessage() for r in caplog.records]
    assert any("C0000OUT" in m and "'how does dropout work'" in m and "not_in_channel" in m for m in said)
    assert any("told U0000USER in a DM" in m for m in said)


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (rate_limited(int(RATE_LIMIT_MAX_WAIT_S) + 60), "Slack is limiting how fast I can post in <#C0000CHAN>"),
        (api_error("is_archived"), "I couldn't post my answer in <#C0000CHAN> (Slack said `is_archived`)"),
    ],
    ids=["rate limited", "other error"],
)
def test_an_answer_slack_refuses_is_explained_to_the_asker_alone(
    client: TestClient, bot: SlackBot, fake: FakeSlack, failure: Failure, said: str
) -> None:
    fake.fail("chat.postMessage", failure)
    event = mention("explain bagging")
    assert send(client, event_body(event, f"EvRefused{failure.error}")).status_code == 200
    told = only_answer(fake, bot, "chat.postEphemeral")
    assert (told["channel"], told["user"]) == ("C0000CHAN", "U0000USER")
    assert told["text"].startswith(said)
    assert fake.posts("conversations.open") == []


def test_when_nothing_reaches_the_asker_it_is_logged(
    client: TestClient, bot: SlackBot, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("chat.postMessage", api_error("channel_not_found"))
    fake.fail("chat.postEphemeral", api_error("channel_not_found"))
    fake.fail("conversations.open", api_error("missing_scope", needed="im:write"))
    with caplog.at_level(logging.WARNING, logger="service.slack"):
        assert send(client, event_body(mention("explain bagging"), "EvNobody")).status_code == 200
        settle(bot)
    assert fake.answers() == []
    assert any(
        "could not tell U0000USER" in r.getMessage() and "missing_scope" in r.getMessage() for r in caplog.records
    )


THREAD_UNREAD = "_I couldn't read this thread (Slack said `missing_scope`), so I answered this message on its own._"


def test_a_follow_up_is_answered_alone_when_the_thread_cannot_be_read(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    first = mention("how does dropout work")
    assert send(client, event_body(first, "EvUnread1")).status_code == 200
    only_answer(fake, bot, "chat.postMessage")
    fake.fail("conversations.replies", api_error("missing_scope", needed="channels:history", provided="chat:write"))
    reply = message("explain bagging", channel="C0000CHAN", channel_type="channel", thread_ts=first["ts"])
    assert send(client, event_body(reply, "EvUnread2")).status_code == 200
    posted = fake.wait_for("chat.postMessage", count=2)[1]
    settle(bot)
    assert [c.failure for c in fake.attempts("conversations.replies")] == ["missing_scope"]
    assert posted["thread_ts"] == first["ts"]
    blocks = posted["blocks"]
    assert block_problems(blocks) == []
    assert blocks[0] == {"type": "context", "elements": [{"type": "mrkdwn", "text": THREAD_UNREAD}]}
    assert blocks[1]["text"]["text"] == "What is Ensemble Learning? Explain Bagging, Boosting, and Stacking"
    assert json.loads(button(blocks, FEEDBACK_UP)["value"])["turns"] == ["explain bagging"]  # on its own


def test_a_mention_in_an_unreadable_thread_says_so(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    fake.fail("conversations.replies", api_error("missing_scope", needed="groups:history", provided="chat:write"))
    event = mention("how does dropout work", channel="G0000PRIV", thread_ts=new_ts())
    assert send(client, event_body(event, "EvUnreadMention")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")
    assert posted["thread_ts"] == event["thread_ts"]
    assert posted["blocks"][0]["elements"][0]["text"] == THREAD_UNREAD
    assert posted["blocks"][1]["text"]["text"] == DROPOUT_TITLE


def test_an_unreadable_thread_not_known_to_be_ours_is_left_alone(
    client: TestClient, bot: SlackBot, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("conversations.replies", api_error("missing_scope", needed="channels:history", provided="chat:write"))
    reply = message("how does dropout work", channel="C0000CHAN", channel_type="channel", thread_ts=new_ts())
    with caplog.at_level(logging.INFO, logger="service.slack"):
        assert send(client, event_body(reply, "EvUnreadPeople")).status_code == 200
        settle(bot)
    assert fake.answers() == []
    assert any("missing_scope" in r.getMessage() and reply["thread_ts"] in r.getMessage() for r in caplog.records)


# -- Socket Mode connection ------------------------------------------------------------------


def wait_until(done: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def socket_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "service.slack.socket_mode"]


@pytest.fixture
def socket_bot(built: IngestReport, fake: FakeSlack, tmp_path: Path) -> SlackBot:
    """A bot with an app token (Socket Mode), its app not started."""
    bot: SlackBot = create_app(slack_settings(built, fake, tmp_path, slack_app_token=APP_TOKEN)).state.slack
    return bot


def test_socket_mode_keeps_trying_and_says_connected_only_when_it_is(
    socket_bot: SlackBot, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("apps.connections.open", api_error("invalid_auth"))
    fake.socket_refusals = 1  # then the WebSocket handshake is refused once: connect() returns, unconnected
    socket = SocketModeConnector(lambda: socket_mode_handler(socket_bot), first_delay_s=0.05, max_delay_s=0.1)
    with caplog.at_level(logging.INFO, logger="service.slack"):
        socket.start()
        try:
            wait_until(lambda: socket.connected)
            handler = socket.handler
        finally:
            socket.stop()
    assert [c.failure for c in fake.attempts("apps.connections.open")] == ["invalid_auth", None, None]
    assert len(fake.attempts("websocket")) == 2
    assert socket_messages(caplog) == [
        "Socket Mode connection failed (attempt 1): Slack said invalid_auth; trying again in 0.05 s",
        "Socket Mode connection failed (attempt 2): no WebSocket session was established; trying again in 0.1 s",
        "connected to Slack over Socket Mode (attempt 3)",
    ]
    assert not socket.running and not socket.connected
    assert handler is not None and handler.client.closed  # stopped: the connection is closed


def test_socket_mode_gives_up_after_a_bounded_number_of_attempts(
    socket_bot: SlackBot, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake.socket_refusals = 100
    socket = SocketModeConnector(
        lambda: socket_mode_handler(socket_bot), first_delay_s=0.05, max_delay_s=0.05, max_attempts=3
    )
    with caplog.at_level(logging.INFO, logger="service.slack"):
        socket.start()
        wait_until(lambda: not socket.running)
    assert socket.attempts == 3 and len(fake.attempts("websocket")) == 3
    assert not socket.connected
    assert "giving up" in socket_messages(caplog)[-1]


def test_socket_mode_failing_at_startup_is_logged_and_stops_with_the_app(
    built: IngestReport, fake: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.socket_refusals = 1000
    app = create_app(slack_settings(built, fake, tmp_path, slack_app_token=APP_TOKEN), background_load=False)
    with caplog.at_level(logging.INFO), TestClient(app):
        wait_until(lambda: any("connection failed" in m for m in socket_messages(caplog)))
        socket = app.state.slack.socket
        assert socket.running and not socket.connected  # waiting to try again, in the background
    stopped_at = len(fake.attempts("websocket"))
    assert not socket.running  # the app's shutdown stopped it, mid-wait
    said = [r.getMessage() for r in caplog.records]
    assert not any("connected to Slack over Socket Mode" in m for m in said)
    assert socket_messages(caplog)[0].startswith("Socket Mode connection failed (attempt 1): no WebSocket session")
    time.sleep(1.5)  # past the first retry's delay
    assert len(fake.attempts("websocket")) == stopped_at


# -- group direct messages ---------------------------------------------------------------------


def test_a_group_direct_message_is_answered_like_a_direct_message(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    event = message("how does dropout work", channel="G0000MPIM", channel_type="mpim")
    assert send(client, event_body(event, "EvMpim")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")
    assert (posted["channel"], posted["thread_ts"]) == ("G0000MPIM", event["ts"])
    assert_dropout_answer(posted["blocks"])
    fake.reset()
    follow_up = message("show me the code for it", channel="G0000MPIM", channel_type="mpim", thread_ts=event["ts"])
    fake.add_message("G0000MPIM", user="U0000USER", text=event["text"], ts=event["ts"])
    fake.add_message("G0000MPIM", user="U0000USER", text=follow_up["text"], ts=follow_up["ts"], thread_ts=event["ts"])
    assert send(client, event_body(follow_up, "EvMpimThread")).status_code == 200
    answer = only_answer(fake, bot, "chat.postMessage")
    assert answer["blocks"][0]["text"]["text"] == DROPOUT_TITLE  # the thread was its history
    assert [p["channel"] for p in fake.posts("conversations.replies")] == ["G0000MPIM"]


def test_a_mention_in_a_group_dm_is_answered_once(client: TestClient, bot: SlackBot, fake: FakeSlack) -> None:
    said = message(f"<@{BOT_USER}> explain bagging", channel="G0000MPIM", channel_type="mpim")
    as_mention = {k: v for k, v in said.items() if k != "channel_type"} | {"type": "app_mention"}
    assert send(client, event_body(as_mention, "EvMpimMention")).status_code == 200
    assert send(client, event_body(said, "EvMpimMessage")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")
    assert posted["blocks"][0]["text"]["text"] == "What is Ensemble Learning? Explain Bagging, Boosting, and Stacking"


# -- votes ---------------------------------------------------------------------------------------


def test_a_second_vote_by_the_same_user_changes_it_and_the_message_shows_it(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    state = client.app.state.qbank  # type: ignore[attr-defined]
    assert send(client, event_body(mention("how does dropout work"), "EvVote")).status_code == 200
    posted = only_answer(fake, bot, "chat.postMessage")["blocks"]
    value = button(posted, FEEDBACK_UP)["value"]
    message_ts = new_ts()
    before = len(state.feedback.all())

    def click(action_id: str, blocks: list[dict[str, Any]], user: str = "U0000USER") -> list[dict[str, Any]]:
        fake.reset()
        body = action_body(action_id, value, fake.response_url("vote"), message_ts=message_ts, blocks=blocks, user=user)
        assert send(client, body).status_code == 200
        fake.wait_for("response_url", count=2)
        settle(bot)
        return [c.payload for c in fake.answers()]

    def rest(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [b for b in blocks if b["type"] != "actions"]

    shown, thanks = click(FEEDBACK_UP, posted)
    assert shown["replace_original"] is True and "response_type" not in shown
    assert block_problems(shown["blocks"]) == [] and rest(shown["blocks"]) == rest(posted)
    assert button(shown["blocks"], FEEDBACK_UP)["style"] == "primary"
    assert "style" not in button(shown["blocks"], FEEDBACK_DOWN)
    assert button(shown["blocks"], EXPAND_ACTION) == button(posted, EXPAND_ACTION)
    assert (thanks["text"], thanks["response_type"]) == ("Thanks for the feedback!", "ephemeral")

    shown, thanks = click(FEEDBACK_DOWN, shown["blocks"])
    assert "style" not in button(shown["blocks"], FEEDBACK_UP)
    assert button(shown["blocks"], FEEDBACK_DOWN)["style"] == "primary"
    assert thanks["text"] == "Changed your vote to 👎."
    rows = state.feedback.all()[before:]
    assert [(r.user_id, r.helpful, r.message_id) for r in rows] == [("U0000USER", False, f"C0000ASK:{message_ts}")]

    shown, thanks = click(FEEDBACK_UP, shown["blocks"], user="U0000OTHER")  # someone else's vote is theirs
    assert thanks["text"] == "Thanks for the feedback!"
    assert button(shown["blocks"], FEEDBACK_UP)["style"] == "primary"  # the message shows the last vote
    rows = state.feedback.all()[before:]
    assert [(r.user_id, r.helpful) for r in rows] == [("U0000USER", False), ("U0000OTHER", True)]

    fake.reset()
    expand = action_body(EXPAND_ACTION, value, fake.response_url("x"), message_ts=message_ts, blocks=shown["blocks"])
    assert send(client, expand).status_code == 200
    full = only_answer(fake, bot, "response_url")["blocks"]
    assert block_problems(full) == []
    assert button(full, FEEDBACK_UP)["style"] == "primary"  # the vote shown stays shown, expanded


def test_without_a_public_url_links_point_where_slack_reached_us(
    built: IngestReport, fake: FakeSlack, tmp_path: Path
) -> None:
    settings = service_settings(
        built.path, tmp_path, slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=fake.api_url
    )
    assert not settings.public_url_set
    with TestClient(create_app(settings, background_load=False), base_url="https://qbank.example.org") as c:
        bot: SlackBot = c.app.state.slack  # type: ignore[attr-defined]
        fake.reset()
        assert send(c, command_body("how does dropout work", fake.response_url("link"))).status_code == 200
        blocks = json.dumps(only_answer(fake, bot, "response_url")["blocks"])
    assert "https://qbank.example.org/q/" in blocks and "localhost" not in blocks


def _payload(payload: object) -> tuple[str, str]:
    return urllib.parse.urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


WHO = {"user": {"id": "U0000USER", "team_id": "T0000TEAM"}, "team": {"id": "T0000TEAM"}}
COMMENT = {"type": "modal", "callback_id": "qbank_feedback_comment", "private_metadata": "{}"}
MALFORMED_SIGNED = {  # each with what bolt reads first, so that the part named is what is wrong
    "actions null": _payload({"type": "block_actions", **WHO, "actions": None}),
    "an action null": _payload({"type": "block_actions", **WHO, "actions": [None]}),
    "an action_id not a string": _payload({"type": "block_actions", **WHO, "actions": [{"action_id": 5}]}),
    "no user": _payload({"type": "block_actions", "actions": [{"action_id": "x"}]}),
    "view null": _payload({"type": "view_submission", **WHO, "view": None}),
    "a view without a type": _payload(
        {"type": "view_submission", **WHO, "view": {"callback_id": "x", "private_metadata": "{"}}
    ),
    "a view's state not of inputs": _payload({"type": "view_submission", **WHO, "view": COMMENT | {"state": "x"}}),
    "a view's inputs not objects": _payload(
        {"type": "view_submission", **WHO, "view": COMMENT | {"state": {"values": {"qbank_reason_input": []}}}}
    ),
    "no type": _payload({"actions": []}),
    "an event null": (json.dumps({"type": "event_callback", "event": None}), "application/json"),
    "an event's text not a string": (
        json.dumps({"type": "event_callback", "event": {"type": "message", "text": 5, "user": "U1", "ts": "1.0"}}),
        "application/json",
    ),
    "a command's text not a string": (json.dumps({"command": "/ask", "text": 5}), "application/json"),
    "JSON nested 5,000 deep": ("[" * 5000 + "]" * 5000, "application/json"),
}


@pytest.mark.parametrize("body", MALFORMED_SIGNED.values(), ids=MALFORMED_SIGNED.keys())
def test_a_signed_payload_of_the_wrong_shape_is_a_400_not_a_500(client: TestClient, body: tuple[str, str]) -> None:
    """Signed, so from Slack (or a bug of it): bolt's middleware raised on each and answered 500 (attack run)."""
    r = send(client, body)
    assert r.status_code == 400, (r.status_code, r.text[:200])


def test_a_long_question_read_back_from_our_buttons_is_not_a_second_turn() -> None:
    """A button carries each turn cut to 500 characters: a question of 690 came back as
    another turn of its first 500 (second reader)."""
    question = "why does my model" + " overfit" * 84
    ref = AnswerRef(DROPOUT_ID, question, (question,))
    ours = {"ts": "2.0", "user": BOT_USER, "bot_id": BOT_ID, "text": "…", "blocks": [actions(None, ref)]}
    theirs = {"ts": "1.0", "user": "U0000USER", "text": question}
    turns = thread_history([theirs, ours], "3.0", BOT_USER, BOT_ID)
    assert [role for role, _ in turns] == ["user", "assistant"] and turns[0][1] == question


def test_a_thread_message_with_nothing_to_read_does_not_fail_the_answers_after_it(
    client: TestClient, bot: SlackBot, fake: FakeSlack
) -> None:
    """ "\u200b" is no turn: kept in the history, every later answer in the thread failed (second reader)."""
    (first,) = thread_conversation(client, bot, fake, "how does dropout work")
    thread_ts = first["thread_ts"]
    blank = message("\u200b", channel="C0000CHAN", channel_type="channel", thread_ts=thread_ts)
    fake.add_message("C0000CHAN", user="U0000USER", text="\u200b", ts=blank["ts"], thread_ts=thread_ts)
    code = message("show me the code", channel="C0000CHAN", channel_type="channel", thread_ts=thread_ts)
    fake.add_message("C0000CHAN", user="U0000USER", text="show me the code", ts=code["ts"], thread_ts=thread_ts)
    before = len(fake.posts("chat.postMessage"))
    assert send(client, event_body(code, "EvAfterBlank")).status_code == 200
    posted = fake.wait_for("chat.postMessage", count=before + 1)[-1]
    settle(bot)
    assert posted["blocks"][0]["text"]["text"] == DROPOUT_TITLE


def test_a_pick_of_the_questions_hi_offered_is_composed_again_by_its_buttons(client: TestClient) -> None:
    """The buttons kept the turns the resolver reads, without the "hi" whose questions the pick
    picks from: "Show full answer" searched "the first one" and was refused (second reader)."""
    composer = client.app.state.qbank.engine.composer  # type: ignore[attr-defined]
    said = ["hi", "the first one", "why?"]
    full = composer.compose([("user", s) for s in said])
    kept = turns_kept(said)
    again = composer.compose([("user", s) for s in kept])
    assert kept == said and not full.abstained and again.record is full.record
    assert turns_kept(["what is dropout", "thanks", "show me the code"]) == ["what is dropout", "show me the code"]
