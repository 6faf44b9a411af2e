"""👎 asks why, in Slack (#17): the thanks for a 👎 offers the four reasons and a
comment form; a reason, or a comment sent from the form, replaces the user's
👎 on that message (one vote, never a second).  Signed requests to the app
through its lifespan, votes read back from the real store; Slack's Web API
(``views.open``, the ``response_url``) faked at the transport
(``slack_support.FakeSlack``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from slack_support import (
    DROPOUT_ID,
    FakeSlack,
    action_body,
    api_error,
    block_problems,
    blocks_of,
    button,
    command_body,
    event_body,
    mention,
    new_ts,
    only_answer,
    running_fake,
    send,
    settle,
    slack_settings,
    view_submission_body,
)

from index.engine import IngestReport
from service.app import create_app
from service.feedback import REASONS
from service.slack import SlackBot
from service.slack.buttons import FEEDBACK_DOWN, FEEDBACK_UP
from service.slack.reasons import (
    COMMENT_ACTION,
    COMMENT_FIELD,
    COMMENT_INPUT,
    COMMENT_VIEW,
    REASON_ACTIONS,
    REASON_BLOCK,
    REASON_INPUT,
    REASON_SELECT,
    VoteRef,
)
from service.state import ServiceState


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with running_fake() as slack:
        yield slack


@pytest.fixture(autouse=True)
def _clean_fake(fake: FakeSlack) -> None:
    fake.reset()


@pytest.fixture(scope="module")
def client(built: IngestReport, fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = slack_settings(built, fake, tmp_path_factory.mktemp("slack-reasons"), slack_reminder_every_s=3600)
    with TestClient(create_app(settings, background_load=False)) as c:
        yield c


@pytest.fixture
def bot(client: TestClient) -> SlackBot:
    b: SlackBot = client.app.state.slack  # type: ignore[attr-defined]
    return b


@pytest.fixture
def state(client: TestClient) -> ServiceState:
    s: ServiceState = client.app.state.qbank  # type: ignore[attr-defined]
    return s


def answer_in_thread(client: TestClient, bot: SlackBot, fake: FakeSlack) -> list[dict[str, Any]]:
    """A mention answered in a thread: the answer's blocks, as posted."""
    assert send(client, event_body(mention("how does dropout work"), f"Ev{new_ts()}")).status_code == 200
    blocks: list[dict[str, Any]] = only_answer(fake, bot, "chat.postMessage")["blocks"]
    return blocks


def press(
    client: TestClient,
    bot: SlackBot,
    fake: FakeSlack,
    action_id: str,
    value: str,
    message_ts: str,
    user: str,
    blocks: list[dict[str, Any]] | None = None,
    block_id: str = "qbank_actions",
    ephemeral: bool = False,
) -> list[dict[str, Any]]:
    """Click a button; what the bot said back (through the response_url, or a view it opened)."""
    fake.reset()
    body = action_body(
        action_id,
        value,
        fake.response_url(f"r-{new_ts()}"),
        message_ts=message_ts,
        blocks=blocks,
        user=user,
        block_id=block_id,
        ephemeral=ephemeral,
    )
    assert send(client, body).status_code == 200
    settle(bot)
    return [c.payload for c in fake.calls if c.failure is None and c.method != "auth.test"]


def votes(state: ServiceState, message_id: str) -> list[tuple[str | None, bool, str | None, str | None]]:
    return [(r.user_id, r.helpful, r.reason, r.comment) for r in state.feedback.all() if r.message_id == message_id]


def down_then_why(
    client: TestClient, bot: SlackBot, fake: FakeSlack, user: str
) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """A 👎 on a fresh answer: its message id, the thanks asking why, and the answer's blocks."""
    posted = answer_in_thread(client, bot, fake)
    message_ts = new_ts()
    shown, thanks = press(
        client, bot, fake, FEEDBACK_DOWN, button(posted, FEEDBACK_DOWN)["value"], message_ts, user, posted
    )
    assert shown["replace_original"] is True  # the vote shown on the message, as before
    return f"C0000ASK:{message_ts}", thanks, posted


def test_a_thumbs_down_asks_why_and_a_reason_replaces_the_vote(
    client: TestClient, bot: SlackBot, fake: FakeSlack, state: ServiceState
) -> None:
    message_id, thanks, _ = down_then_why(client, bot, fake, "U0000WHY1")
    assert (thanks["text"], thanks["response_type"], thanks["replace_original"]) == (
        "Thanks for the feedback!",
        "ephemeral",
        False,
    )
    blocks = thanks["blocks"]
    assert block_problems(blocks) == []
    assert blocks[0]["text"]["text"] == "Thanks for the feedback! What was wrong with it? Pick one, or add a comment."
    (actions,) = blocks_of("actions", blocks)
    assert actions["block_id"] == REASON_BLOCK
    assert [e["text"]["text"] for e in actions["elements"]] == [*REASONS.values(), "Add a comment…"]
    value = json.loads(actions["elements"][0]["value"])
    assert (value["question_id"], value["query"], value["message"]) == (DROPOUT_ID, "how does dropout work", message_id)
    assert votes(state, message_id) == [("U0000WHY1", False, None, None)]
    counted = state.metrics.feedback.labels("slack", "false")._value.get()

    incomplete = actions["elements"][1]
    (noted,) = press(
        client,
        bot,
        fake,
        REASON_ACTIONS["incomplete"],
        incomplete["value"],
        new_ts(),
        "U0000WHY1",
        block_id=REASON_BLOCK,
        ephemeral=True,
    )
    assert noted["replace_original"] is True and noted["text"] == "Thanks: noted as “Incomplete”."
    (left,) = blocks_of("actions", noted["blocks"])
    assert [e["action_id"] for e in left["elements"]] == [COMMENT_ACTION]
    assert votes(state, message_id) == [("U0000WHY1", False, "incomplete", None)]  # the same vote, now with why

    outdated = actions["elements"][2]  # changing one's mind: still one vote
    press(
        client,
        bot,
        fake,
        REASON_ACTIONS["outdated"],
        outdated["value"],
        new_ts(),
        "U0000WHY1",
        block_id=REASON_BLOCK,
        ephemeral=True,
    )
    assert votes(state, message_id) == [("U0000WHY1", False, "outdated", None)]
    assert state.metrics.feedback.labels("slack", "false")._value.get() == counted  # a reason is not a second 👎


def test_a_thumbs_up_is_thanked_without_asking_why(
    client: TestClient, bot: SlackBot, fake: FakeSlack, state: ServiceState
) -> None:
    posted = answer_in_thread(client, bot, fake)
    _, thanks = press(
        client, bot, fake, FEEDBACK_UP, button(posted, FEEDBACK_UP)["value"], new_ts(), "U0000WHY2", posted
    )
    assert thanks["text"] == "Thanks for the feedback!" and "blocks" not in thanks


def comment_form(
    client: TestClient, bot: SlackBot, fake: FakeSlack, value: str, user: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Press *Add a comment…*: the views.open call it made, and the modal."""
    said = press(client, bot, fake, COMMENT_ACTION, value, new_ts(), user, block_id=REASON_BLOCK, ephemeral=True)
    (opened,) = said
    assert fake.posts("views.open") == [opened]
    return opened, opened["view"]


def submit(
    client: TestClient,
    bot: SlackBot,
    fake: FakeSlack,
    view: dict[str, Any],
    reason: str | None,
    comment: str,
    user: str,
) -> httpx.Response:
    selected = None if reason is None else {"text": {"type": "plain_text", "text": REASONS[reason]}, "value": reason}
    values = {
        REASON_INPUT: {REASON_SELECT: {"type": "static_select", "selected_option": selected}},
        COMMENT_INPUT: {COMMENT_FIELD: {"type": "plain_text_input", "value": comment}},
    }
    fake.reset()
    response = send(client, view_submission_body(view, values, user=user))
    assert response.status_code == 200
    settle(bot)
    return response


def test_a_comment_is_sent_from_a_form_and_replaces_the_vote_once_more(
    client: TestClient, bot: SlackBot, fake: FakeSlack, state: ServiceState
) -> None:
    user = "U0000WHY3"
    message_id, thanks, _ = down_then_why(client, bot, fake, user)
    (actions,) = blocks_of("actions", thanks["blocks"])
    (noted,) = press(
        client,
        bot,
        fake,
        REASON_ACTIONS["wrong_question"],
        actions["elements"][0]["value"],
        new_ts(),
        user,
        block_id=REASON_BLOCK,
        ephemeral=True,
    )
    comment_value = blocks_of("actions", noted["blocks"])[0]["elements"][0]["value"]

    opened, view = comment_form(client, bot, fake, comment_value, user)
    assert opened["trigger_id"].startswith("1.2.")  # the click's own
    assert view["callback_id"] == COMMENT_VIEW
    select = view["blocks"][0]["element"]
    assert select["initial_option"]["value"] == "wrong_question"  # the reason picked, already chosen
    assert [o["value"] for o in select["options"]] == list(REASONS)
    meta = json.loads(view["private_metadata"])
    assert meta["response_url"].startswith(fake.response_url("r-"))

    response = submit(
        client, bot, fake, view, "wrong_question", "It answered dropout in general, I asked about CNNs", user
    )
    assert response.text == ""  # the modal closes
    assert votes(state, message_id) == [
        (user, False, "wrong_question", "It answered dropout in general, I asked about CNNs")
    ]
    (said,) = fake.answers()
    assert said.payload["_path"] == meta["response_url"].removeprefix(fake.base)  # the thanks, replaced
    assert said.payload["replace_original"] is True
    assert said.payload["text"] == "Thanks: noted as “Answered a different question”, with your comment."


def down_then_comment_form(client: TestClient, bot: SlackBot, fake: FakeSlack, user: str) -> tuple[str, dict[str, Any]]:
    """A 👎, then "Add a comment…": the vote's message id and the form opened."""
    message_id, thanks, _ = down_then_why(client, bot, fake, user)
    comment = blocks_of("actions", thanks["blocks"])[0]["elements"][-1]
    _, view = comment_form(client, bot, fake, comment["value"], user)
    return message_id, view


def test_a_comment_without_a_reason_is_other_and_an_empty_one_keeps_the_form_open(
    client: TestClient, bot: SlackBot, fake: FakeSlack, state: ServiceState
) -> None:
    user = "U0000WHY4"
    message_id, view = down_then_comment_form(client, bot, fake, user)
    assert "initial_option" not in view["blocks"][0]["element"]

    refused = submit(client, bot, fake, view, None, "   ", user)
    assert refused.json() == {
        "response_action": "errors",
        "errors": {COMMENT_INPUT: "The comment is empty; say what was wrong"},
    }
    assert votes(state, message_id) == [(user, False, None, None)] and fake.answers() == []

    submit(client, bot, fake, view, None, "The code uses the old API", user)
    assert votes(state, message_id) == [(user, False, "other", "The code uses the old API")]


def test_a_vote_ref_with_a_reason_of_the_wrong_type_has_none() -> None:
    """An unhashable reason raised TypeError in a button's handler: a 500 (second reader)."""
    ref = VoteRef.parse(json.dumps({"question_id": "x", "message": "m", "reason": []}))
    assert ref is not None and ref.reason is None


def test_a_form_whose_metadata_is_not_ours_asks_to_vote_again(
    client: TestClient, bot: SlackBot, fake: FakeSlack, state: ServiceState
) -> None:
    """A submission whose private_metadata is not the JSON the bot wrote (the attack run sent "{")."""
    user = "U0000WHY9"
    message_id, view = down_then_comment_form(client, bot, fake, user)
    refused = submit(client, bot, fake, view | {"private_metadata": "{"}, "outdated", "The code is old", user)
    assert refused.json()["response_action"] == "errors"
    assert "This form no longer works" in json.dumps(refused.json())
    assert votes(state, message_id) == [(user, False, None, None)]


def test_a_private_ask_answer_gets_the_same_question_after_a_thumbs_down(
    client: TestClient, bot: SlackBot, fake: FakeSlack, state: ServiceState
) -> None:
    assert send(client, command_body("how does dropout work", fake.response_url("ask"))).status_code == 200
    value = button(only_answer(fake, bot, "response_url")["blocks"], FEEDBACK_DOWN)["value"]
    message_ts = new_ts()
    (thanks,) = press(client, bot, fake, FEEDBACK_DOWN, value, message_ts, "U0000WHY5", ephemeral=True)
    (actions,) = blocks_of("actions", thanks["blocks"])
    press(
        client,
        bot,
        fake,
        REASON_ACTIONS["other"],
        actions["elements"][3]["value"],
        new_ts(),
        "U0000WHY5",
        block_id=REASON_BLOCK,
        ephemeral=True,
    )
    assert votes(state, f"C0000ASK:{message_ts}") == [("U0000WHY5", False, "other", None)]


def test_a_form_slack_would_not_open_is_said_and_a_stale_reason_is_not_stored(
    client: TestClient, bot: SlackBot, fake: FakeSlack, state: ServiceState
) -> None:
    _, thanks, _ = down_then_why(client, bot, fake, "U0000WHY6")
    comment = blocks_of("actions", thanks["blocks"])[0]["elements"][-1]
    fake.reset()
    fake.fail("views.open", api_error("expired_trigger_id"))
    body = action_body(
        COMMENT_ACTION,
        comment["value"],
        fake.response_url("late"),
        user="U0000WHY6",
        block_id=REASON_BLOCK,
        ephemeral=True,
    )
    assert send(client, body).status_code == 200
    settle(bot)
    (told,) = fake.answers()
    assert told.payload["text"] == "Sorry, the comment form didn't open; press *Add a comment…* again."

    gone = json.dumps({"question_id": "no-such-question", "query": "q", "message": "C0000ASK:1.2"})
    before = len(state.feedback.all())
    (said,) = press(
        client,
        bot,
        fake,
        REASON_ACTIONS["incomplete"],
        gone,
        new_ts(),
        "U0000WHY6",
        block_id=REASON_BLOCK,
        ephemeral=True,
    )
    assert said["text"] == "Sorry, I couldn't note that: unknown question_id 'no-such-question'"
    assert len(state.feedback.all()) == before


def test_a_reason_clicked_after_the_vote_became_a_thumbs_up_leaves_the_thumbs_up(
    client: TestClient, bot: SlackBot, fake: FakeSlack, state: ServiceState
) -> None:
    """👎, then 👍 on the same answer, then a reason in the earlier private
    thanks: the 👍 stands, and the reply says why the reason was not noted."""
    message_id, thanks, posted = down_then_why(client, bot, fake, "U0000WHY9")
    message_ts = message_id.split(":", 1)[1]
    press(client, bot, fake, FEEDBACK_UP, button(posted, FEEDBACK_UP)["value"], message_ts, "U0000WHY9", posted)
    assert votes(state, message_id) == [("U0000WHY9", True, None, None)]
    (actions,) = blocks_of("actions", thanks["blocks"])
    said = press(
        client,
        bot,
        fake,
        REASON_ACTIONS["incomplete"],
        actions["elements"][1]["value"],
        new_ts(),
        "U0000WHY9",
        block_id=REASON_BLOCK,
        ephemeral=True,
    )
    assert votes(state, message_id) == [("U0000WHY9", True, None, None)]
    assert any("your vote on this answer is 👍 now" in json.dumps(p, ensure_ascii=False) for p in said)
