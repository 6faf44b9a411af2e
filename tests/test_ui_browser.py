"""The chat UI in real headless Chromium against a real ``qbank serve``.

Every test runs with a fresh browser context and fails on any console error or
uncaught page error.  Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import ARTIFACTS, CHROMIUM, chromium
from server_support import Server, qbank_server
from service_support import CONTENT, FAKE_MARKDOWN, MARKDOWN_MARKS, FakeOpenAI, in_pieces

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: run `make setup-test`"),
]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

PRF1 = "machine-learning--explain-precision-recall-and-f1-score"
PRF1_TITLE = "Explain Precision, Recall, and F1-Score"
BIAS_VARIANCE = "machine-learning--what-is-the-bias-variance-tradeoff-in-machine-learning"
BIAS_VARIANCE_TITLE = "What is the Bias-Variance Tradeoff in Machine Learning?"
IMBALANCED_TITLES = {
    "What is Imbalanced Data? How Do You Handle It in Classification?",
    "How Do You Handle Imbalanced Datasets?",
}
XSS = "<img src=x onerror=alert(1)>"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 375, "height": 740}
ANSWER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with qbank_server(built.path, tmp_path_factory.mktemp("ui-server"), content_dir=CONTENT) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


class PageErrors:
    """Console errors, uncaught exceptions and JavaScript dialogs seen by a page."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.dialogs: list[str] = []

    def watch(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


@pytest.fixture
def errors() -> PageErrors:
    return PageErrors()


def _new_page(browser, server: Server, errors: PageErrors, viewport: dict[str, int], **context_args):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport, base_url=server.base_url, **context_args)
    page = context.new_page()
    errors.watch(page)
    return context, page


@pytest.fixture
def page(browser, server: Server, errors: PageErrors) -> Iterator[object]:
    context, pg = _new_page(browser, server, errors, DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    yield pg
    context.close()
    assert errors.console == [], f"console errors: {errors.console}"
    assert errors.dialogs == [], f"unexpected dialogs (script ran?): {errors.dialogs}"


def ask(page, text: str):  # type: ignore[no-untyped-def]
    """Type a question, press Enter, and wait until its answer is complete."""
    n = page.locator(".msg.assistant").count()
    box = page.locator("#message")
    box.fill(text)
    box.press("Enter")
    answer = page.locator(".msg.assistant").nth(n)
    expect(answer).to_be_visible()
    expect(answer).not_to_have_attribute("aria-busy", "true", timeout=ANSWER_TIMEOUT_MS)
    return answer


def title_of(answer) -> str:  # type: ignore[no-untyped-def]
    return str(answer.locator(".answer h3").first.inner_text()).strip()


def test_streamed_answer_has_title_highlighted_code_formula_and_working_sources(page, server: Server) -> None:
    page.goto("/")
    with page.expect_response("**/api/chat/stream") as streamed:
        answer = ask(page, "explain precision recall and f1")
    response = streamed.value
    assert response.headers["content-type"].startswith("text/event-stream")
    events = re.findall(r"^event: (\w+)$", response.text(), flags=re.M)
    assert events[0] == "sources" and events[-1] == "done"
    assert set(events[1:-1]) == {"block"} and len(events) > 6  # the page asks for rendered blocks, not markdown

    expect(page.locator(".msg.user .bubble")).to_have_text("explain precision recall and f1")
    assert title_of(answer) == PRF1_TITLE
    expect(page.locator("#announce")).to_have_text(f"Answer ready: {PRF1_TITLE}")  # for screen readers
    code = answer.locator(".answer .code").first
    expect(code.locator(".code-head .lang")).to_have_text("python")
    expect(code.locator("button.copy")).to_have_text("Copy")
    assert code.locator("pre.highlight span.kn").count() > 0  # Pygments tokens: `from ... import`
    assert code.locator("pre.highlight span.nn", has_text="sklearn.metrics").count() == 1
    assert answer.locator(".answer math mfrac").count() >= 1  # e.g. Precision = TP / (TP + FP)
    precision = answer.locator(".answer math").first.bounding_box()
    assert precision is not None and precision["height"] > 20  # laid out as a fraction, not raw TeX

    links = answer.locator(".sources li a")
    assert links.count() >= 2
    expect(links.first).to_have_text(PRF1_TITLE)
    expect(answer.locator(".sources li").first.locator(".badge.difficulty")).to_have_text("Medium")
    expect(answer.locator(".sources li").first.locator(".companies")).to_contain_text("Google")
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href")
        assert href is not None and href.startswith("/q/")
        assert page.request.get(href).status == 200, href
    with page.context.expect_page() as opened:
        links.first.click()
    question = opened.value
    question.wait_for_load_state()
    assert question.url == f"{server.base_url}/q/{PRF1}"
    expect(question.locator("h1")).to_have_text(PRF1_TITLE)
    question.close()


def test_an_example_question_is_answered_by_the_question_it_names(page) -> None:
    """The examples come from the banks present: each is the title of an answer."""
    page.goto("/")
    chip = page.locator("#empty button.example").first
    example = str(chip.inner_text()).strip()
    chip.click()
    answer = page.locator(".msg.assistant").first
    expect(answer).not_to_have_attribute("aria-busy", "true", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#empty")).to_be_hidden()
    assert title_of(answer) == example


def test_class_imbalance_shows_the_imbalanced_data_answer_with_smote_highlighted(page) -> None:
    page.goto("/")
    answer = ask(page, "How do I handle class imbalance?")
    assert title_of(answer) in IMBALANCED_TITLES
    code = answer.locator(".answer .code").first
    expect(code.locator(".lang")).to_have_text("python")
    assert code.locator("pre.highlight span", has_text=re.compile(r"^SMOTE$")).count() >= 2


def test_follow_up_is_answered_from_the_first_turn(page) -> None:
    page.goto("/")
    first = ask(page, "Explain the bias-variance tradeoff")
    assert title_of(first) == BIAS_VARIANCE_TITLE
    follow_up = ask(page, "how do I fix it?")
    assert title_of(follow_up) == BIAS_VARIANCE_TITLE
    expect(follow_up.locator(".rewritten")).to_contain_text("bias-variance")

    # The same words in a new conversation have nothing to refer to.
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".msg")).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    alone = ask(page, "how do I fix it?")
    expect(alone.locator(".abstain-note")).to_be_visible()


def test_thanks_gets_a_short_reply_and_the_next_follow_up_keeps_the_topic(page) -> None:
    page.goto("/")
    ask(page, "Explain the bias-variance tradeoff")
    thanks = ask(page, "thanks!")
    expect(thanks.locator(".answer")).to_contain_text("You're welcome.")
    expect(thanks.locator(".answer")).to_contain_text(BIAS_VARIANCE_TITLE)
    assert thanks.locator(".abstain-note").count() == 0 and thanks.locator(".rewritten").count() == 0
    assert thanks.locator(".answer h3").count() == 0 and thanks.locator(".feedback").count() == 0
    expect(page.locator("#announce")).to_contain_text("You're welcome.")
    follow_up = ask(page, "how do I fix it?")
    assert title_of(follow_up) == BIAS_VARIANCE_TITLE


def test_the_second_tab_skips_every_earlier_answer_to_the_question_box(page) -> None:
    """After a long company list, Tab went through every link of every answer first (tester finding)."""
    page.goto("/")
    ask(page, "what does Google ask?")
    expect(page.locator(".msg.assistant a[href^='/q/']").nth(50)).to_be_attached()
    page.locator("a.skip").first.focus()  # the page's first stop, "Skip to content"
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to the question box")
    expect(skip).to_be_visible()  # shown while focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the skip target is the box: the next Tab leaves it
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#message")).to_be_focused()


def test_copy_button_copies_the_code(page) -> None:
    page.goto("/")
    answer = ask(page, "explain precision recall and f1")
    code = answer.locator(".answer .code").first
    expected = str(code.locator("pre code").text_content()).rstrip("\n")
    code.locator("button.copy").click()
    expect(code.locator("button.copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == expected
    assert expected.startswith("from sklearn.metrics import (")


def test_filters_show_as_chips_above_the_composer_and_removing_one_stops_narrowing(page) -> None:
    page.goto("/")
    chips = page.locator("#filter-chips")
    expect(chips).to_be_hidden()
    page.locator("#filters summary").click()
    difficulty = page.locator("#filter-form select[name=difficulty]")
    expect(difficulty.locator("option")).to_have_count(4)  # "any" + Easy/Medium/Hard, rendered by the server
    assert page.locator("#filter-form select[name=company] option[value=Google]").count() == 1
    difficulty.select_option("Hard")
    expect(page.locator("#filter-count")).to_have_text("1 active")
    page.locator("#filters summary").click()  # closed: the filter still shows, above the composer
    chip = chips.get_by_role("button", name="Remove filter Difficulty: Hard")
    expect(chip).to_be_visible()
    expect(chip).to_have_text("Difficulty: Hard×")
    with page.expect_request("**/api/chat/stream") as sent:
        answer = ask(page, "how do I handle class imbalance?")
    assert json.loads(sent.value.post_data or "{}")["filters"] == {"difficulty": "Hard"}
    assert title_of(answer) == "How Do You Handle Imbalanced Datasets?"
    badges = answer.locator(".sources .badge.difficulty").all_inner_texts()
    assert badges and set(badges) == {"Hard"}
    expect(answer.locator(".used-filters")).to_have_text("Filtered to: Difficulty Hard")

    # Removed from the keyboard: Shift+Tab from the composer reaches the chip, Enter removes it.
    page.locator("#message").focus()
    page.keyboard.press("Shift+Tab")
    expect(chip).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # focus is visible
    page.keyboard.press("Enter")
    expect(chips).to_be_hidden()
    expect(page.locator("#message")).to_be_focused()
    assert difficulty.input_value() == ""
    with page.expect_request("**/api/chat/stream") as sent:
        unfiltered = ask(page, "how do I handle class imbalance?")
    assert json.loads(sent.value.post_data or "{}")["filters"] is None
    assert unfiltered.locator(".used-filters").count() == 0
    assert set(unfiltered.locator(".sources .badge.difficulty").all_inner_texts()) - {"Hard"}  # no longer only Hard


def test_thumbs_post_feedback_that_is_stored(page, server: Server) -> None:
    page.goto("/")
    answer = ask(page, "explain precision recall and f1")
    with page.expect_response("**/api/feedback") as posted:
        answer.get_by_role("button", name="Helpful", exact=True).click()
    assert posted.value.status == 201
    expect(answer.locator(".feedback-status")).to_have_text("Thanks for the feedback.")
    expect(answer.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")
    second = ask(page, "Explain the bias-variance tradeoff")
    with page.expect_response("**/api/feedback"):
        second.get_by_role("button", name="Not helpful").click()
    expect(second.locator(".feedback-status")).to_have_text("Thanks for the feedback.")

    # 👎 asks why, keyboard first: the first reason has the focus; Send with nothing chosen says what to do
    why = second.get_by_role("group", name="What was wrong with it?")
    expect(why.get_by_role("radio", name="Answered a different question")).to_be_focused()
    why.get_by_role("button", name="Send reason").click()
    expect(why.get_by_role("alert")).to_have_text("Pick a reason or write a comment, or press Skip.")
    why.get_by_role("radio", name="Incomplete").check()
    why.get_by_role("textbox", name="Comment").fill("no mention of double descent")
    with page.expect_response("**/api/feedback") as reasoned:
        why.get_by_role("button", name="Send reason").click()
    assert reasoned.value.status == 201 and reasoned.value.json()["replaced"] is True
    expect(second.locator(".feedback-status")).to_have_text('Thanks: noted as "Incomplete".')
    expect(why).to_have_count(0)
    expect(second.locator(".feedback-status")).to_be_focused()  # the keyboard is not dropped with the form

    with sqlite3.connect(server.database_path) as db:
        rows = db.execute(
            "SELECT question_id, helpful, source, query, message_id, reason, comment, user_id"
            " FROM feedback ORDER BY id DESC LIMIT 2"
        ).fetchall()
    assert [r[:4] for r in rows] == [
        (BIAS_VARIANCE, 0, "web", "Explain the bias-variance tradeoff"),
        (PRF1, 1, "web", "explain precision recall and f1"),
    ]
    assert all(re.fullmatch(r"[0-9a-f]{32}", r[4]) for r in rows)
    assert rows[0][5:7] == ("incomplete", "no mention of double descent")  # the 👎 itself, with its reason
    assert rows[0][7] and rows[0][7] == rows[1][7]  # both votes are this browser's learner's


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}])
def test_the_reason_panel_opens_above_the_composer_not_under_it(
    browser, server: Server, errors: PageErrors, viewport: dict[str, int]
) -> None:
    """A 👎 pressed with the keyboard on the last answer: the panel, with the focused first
    reason, is scrolled clear of the sticky question box, on a phone too."""
    context, pg = _new_page(browser, server, errors, viewport)
    pg.goto("/")
    answer = ask(pg, "explain bagging")
    thumbs = answer.get_by_role("button", name="Not helpful")
    thumbs.focus()
    with pg.expect_response("**/api/feedback"):
        pg.keyboard.press("Enter")
    why = answer.get_by_role("group", name="What was wrong with it?")
    first = why.get_by_role("radio", name="Answered a different question")
    expect(first).to_be_focused()
    pg.wait_for_timeout(300)  # a smooth scroll, if any, has settled
    composer_top = pg.locator(".composer-bar").bounding_box()["y"]
    panel = answer.locator(".feedback-reason").bounding_box()
    assert panel["y"] + panel["height"] <= composer_top + 1, (panel, composer_top)
    box = first.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert pg.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('.feedback-reason') !== null", centre)
    context.close()


def test_a_vote_can_be_changed_and_is_shown_again_after_a_reload(page, server: Server) -> None:
    page.goto("/")
    answer = ask(page, "what is cross validation")
    up = answer.get_by_role("button", name="Helpful", exact=True)
    down = answer.get_by_role("button", name="Not helpful")
    with page.expect_response("**/api/feedback"):
        up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_be_enabled()  # not locked in: the vote can still change
    with page.expect_response("**/api/feedback") as changed:
        down.click()
    assert changed.value.json()["replaced"] is True  # one vote per learner and message, the last
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    why = answer.get_by_role("group", name="What was wrong with it?")
    expect(why).to_be_visible()
    why.get_by_role("button", name="Skip").click()

    page.reload()
    restored = page.locator(".msg.assistant").first
    expect(restored.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")
    expect(restored.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "false")
    with sqlite3.connect(server.database_path) as db:
        (helpful,) = db.execute("SELECT helpful FROM feedback WHERE query = 'what is cross validation'").fetchall()
    assert helpful == (0,)


def test_off_topic_question_abstains_and_offers_what_it_can_help_with(page) -> None:
    page.goto("/")
    answer = ask(page, "what is the capital of France?")
    expect(answer.locator(".abstain-note")).to_have_text("Not covered by the question bank")
    expect(answer.locator(".answer")).to_contain_text("I couldn't find that in the question banks I cover")
    assert answer.locator(".sources").count() == 0 and answer.locator(".feedback").count() == 0
    chips = answer.locator(".answer button.example")
    assert chips.count() >= 3
    example = str(chips.first.inner_text()).strip()
    chips.first.click()
    follow = page.locator(".msg.assistant").nth(1)
    expect(follow).not_to_have_attribute("aria-busy", "true", timeout=ANSWER_TIMEOUT_MS)
    assert title_of(follow) == example


def test_a_company_lists_buttons_ask_in_the_chat_and_the_list_goes_on(page) -> None:
    """The list offered no way to ask in the chat; then its buttons asked a title that lost the
    list, and showed bullets (tester findings)."""
    page.goto("/")
    listed = ask(page, "what does Uber ask?")
    chips = listed.locator(".answer ul.asks button.example")
    assert chips.count() >= 2
    assert listed.locator(".answer ul.asks li").first.evaluate("li => getComputedStyle(li).listStyleType") == "none"
    picked_title = str(
        chips.nth(1).inner_text()
    ).strip()  # the first question of the list ("Which of those are hard?" is first)
    chips.nth(1).focus()
    page.keyboard.press("Enter")
    picked = page.locator(".msg.assistant").nth(1)
    expect(picked).not_to_have_attribute("aria-busy", "true", timeout=ANSWER_TIMEOUT_MS)
    assert title_of(picked) == picked_title
    following = ask(page, "next one")
    assert title_of(following) == str(chips.nth(2).inner_text()).strip()


def test_xss_probe_is_shown_as_text(page) -> None:
    page.goto("/")
    answer = ask(page, XSS)
    expect(page.locator(".msg.user .bubble")).to_have_text(XSS)
    expect(answer.locator(".abstain-note")).to_be_visible()
    assert page.locator("img").count() == 0
    page.goto("/browse?q=" + XSS.replace(" ", "+"))
    expect(page.locator(".count")).to_contain_text(XSS)
    assert page.locator("#browse-q").input_value() == XSS
    assert page.locator("img").count() == 0


def test_keyboard_shift_enter_new_line_and_stop_button(page) -> None:
    page.goto("/")
    box = page.locator("#message")
    expect(box).to_be_focused()
    box.type("first line")
    box.press("Shift+Enter")
    box.type("second line")
    assert box.input_value() == "first line\nsecond line"
    assert page.locator(".msg").count() == 0

    held = []
    page.route("**/api/chat/stream", lambda route: held.append(route))  # never answered: stays in flight
    box.press("Enter")
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    expect(page.locator("#send")).to_be_hidden()
    stop.click()
    answer = page.locator(".msg.assistant").first
    expect(answer.locator(".status-line")).to_have_text("Stopped.")
    expect(page.locator("#send")).to_be_visible()
    expect(box).to_be_focused()
    assert len(held) == 1
    page.unroute("**/api/chat/stream")


def test_a_double_click_on_send_asks_once_and_does_not_stop_it(page) -> None:
    """Stop takes Send's place while an answer streams: the second click of a
    double-click must not cancel the question the first click sent."""
    page.goto("/")
    page.locator("#message").fill("what is dropout")
    page.locator("#send").dblclick()
    answer = page.locator(".msg.assistant").first
    expect(answer).not_to_have_attribute("aria-busy", "true", timeout=ANSWER_TIMEOUT_MS)
    expect(answer).not_to_contain_text("Stopped.")
    assert "Dropout" in title_of(answer)
    assert page.locator(".msg.user").count() == 1


def test_the_api_docs_render_the_operations_and_try_one(page) -> None:
    """Swagger UI must read FastAPI's OpenAPI 3.1 document (Swagger UI 3 could not:
    "Unable to render this definition")."""
    page.goto("/docs")
    operation = page.locator(".opblock-summary-path", has_text="/api/search").first
    expect(operation).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("body")).not_to_contain_text("Unable to render this definition")
    assert page.locator(".opblock").count() >= 15
    page.locator(".opblock-get", has_text="/api/search").first.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.locator("input[placeholder='q']").fill("dropout")
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200", timeout=ANSWER_TIMEOUT_MS)


def test_question_page_shows_the_full_answer_and_related_questions(page) -> None:
    page.goto(f"/q/{BIAS_VARIANCE}")
    expect(page.locator("h1")).to_have_text(BIAS_VARIANCE_TITLE)
    body = page.locator(".answer")
    assert body.locator("math").count() >= 2
    expect(body.locator(".code .lang").first).to_have_text("python")
    assert body.locator("table").count() >= 1
    expect(page.locator(".insight h2")).to_have_text("Interviewer's insight")
    expect(page.locator(".facts")).to_contain_text("Medium")
    related = page.locator(".related a")
    assert related.count() >= 3
    target = related.first
    target_title = target.inner_text()
    target.click()
    expect(page.locator("h1")).to_have_text(target_title)
    page.screenshot(path=str(_artifact("question-desktop.png")), full_page=True)


def test_the_quick_reference_table_fits_a_phone(browser, server: Server, errors: PageErrors) -> None:
    """Five columns do not fit 390 px: each row is a card of labelled lines, nothing cut off."""
    context, phone = _new_page(browser, server, errors, {"width": 390, "height": 844})
    phone.goto("/q/machine-learning--qr-33")
    table = phone.locator(".quick-ref .table-wrap")
    expect(table).to_be_visible()
    assert table.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the table scrolls sideways"
    practice = phone.locator(".quick-ref td[data-label='Practice'] a").first
    expect(practice).to_be_visible()
    box = practice.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    context.close()


def test_ask_about_this_in_the_chat_sends_the_question(page) -> None:
    page.goto(f"/q/{BIAS_VARIANCE}")
    page.get_by_role("link", name="Ask about this in the chat").click()
    page.wait_for_url(re.compile(r"/\?q="))
    expect(page.locator(".msg.user .bubble")).to_have_text([BIAS_VARIANCE_TITLE])  # asked, not left in the box
    answer = page.locator(".msg.assistant").first
    expect(answer).to_be_visible()
    assert title_of(answer) == BIAS_VARIANCE_TITLE
    expect(page.locator("#message")).to_have_value("")
    follow = ask(page, "how do I fix it?")  # and the conversation goes on from there
    assert title_of(follow) == BIAS_VARIANCE_TITLE
    expect(page.locator(".msg.assistant")).to_have_count(2)


def test_a_question_in_the_address_is_answered(page) -> None:
    page.goto("/?q=why+does+lasso+zero+out+weights")
    expect(page.locator(".msg.user .bubble")).to_have_text(["why does lasso zero out weights"])
    assert title_of(page.locator(".msg.assistant").first) == "Explain L1 (Lasso) vs L2 (Ridge) Regularization"
    expect(page.locator("#message")).to_have_value("")


def test_browse_page_filters_searches_and_pages(page) -> None:
    total = page.request.get("/api/questions?limit=1").json()["total"]
    hard = page.request.get("/api/questions?limit=1&difficulty=Hard").json()["total"]
    assert total > 100 and 0 < hard < 50
    page.goto("/browse")
    expect(page.locator(".count")).to_contain_text(f"{total} questions")
    page.locator("select[name=difficulty]").select_option("Hard")  # submits on change
    page.wait_for_url("**/browse?*difficulty=Hard*")
    expect(page.locator(".count")).to_have_text(f"{hard} questions")
    assert set(page.locator(".result-list .badge.difficulty").all_inner_texts()) == {"Hard"}

    page.goto("/browse")
    expect(page.locator(".count")).to_contain_text("showing 1–50")
    page.get_by_role("link", name="Next →").click()
    expect(page.locator(".count")).to_contain_text("showing 51–100")

    search = page.locator("#browse-q")
    search.fill("gradient descent")
    search.press("Enter")
    page.wait_for_url("**/browse?q=gradient+descent*")
    first = page.locator(".result-list li").first
    expect(first.locator("a.title")).to_have_text("How Does Gradient Descent Work?")
    first.locator("a.title").click()
    expect(page.locator("h1")).to_have_text("How Does Gradient Descent Work?")


FOCUS_STYLE = """el => {
  const s = getComputedStyle(el);
  return {outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, width: parseFloat(s.outlineWidth),
          style: s.outlineStyle, shadow: s.boxShadow};
}"""


def _shows_focus(focused: dict[str, object], resting: dict[str, object]) -> bool:
    """A ring a person can see: an outline of 2px or more, or a box-shadow, that the control lacks unfocused."""
    outline = focused["style"] != "none" and float(focused["width"]) >= 2 and focused["outline"] != resting["outline"]
    shadow = focused["shadow"] != "none" and focused["shadow"] != resting["shadow"]
    return outline or shadow


def test_the_chat_box_shows_a_focus_ring(page) -> None:
    page.goto("/")
    box = page.locator("#message")
    expect(box).to_be_focused()  # the page puts the cursor there
    focused = box.evaluate(FOCUS_STYLE)
    box.evaluate("el => el.blur()")
    resting = box.evaluate(FOCUS_STYLE)
    assert _shows_focus(focused, resting), (focused, resting)
    assert focused["style"] == "solid" and focused["width"] >= 3


@pytest.mark.parametrize("path", ["/", "/browse?q=gradient+descent", f"/q/{BIAS_VARIANCE}"])
def test_every_control_shows_where_the_focus_is(page, path: str) -> None:
    """Tab round the page once: every link, button, field and menu it reaches shows a ring."""
    page.goto(path)
    seen: list[str] = []
    missing = []
    for _ in range(120):
        page.keyboard.press("Tab")  # by keyboard: what focus rings are for
        control = page.evaluate_handle("document.activeElement")
        name = control.evaluate(
            "el => el === document.body ? '' : el.dataset.probe || (el.dataset.probe = `${++window.probes || "
            "(window.probes = 1)} ${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "
            "${el.textContent.trim().slice(0, 30)}`)"
        )
        if not name:
            continue  # past the last control, before the first
        if name in seen:
            break  # round once
        seen.append(name)
        focused = control.evaluate(FOCUS_STYLE)
        control.evaluate("el => el.blur()")
        resting = control.evaluate(FOCUS_STYLE)
        control.evaluate("el => el.focus()")
        if not _shows_focus(focused, resting):
            missing.append((name, focused, resting))
    assert len(seen) >= 8, seen
    assert missing == []


def test_dark_mode_follows_the_system_setting(browser, server: Server, errors: PageErrors) -> None:
    backgrounds = {}
    for scheme in ("light", "dark"):
        context, pg = _new_page(browser, server, errors, DESKTOP, color_scheme=scheme)
        pg.goto("/")
        backgrounds[scheme] = pg.evaluate("getComputedStyle(document.body).backgroundColor")
        context.close()
    assert backgrounds == {"light": "rgb(246, 247, 249)", "dark": "rgb(14, 17, 22)"}
    assert errors.console == []


@pytest.mark.parametrize(("name", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_screenshots_at_phone_and_desktop_width(browser, server: Server, errors: PageErrors, name, viewport) -> None:
    context, pg = _new_page(browser, server, errors, viewport)
    pg.goto("/")
    pg.screenshot(path=str(_artifact(f"chat-empty-{name}.png")))
    answer = ask(pg, "how do I handle class imbalance?")
    assert title_of(answer) in IMBALANCED_TITLES
    answer2 = ask(pg, "explain precision recall and f1")
    assert answer2.locator("math").count() >= 1
    assert pg.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # nothing pushes the page wide
    path = _artifact(f"chat-{name}.png")
    pg.screenshot(path=str(path))
    pg.screenshot(path=str(_artifact(f"chat-{name}-full.png")), full_page=True)
    pg.goto(f"/q/{PRF1}")
    assert pg.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    pg.screenshot(path=str(_artifact(f"question-{name}.png")))
    context.close()
    assert path.stat().st_size > 10_000
    assert errors.console == [] and errors.dialogs == []


# -- streaming: rendered as it comes, never markdown ------------------------------------

# Records, on every change the page makes, the text of the answer being written
# (code and formulas left out: "x**2" and "# comment" are code, not markdown)
# and whether it was still streaming.
RECORD_ANSWER_TEXT = """
window.__samples = [];
new MutationObserver(() => {
  const answers = document.querySelectorAll(".msg.assistant .answer");
  const answer = answers[answers.length - 1];
  if (!answer) return;
  const copy = answer.cloneNode(true);
  for (const node of copy.querySelectorAll("pre, code, math")) node.remove();
  const busy = answer.closest(".msg").getAttribute("aria-busy") === "true";
  window.__samples.push({ text: copy.textContent, busy, nodes: answer.children.length });
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def _stream_samples(page) -> list[dict]:  # type: ignore[no-untyped-def]
    samples = page.evaluate("window.__samples")
    for sample in samples:
        shown = [m for m in MARKDOWN_MARKS if m in sample["text"]]
        assert not shown, f"raw markdown {shown} visible: {sample['text'][-300:]!r}"
    return list(samples)


def test_no_raw_markdown_is_visible_while_a_throttled_answer_streams(
    browser, server: Server, errors: PageErrors
) -> None:
    context, pg = _new_page(browser, server, errors, DESKTOP)
    pg.add_init_script(RECORD_ANSWER_TEXT)
    cdp = context.new_cdp_session(pg)
    cdp.send("Network.enable")
    pg.goto("/")
    # About 3 KB/s: the answer (some 20 KB of events) arrives over several seconds, in many reads.
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 150, "downloadThroughput": 3000, "uploadThroughput": 3000},
    )
    answer = ask(pg, "explain precision recall and f1")
    assert title_of(answer) == PRF1_TITLE
    samples = _stream_samples(pg)
    streaming = [s for s in samples if s["busy"] and s["text"].strip()]
    assert len({s["nodes"] for s in streaming}) >= 3, "the answer did not build up block by block"
    assert answer.locator(".answer math").count() >= 1 and answer.locator(".answer .code").count() >= 1
    assert answer.locator(".answer a[href^='/q/']").count() >= 1  # its links are links, not [..](..)
    context.close()
    assert errors.console == []


@pytest.fixture(scope="module")
def llm_server(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A ``qbank serve`` whose answers an OpenAI-compatible fake writes, three
    characters every 15 ms: markdown arriving token by token."""
    with FakeOpenAI(pieces=in_pieces(FAKE_MARKDOWN), delay_s=0.015) as fake:
        env = {"QBANK_LLM_BASE_URL": fake.base_url, "QBANK_LLM_MODEL": "fake-model"}
        with qbank_server(built.path, tmp_path_factory.mktemp("ui-llm"), content_dir=CONTENT, env=env) as srv:
            yield srv


def test_an_llm_answer_is_rendered_as_its_tokens_arrive(browser, llm_server: Server, errors: PageErrors) -> None:
    context, pg = _new_page(browser, llm_server, errors, DESKTOP)
    pg.add_init_script(RECORD_ANSWER_TEXT)
    pg.goto("/")
    answer = ask(pg, "explain bagging")
    samples = _stream_samples(pg)
    streaming = [s["text"] for s in samples if s["busy"] and s["text"].strip()]
    assert len(set(streaming)) >= 10, "the generated answer did not show as it was written"
    assert any(t.rstrip().endswith("Bagging trains") for t in streaming) or len(set(streaming)) >= 20
    body = answer.locator(".answer")
    # The generated synthesis, headed as such, then a rule and the bank's own answer.
    expect(body.locator("p strong").first).to_have_text("Summary")
    expect(body.locator("h3").first).to_contain_text("Bagging and boosting")
    assert body.locator("hr").count() >= 1 and body.locator("strong").count() >= 4
    expect(body.locator(".code .lang").first).to_have_text("python")  # the bank's code; the model's was removed
    expect(body.locator("a", has_text="the full answer")).to_have_attribute("href", re.compile(r"^/q/"))
    expect(body.locator("blockquote strong").first).to_have_text("Insight:")
    context.close()
    assert errors.console == []


# -- a conversation that holds up -------------------------------------------------------

GANS_TITLE = "Generative Adversarial Networks (GANs)"
ENSEMBLE_TITLE = "What is Ensemble Learning? Explain Bagging, Boosting, and Stacking"


def _titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.strip() for t in page.locator(".msg.assistant .answer h3").all_inner_texts()]


def test_topic_switch_survives_a_reload_and_opens_from_a_share_link(
    browser, server: Server, errors: PageErrors
) -> None:
    context, pg = _new_page(browser, server, errors, DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    pg.goto("/")
    expect(pg.get_by_role("button", name="Share")).to_be_hidden()  # nothing to share yet
    ask(pg, "explain GANs")
    switched = ask(pg, "explain bagging")
    assert _titles(pg) == [GANS_TITLE, ENSEMBLE_TITLE]  # a new topic, not a follow-up on GANs
    assert switched.locator(".rewritten").count() == 0  # searched as asked
    _full_page(pg, "conversation-gans-bagging-desktop.png")

    pg.reload()
    assert _titles(pg) == [GANS_TITLE, ENSEMBLE_TITLE]
    expect(pg.locator(".msg.user .bubble")).to_have_text(["explain GANs", "explain bagging"])
    expect(pg.locator("#empty")).to_be_hidden()
    expect(pg.locator(".msg.assistant").last.get_by_role("button", name="Helpful", exact=True)).to_be_visible()

    pg.get_by_role("button", name="Share").click()
    link = pg.locator("#share-link").input_value()
    assert link.startswith(f"{server.base_url}/?c=")
    pg.get_by_role("button", name="Copy link").click()
    expect(pg.locator("#share-status")).to_have_text("Link copied.")
    assert pg.evaluate("navigator.clipboard.readText()") == link

    # Someone else opens it: a fresh context, with nothing stored.
    other_context, other = _new_page(browser, server, errors, PHONE)
    other.goto(link)
    assert _titles(other) == [GANS_TITLE, ENSEMBLE_TITLE]
    expect(other.locator(".msg.user .bubble")).to_have_text(["explain GANs", "explain bagging"])
    assert other.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _full_page(other, "conversation-shared-phone.png")
    follow = ask(other, "and how is boosting different?")  # the shared conversation goes on
    assert title_of(follow) == ENSEMBLE_TITLE
    expect(follow.locator(".rewritten")).to_contain_text("bagging")
    assert other.url == f"{server.base_url}/"
    other_context.close()

    # The reloaded page still has the whole history for a follow-up.
    follow = ask(pg, "show me the code")
    assert title_of(follow) == ENSEMBLE_TITLE
    context.close()
    assert errors.console == []


def test_a_failed_question_stays_and_retry_sends_it_again(page, errors: PageErrors) -> None:
    sent: list[dict] = []

    def fail_once(route) -> None:  # type: ignore[no-untyped-def]
        sent.append(json.loads(route.request.post_data or "{}"))
        if len(sent) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.goto("/")
    first = ask(page, "explain precision recall and f1")
    page.route("**/api/chat/stream", fail_once)
    box = page.locator("#message")
    box.fill("Explain the bias-variance tradeoff")
    box.press("Enter")
    failed = page.locator(".msg.assistant").nth(1)
    expect(failed.locator(".status-line.error")).to_contain_text("Sorry, that failed")
    expect(page.locator(".msg.user .bubble").nth(1)).to_have_text("Explain the bias-variance tradeoff")
    assert box.input_value() == "Explain the bias-variance tradeoff"  # the question is kept to edit

    retry = failed.get_by_role("button", name="Retry: Explain the bias-variance tradeoff")
    box.focus()
    for _ in range(12):  # Shift+Tab from the composer back through the filter chips (none) to Retry
        page.keyboard.press("Shift+Tab")
        if retry.evaluate("b => b === document.activeElement"):
            break
    expect(retry).to_be_focused()
    page.keyboard.press("Enter")
    answer = page.locator(".msg.assistant").nth(1)
    expect(answer).not_to_have_attribute("aria-busy", "true", timeout=ANSWER_TIMEOUT_MS)
    assert title_of(answer) == BIAS_VARIANCE_TITLE
    assert len(sent) == 2 and sent[1]["messages"] == sent[0]["messages"]  # the same question, the same history
    assert [m["role"] for m in sent[1]["messages"]] == ["user", "assistant", "user"]
    expect(page.locator(".msg.failed")).to_have_count(0)
    expect(page.locator(".msg.user")).to_have_count(2)
    assert box.input_value() == ""
    assert title_of(first) == PRF1_TITLE
    page.unroute("**/api/chat/stream")
    errors.console.remove("error: Failed to load resource: net::ERR_CONNECTION_RESET")  # the failure we caused


@pytest.mark.parametrize(("name", "viewport"), [("phone", SMALL_PHONE), ("desktop", DESKTOP)])
def test_company_list_and_its_narrowing_read_well(browser, server: Server, errors: PageErrors, name, viewport) -> None:
    context, pg = _new_page(browser, server, errors, viewport)
    pg.goto("/")
    listing = ask(pg, "what does Uber ask?")
    expect(listing.locator(".answer h3")).to_have_text("Questions asked at Uber")
    everything = listing.locator(".answer li a").all_inner_texts()
    assert len(everything) >= 4
    groups = listing.locator(".answer p > strong").all_inner_texts()
    assert len(groups) >= 2 and groups == [d for d in ("Easy", "Medium", "Hard") if d in groups]  # easiest first
    hard = ask(pg, "which of those are hard?")
    expect(hard.locator(".answer h3")).to_have_text("Hard questions asked at Uber")
    narrowed = hard.locator(".answer li a").all_inner_texts()
    assert narrowed and set(narrowed) < set(everything)
    assert hard.locator(".answer p > strong").all_inner_texts() == ["Hard"]
    assert pg.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _full_page(pg, f"conversation-uber-hard-{name}.png")

    # The list's links are reachable from the keyboard, with a visible focus ring.
    pg.locator("#message").focus()
    for _ in range(40):
        pg.keyboard.press("Shift+Tab")
        if pg.evaluate("document.activeElement.matches('.msg.assistant:last-child .answer li a')"):
            break
    assert pg.evaluate("document.activeElement.matches('.msg.assistant:last-child .answer li a')")
    assert pg.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    context.close()
    assert errors.console == []


@pytest.mark.parametrize(("name", "viewport"), [("phone", SMALL_PHONE), ("desktop", DESKTOP)])
def test_quick_reference_answer_reads_well(browser, server: Server, errors: PageErrors, name, viewport) -> None:
    context, pg = _new_page(browser, server, errors, viewport)
    pg.goto("/")
    answer = ask(pg, "explain word embeddings")
    expect(answer.locator(".answer h3")).to_have_text("Word Embeddings and Their Use")
    expect(answer.locator(".sources li").first.locator(".badge.kind")).to_have_text("Quick reference")
    expect(answer.locator(".answer")).to_contain_text("Where the bank's answers discuss it:")
    assert answer.locator(".answer a[href^='/q/']").count() >= 1
    assert pg.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _full_page(pg, f"quick-reference-{name}.png")
    context.close()
    assert errors.console == []


def test_the_chat_works_without_javascript(browser, server: Server, errors: PageErrors) -> None:
    context, pg = _new_page(browser, server, errors, SMALL_PHONE, java_script_enabled=False)
    pg.goto("/")
    expect(pg.get_by_role("button", name="New conversation")).to_be_hidden()  # it needs the script
    box = pg.locator("#message")
    box.fill("Explain the bias-variance tradeoff")
    pg.get_by_role("button", name="Send").click()
    pg.wait_for_url("**/?*q=Explain+the+bias-variance+tradeoff*")
    first = pg.locator(".msg.assistant").first
    assert title_of(first) == BIAS_VARIANCE_TITLE
    assert first.locator(".answer .code").count() >= 1 and first.locator(".sources li").count() >= 1
    expect(pg.get_by_role("link", name="Ask a follow-up")).to_be_visible()

    box.fill("how do I fix it?")
    pg.get_by_role("button", name="Send").click()
    expect(pg.locator(".msg.assistant")).to_have_count(2)
    follow = pg.locator(".msg.assistant").nth(1)
    assert title_of(follow) == BIAS_VARIANCE_TITLE
    expect(follow.locator(".rewritten")).to_contain_text("bias-variance")
    expect(pg.locator(".msg.user .bubble")).to_have_text(["Explain the bias-variance tradeoff", "how do I fix it?"])
    assert "**" not in str(pg.locator("#conversation").inner_text())
    assert pg.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    _full_page(pg, "chat-no-javascript-phone.png")

    # The link to the conversation opens it again; a filter picked in the form narrows the next question.
    link = pg.get_by_role("link", name="Link to this conversation").get_attribute("href")
    pg.goto(str(link))
    expect(pg.locator(".msg.assistant")).to_have_count(2)
    pg.locator("#filters summary").click()
    pg.locator("select[name=difficulty]").select_option("Hard")
    box.fill("how do I handle class imbalance?")
    pg.get_by_role("button", name="Send").click()
    expect(pg.locator(".msg.assistant")).to_have_count(3)
    third = pg.locator(".msg.assistant").nth(2)
    assert title_of(third) == "How Do You Handle Imbalanced Datasets?"
    expect(third.locator(".used-filters")).to_have_text("Filtered to: Difficulty Hard")
    expect(pg.locator("#filter-chips")).to_have_text("Difficulty: Hard")
    context.close()
    assert errors.console == [] and errors.dialogs == []


def _full_page(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot of the whole page, taken from the top (so the sticky header is where it belongs)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(_artifact(name)), full_page=True)


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
