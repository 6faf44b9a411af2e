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
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from server_support import Server, qbank_server
from service_support import CONTENT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: run `make setup-browser`"),
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
ANSWER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with qbank_server(built.path, tmp_path_factory.mktemp("ui-server"), content_dir=CONTENT) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


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
    assert events[0] == "sources" and events[-1] == "done" and events.count("delta") > 10

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


def test_copy_button_copies_the_code(page) -> None:
    page.goto("/")
    answer = ask(page, "explain precision recall and f1")
    code = answer.locator(".answer .code").first
    expected = str(code.locator("pre code").text_content()).rstrip("\n")
    code.locator("button.copy").click()
    expect(code.locator("button.copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == expected
    assert expected.startswith("from sklearn.metrics import (")


def test_filters_from_facets_apply_to_the_conversation(page) -> None:
    page.goto("/")
    page.locator("#filters summary").click()
    difficulty = page.locator("#filter-form select[name=difficulty]")
    expect(difficulty.locator("option")).to_have_count(4)  # "any" + Easy/Medium/Hard from /api/facets
    assert page.locator("#filter-form select[name=company] option[value=Google]").count() == 1
    difficulty.select_option("Hard")
    expect(page.locator("#filter-count")).to_have_text("1 active")
    with page.expect_request("**/api/chat/stream") as sent:
        answer = ask(page, "how do I handle class imbalance?")
    assert json.loads(sent.value.post_data or "{}")["filters"] == {"difficulty": "Hard"}
    assert title_of(answer) == "How Do You Handle Imbalanced Datasets?"
    badges = answer.locator(".sources .badge.difficulty").all_inner_texts()
    assert badges and set(badges) == {"Hard"}

    page.locator("#filter-form button[type=reset]").click()
    expect(page.locator("#filter-count")).to_be_hidden()
    with page.expect_request("**/api/chat/stream") as sent:
        ask(page, "how do I handle class imbalance?")
    assert json.loads(sent.value.post_data or "{}")["filters"] is None


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

    with sqlite3.connect(server.feedback_path) as db:
        rows = db.execute(
            "SELECT question_id, helpful, source, query, message_id FROM feedback ORDER BY id DESC LIMIT 2"
        ).fetchall()
    assert [r[:4] for r in rows] == [
        (BIAS_VARIANCE, 0, "web", "Explain the bias-variance tradeoff"),
        (PRF1, 1, "web", "explain precision recall and f1"),
    ]
    assert all(re.fullmatch(r"[0-9a-f]{32}", r[4]) for r in rows)


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


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
