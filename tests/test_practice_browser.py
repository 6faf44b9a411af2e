"""The practice page in real headless Chromium against a real ``qbank serve``:
keyboard-first (Space reveals, 1-4 grade), at phone width, and the cards
answered still scheduled after the server restarts on the same store; then
the Progress page of the same browser's learner, and its weakest topics'
links back into practice.  Practice's and Browse's filters after Back, with
and without the back-forward cache.

Fails on any console error or uncaught page error (a script the
Content-Security-Policy blocked shows as one).  Screenshots land in
test-artifacts/."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import ARTIFACTS, CHROMIUM, chromium, console_errors, launch
from server_support import Server, qbank_server
from service_support import CONTENT

from index.engine import IngestReport
from service.practice import MAX_MOCK_ANSWER_CHARS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: run `make setup-test`"),
]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCOPE = "/practice?company=Google&difficulty=Medium"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def cached_browser(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """Chromium with its back-forward cache on, as people have it (one Playwright runs both)."""
    cached = launch(browser.browser_type, back_forward_cache=True)
    yield cached
    cached.close()


def watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    return console_errors(page)


def answer_with_keys(page, key: str) -> str:  # type: ignore[no-untyped-def]
    """Reveal the card shown with Space, grade it with ``key`` (1-4); the graded question's id."""
    card = page.locator("#card")
    expect(card).to_be_visible()
    question_id = str(card.get_attribute("data-question-id"))
    expect(page.locator("#answer")).to_be_hidden()  # the question first, the answer hidden
    page.keyboard.press("Space")
    expect(page.locator("#answer")).to_be_visible()
    expect(page.locator("#answer-body")).not_to_be_empty()
    # The answer has the focus, not a grade button: a second Space (to scroll) grades nothing.
    expect(page.locator("#answer")).to_be_focused()
    page.keyboard.press("Space")
    expect(card).to_have_attribute("data-question-id", question_id)
    with page.expect_response("**/api/practice/grade") as graded:
        page.keyboard.press(key)
    assert graded.value.status == 200
    expect(card).not_to_have_attribute("data-question-id", question_id)  # the next card came
    return question_id


def test_answer_five_cards_by_keyboard_then_see_them_scheduled_after_a_restart(
    browser, built: IngestReport, tmp_path: Path
) -> None:
    work = tmp_path / "server"
    work.mkdir()
    with qbank_server(built.path, work, content_dir=CONTENT) as server:
        context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
        page = context.new_page()
        errors = watch(page)
        page.goto(SCOPE)
        expect(page.locator("nav a[aria-current=page]")).to_have_text("Practice")
        expect(page.locator("select[name=company]")).to_have_value("Google")
        expect(page.locator("#counts")).to_have_text("0 due · 10 new left today")
        title = page.locator("#card-title")
        expect(title).not_to_be_empty()
        expect(page.locator("#card-difficulty")).to_have_text("Medium")
        expect(page.locator("#card-companies")).to_contain_text("Google")
        expect(title).to_be_focused()
        graded = [answer_with_keys(page, key) for key in ("3", "4", "2", "3", "1")]
        assert len(set(graded)) == 5
        expect(page.locator("#counts")).to_contain_text("0 due · 5 new left today · next due in 1 min")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "practice-desktop.png"), full_page=True)
        cookies = context.cookies()
        context.close()
        assert errors == []

    with sqlite3.connect(server.database_path) as db:
        rows = db.execute("SELECT question_id, rating FROM practice_reviews ORDER BY id").fetchall()
    assert rows == list(zip(graded, (3, 4, 2, 3, 1), strict=True))

    with qbank_server(built.path, work, content_dir=CONTENT) as restarted:  # the same store, a new process
        context = browser.new_context(viewport=DESKTOP, base_url=restarted.base_url)
        context.add_cookies([{**c, "domain": "127.0.0.1"} for c in cookies])
        page = context.new_page()
        errors = watch(page)
        page.goto(SCOPE)
        expect(page.locator("#counts")).to_contain_text("0 due · 5 new left today · next due in")
        expect(page.locator("#card")).to_be_visible()
        assert page.locator("#card").get_attribute("data-question-id") not in graded  # a new card, the five wait
        progress = page.request.get("/api/progress").json()
        assert (progress["cards"], progress["reviews"], progress["due"]) == (5, 5, 0)
        assert progress["states"] == {"learning": 4, "review": 1, "relearning": 0}
        context.close()
        assert errors == []


@pytest.fixture(scope="module")
def server(built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with qbank_server(built.path, tmp_path_factory.mktemp("practice-server"), content_dir=CONTENT) as srv:
        yield srv


def test_a_filter_is_browsed_with_the_arrow_keys_and_applied_on_enter(browser, server: Server) -> None:
    """Arrow keys on a closed select change its value at every step: the page
    waits for Enter (or leaving the select) before it changes the scope; a
    choice with the mouse applies at once."""
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    page.goto(SCOPE)
    company = page.locator("select[name=company]")
    company.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(company).to_be_focused()  # still here: no reload at each step
    assert "company=Google" in page.url
    chosen = company.input_value()
    assert chosen != "Google"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"company={chosen}" in page.url.replace("+", " ").replace("%20", " ")
    with page.expect_navigation():
        page.locator("select[name=difficulty]").select_option("Hard")  # as a mouse or a touch picks it
    assert "difficulty=Hard" in page.url
    context.close()
    assert errors == []


def test_a_first_card_that_arrives_late_leaves_the_focus_where_the_learner_put_it(browser, server: Server) -> None:
    """The first card is fetched after the page loads.  Held back until the
    learner is already stepping through a filter with the arrow keys, it must
    not take the focus (leaving the select would apply the half-chosen filter)."""
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    held: list = []  # type: ignore[type-arg]

    def hold(route) -> None:  # type: ignore[no-untyped-def]
        held.append(route)  # answered below, when the test says so

    page.route("**/api/practice/next*", hold)
    page.goto(SCOPE)
    company = page.locator("select[name=company]")
    company.focus()
    page.keyboard.press("ArrowDown")
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#card")).to_be_visible()
    expect(company).to_be_focused()
    assert "company=Google" in page.url  # nothing applied yet
    page.unroute("**/api/practice/next*", hold)
    context.close()
    assert errors == []


def test_at_phone_width_cards_fit_and_grade_by_tapping(browser, server: Server) -> None:
    context = browser.new_context(viewport=PHONE, base_url=server.base_url, has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = watch(page)
    page.goto("/practice")
    expect(page.locator("#card")).to_be_visible()
    first = page.locator("#card").get_attribute("data-question-id")
    page.locator("#reveal").tap()
    expect(page.locator("#answer")).to_be_visible()
    buttons = page.locator("#grades button")
    expect(buttons).to_have_count(4)
    for i in range(4):
        box = buttons.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["height"] >= 44  # a finger's target
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing forces a sideways scroll
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "practice-phone.png"), full_page=True)
    with page.expect_response("**/api/practice/grade"):
        page.get_by_role("button", name="Good").tap()
    expect(page.locator("#card")).not_to_have_attribute("data-question-id", str(first))
    context.close()
    assert errors == []


def test_a_scope_with_nothing_left_says_so_and_when_to_come_back(browser, server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    page.goto("/practice?company=No+Such+Company")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#card")).to_be_hidden()
    expect(page.locator("#done-detail")).to_have_text("No question matches this selection. Pick another one above.")
    # The filter in effect is what the dropdown shows, not "Any company"; the counter says why nothing is here.
    expect(page.locator("select[name=company]")).to_have_value("No Such Company")
    expect(page.locator("#counts")).to_have_text("No questions in this selection")
    page.locator("select[name=company]").select_option("Google")  # the scope form submits itself
    expect(page).to_have_url(f"{server.base_url}/practice?company=Google&difficulty=&tag=&bank=")
    expect(page.locator("#card")).to_be_visible()
    context.close()
    assert errors == []


def test_when_todays_new_cards_are_used_up_the_page_says_more_come_tomorrow(
    browser, built: IngestReport, tmp_path: Path
) -> None:
    """Two new cards a day, graded Easy (back in days): the page said to come back in days,
    though tomorrow brings the scope's next new questions; then it said all of the scope's
    never-graded questions came tomorrow, where the daily limit brings two of them."""
    with qbank_server(built.path, tmp_path, content_dir=CONTENT, env={"QBANK_PRACTICE_NEW_PER_DAY": "2"}) as srv:
        context = browser.new_context(viewport=DESKTOP, base_url=srv.base_url)
        page = context.new_page()
        errors = watch(page)
        page.goto("/practice?company=Netflix")
        answer_with_keys(page, "4")  # Easy
        answer_with_keys(page, "4")
        expect(page.locator("#done")).to_be_visible()
        left = page.request.get("/api/practice/next?company=Netflix").json()
        assert (left["new_left"], left["new_per_day"]) == (0, 2) and left["unseen"] > 2
        expect(page.locator("#done-detail")).to_have_text(
            f"Today's new cards are used up and nothing here is due; 2 new tomorrow ({left['unseen']} not started "
            "yet). Come back then, or pick another selection above."
        )
        context.close()
        assert errors == []


def test_grading_the_last_card_moves_the_focus_to_the_heading_that_says_so(browser, server: Server) -> None:
    """The graded card goes; the focus went with it, to <body>.  It goes to the screen that
    replaced it, as it goes to each new card's title."""
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    page.goto("/practice?tag=Feature+Selection")  # one question: graded, nothing is left
    expect(page.locator("#card-title")).to_be_focused()
    page.keyboard.press(" ")
    with page.expect_response("**/api/practice/grade"):
        page.keyboard.press("3")
    heading = page.get_by_role("heading", name="Nothing to practise right now")
    expect(heading).to_be_visible()
    expect(heading).to_be_focused()
    context.close()
    assert errors == []


PERSISTED = "window.addEventListener('pageshow', (e) => { window.shownFromCache = e.persisted; });"


def back(page, cached: bool) -> None:  # type: ignore[no-untyped-def]
    """Back, as the browser does it: a page from the back-forward cache fires no "load"."""
    page.go_back(wait_until="commit")
    if cached:
        page.wait_for_function("window.shownFromCache === true")


@pytest.mark.parametrize("cached", [False, True], ids=["form-restoration", "back-forward-cache"])
def test_after_back_the_practice_filters_show_the_scope_in_effect(
    browser, cached_browser, server: Server, cached: bool
) -> None:
    """Back brought the page back with Difficulty still showing "Hard" (restored by the browser)
    while the card dealt was not Hard, and the next filter changed applied Hard with it."""
    context = (cached_browser if cached else browser).new_context(viewport=DESKTOP, base_url=server.base_url)
    context.add_init_script(PERSISTED)
    page = context.new_page()
    errors = watch(page)
    page.goto("/practice?company=Netflix")
    expect(page.locator("#card")).to_be_visible()
    page.locator("#mock-mode").check()  # the address follows without a navigation
    expect(page).to_have_url(f"{server.base_url}/practice?company=Netflix&mode=mock")
    difficulty = page.locator("select[name=difficulty]")
    with page.expect_navigation():
        difficulty.select_option("Hard")
    expect(page.locator("#card-difficulty")).to_have_text("Hard")
    back(page, cached)
    expect(page).to_have_url(f"{server.base_url}/practice?company=Netflix&mode=mock")
    expect(page.locator("#card")).to_be_visible()
    expect(page.locator("#card-difficulty")).not_to_have_text("Hard")
    expect(difficulty).to_have_value("")
    expect(page.locator("select[name=company]")).to_have_value("Netflix")
    expect(page.locator("#mock-mode")).to_be_checked()
    expect(page.locator("#mock-answer")).to_be_visible()
    assert page.evaluate("window.shownFromCache") is cached
    with page.expect_navigation():
        page.locator("select[name=tag]").select_option(index=1)
    assert "difficulty=&" in page.url and "mode=mock" in page.url  # Hard was not applied unseen
    context.close()
    assert errors == []


@pytest.mark.parametrize("cached", [False, True], ids=["form-restoration", "back-forward-cache"])
def test_after_back_the_browse_filters_show_the_list_in_effect(
    browser, cached_browser, server: Server, cached: bool
) -> None:
    context = (cached_browser if cached else browser).new_context(viewport=DESKTOP, base_url=server.base_url)
    context.add_init_script(PERSISTED)
    page = context.new_page()
    errors = watch(page)
    page.goto("/browse?company=Google")
    everything = page.locator(".count").inner_text()
    search = page.locator("#browse-q")
    search.fill("gradient descent")  # typed, never searched
    difficulty = page.locator("select[name=difficulty]")
    with page.expect_navigation():
        difficulty.select_option("Hard")
    expect(page.locator(".count")).not_to_have_text(everything)
    back(page, cached)
    expect(page).to_have_url(f"{server.base_url}/browse?company=Google")
    expect(page.locator(".count")).to_have_text(everything)
    expect(difficulty).to_have_value("")
    expect(search).to_have_value("")
    expect(page.locator("select[name=company]")).to_have_value("Google")
    assert page.evaluate("window.shownFromCache") is cached
    with page.expect_navigation():
        page.locator("select[name=tag]").select_option(index=1)
    assert "difficulty=&" in page.url and "q=&" in page.url  # neither was applied unseen
    context.close()
    assert errors == []


MOCK_SCOPE = "/practice?difficulty=Medium&tag=Regularization&mode=mock"
L1 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"
L1_ANSWER = (
    "L1 adds the absolute values of the weights to the loss, L2 their squares. "
    "The L1 constraint region is a diamond whose corners sit on the axes, so the solution lands where weights are 0. "
    "Use L1 when you want feature selection and L2 when features are correlated. "
    "Elastic net combines both penalties. "
    "I'd pick the penalty strength by cross-validation."
)


def test_mock_mode_scores_a_typed_answer_then_reveals_the_insight_and_the_answer_by_keyboard(
    browser, server: Server
) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    page.goto(MOCK_SCOPE)
    expect(page.locator("#mock-mode")).to_be_checked()
    expect(page.locator("#card")).to_have_attribute("data-question-id", L1)  # the deck's first: easiest, bank order
    box = page.locator("#mock-answer")
    expect(box).to_be_focused()  # type straight away
    expect(page.locator("#hint-mock")).to_be_visible()
    expect(page.locator("#answer")).to_be_hidden()
    page.keyboard.type(L1_ANSWER)
    with page.expect_response("**/api/practice/mock") as scored:
        page.keyboard.press("Control+Enter")
    assert scored.value.status == 200
    expect(page.locator("#mock-heading")).to_have_text("Your answer hit 4 of 4 signals")
    expect(page.locator("#mock-heading")).to_be_focused()
    expect(page.locator("#mock-signals li.hit")).to_have_count(4)
    expect(page.locator("#mock-signals li").first).to_contain_text("Explains WHY L1 creates zeros (diamond geometry)")
    expect(page.locator("#mock-signals li q").first).to_contain_text("diamond")
    expect(page.locator("#mock-testing")).to_have_text(
        "What they're testing: Deep understanding of regularization mechanics, not just definitions."
    )
    expect(page.locator("#mock-probes li").first).to_have_text(
        "You mentioned L1: can you explain why L1 creates sparsity (geometric intuition)?"
    )
    expect(page.locator("#answer")).to_be_visible()  # then the insight and the curated answer
    expect(page.locator("#insight")).to_contain_text("Strong answer signals")
    expect(page.locator("#answer-body")).to_contain_text("Elastic Net")
    expect(page.locator("#mock-score")).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "practice-mock-desktop.png"), full_page=True)

    with page.expect_response("**/api/practice/grade"):
        page.keyboard.press("3")
    expect(page.locator("#card")).not_to_have_attribute("data-question-id", L1)
    expect(box).to_be_focused()
    expect(box).to_have_value("")
    expect(page.locator("#mock-result")).to_be_hidden()
    page.keyboard.type("No idea, sorry.")
    with page.expect_response("**/api/practice/mock"):
        page.keyboard.press("Control+Enter")
    expect(page.locator("#mock-heading")).to_have_text("Your answer hit 0 of 4 signals")
    expect(page.locator("#mock-signals li.missed")).to_have_count(4)

    page.locator("#mock-mode").uncheck()  # back to recall: the address follows, the box goes
    expect(page).to_have_url(f"{server.base_url}/practice?difficulty=Medium&tag=Regularization")
    with page.expect_response("**/api/practice/grade"):
        page.get_by_role("button", name="Again").click()
    expect(page.locator("#mock")).to_be_hidden()
    expect(page.locator("#hint-recall")).to_be_visible()
    context.close()
    assert errors == []


def test_space_on_the_focused_score_button_scores_the_answer(browser, server: Server) -> None:
    """Tab from the answer box to "Score my answer", then Space: the button is pressed (the
    page's own Space, which reveals the answer, used to take it and leave the typed answer
    unscored behind a read-only box)."""
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    page.goto(MOCK_SCOPE)
    expect(page.locator("#mock-answer")).to_be_focused()
    page.keyboard.type(L1_ANSWER)
    page.keyboard.press("Tab")
    expect(page.locator("#mock-score")).to_be_focused()
    with page.expect_response("**/api/practice/mock") as scored:
        page.keyboard.press(" ")
    assert scored.value.status == 200
    expect(page.locator("#mock-heading")).to_have_text("Your answer hit 4 of 4 signals")
    context.close()
    assert errors == []


def test_a_typed_mock_answer_survives_a_reload_until_it_is_scored(browser, server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    page.goto(MOCK_SCOPE)
    box = page.locator("#mock-answer")
    expect(box).to_be_focused()
    page.keyboard.type("L1 adds the absolute values")
    page.reload()
    expect(page.locator("#card")).to_have_attribute("data-question-id", L1)
    expect(box).to_have_value("L1 adds the absolute values")  # a pull-to-refresh lost it
    with page.expect_response("**/api/practice/mock"):
        page.keyboard.press("Control+Enter")
    expect(page.locator("#mock-result")).to_be_visible()
    page.reload()  # scored and seen: the card asks again, with an empty box
    expect(page.locator("#card")).to_have_attribute("data-question-id", L1)
    expect(box).to_have_value("")
    context.close()
    assert errors == []


def test_mock_mode_at_phone_width_fits_and_scores_by_tapping(browser, server: Server) -> None:
    context = browser.new_context(viewport=PHONE, base_url=server.base_url, has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = watch(page)
    page.goto(MOCK_SCOPE)
    expect(page.locator("#card")).to_be_visible()
    box = page.locator("#mock-answer")
    box.tap()
    box.fill("L1 gives sparse weights because of the diamond shaped constraint; elastic net mixes L1 and L2.")
    button = page.locator("#mock-score")
    bounds = button.bounding_box()
    assert bounds is not None and bounds["height"] >= 44 and bounds["x"] + bounds["width"] <= PHONE["width"]
    textarea = box.bounding_box()
    assert textarea is not None and textarea["x"] >= 0 and textarea["x"] + textarea["width"] <= PHONE["width"]
    with page.expect_response("**/api/practice/mock"):
        button.tap()
    expect(page.locator("#mock-result")).to_be_visible()
    expect(page.locator("#answer")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "practice-mock-phone.png"), full_page=True)
    context.close()
    assert errors == []


def test_a_long_mock_answer_is_counted_near_the_limit_and_a_paste_that_is_cut_says_so(browser, server: Server) -> None:
    """The box kept the first 5,000 characters of a paste and dropped the rest without a word,
    and the answer scored was the cut one."""
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors = watch(page)
    page.goto(MOCK_SCOPE)
    box = page.locator("#mock-answer")
    expect(box).to_be_focused()
    assert box.get_attribute("maxlength") == str(MAX_MOCK_ANSWER_CHARS)  # what the API takes
    count = page.locator("#mock-count")
    page.keyboard.type("L1 adds the absolute values. ")
    expect(count).to_be_hidden()  # far from the limit: nothing to count
    box.fill("word " * 900)  # 4,500 characters
    expect(count).to_have_text("4,500 of 5,000 characters")
    expect(page.locator("#mock-cut")).to_be_hidden()
    page.evaluate("text => navigator.clipboard.writeText(text)", "more " * 200)  # 1,000 characters
    box.press("End")
    box.press("Control+V")
    expect(box).to_have_value("word " * 900 + "more " * 100)  # what fitted
    expect(count).to_have_text("5,000 of 5,000 characters: the limit, nothing more fits")
    expect(page.locator("#mock-cut")).to_have_text(
        "Your pasted text was cut to fit the 5,000-character limit: its last 500 characters were left out "
        "and will not be scored."
    )
    page.keyboard.press("Backspace")  # edited since: the note is old news, the count goes on
    expect(page.locator("#mock-cut")).to_be_hidden()
    expect(count).to_have_text("4,999 of 5,000 characters")
    context.close()
    assert errors == []


def test_an_input_event_without_an_input_type_still_counts(browser, server: Server) -> None:
    """A plain "input" event (an extension's, an autofill tool's) has no inputType: the listener
    threw, and the count after it never ran (review)."""
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    page.goto(MOCK_SCOPE)
    page.locator("#mock-answer").evaluate(
        "box => { box.value = 'word '.repeat(900); box.dispatchEvent(new Event('input')); }"
    )
    expect(page.locator("#mock-count")).to_have_text("4,500 of 5,000 characters")
    context.close()
    assert errors == []


def test_on_a_touch_screen_mock_mode_speaks_of_buttons_and_its_empty_answer_error_clears_on_typing(
    browser, server: Server
) -> None:
    """The help said Ctrl+Enter and Esc, and an empty answer's error said "press Esc, then
    Space", on a phone; the error stayed up after the answer was typed."""
    context = browser.new_context(viewport=PHONE, base_url=server.base_url, has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = watch(page)
    page.goto(MOCK_SCOPE)
    expect(page.locator("#card")).to_be_visible()
    expect(page.locator("#hint-mock-touch")).to_be_visible()
    expect(page.locator("#hint-mock-touch")).to_have_text(
        "Type what you would say, then tap Score my answer: it is scored against what interviewers listen for "
        "and the answer is shown; then grade yourself with the buttons."
    )
    expect(page.locator("#hint-mock-keys")).to_be_hidden()  # no Ctrl+Enter, no Esc
    expect(page.locator("#mock-score kbd")).to_be_hidden()
    page.locator("#mock-score").tap()
    error = page.locator("#error")
    expect(error).to_have_text("Type your answer first (or tap Show answer to see the answer without a score).")
    page.locator("#mock-answer").tap()
    page.keyboard.type("L")
    expect(error).to_be_hidden()
    context.close()
    assert errors == []


def test_with_a_keyboard_the_empty_answer_error_names_the_keys_and_clears_on_typing(browser, server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    page.goto(MOCK_SCOPE)
    expect(page.locator("#mock-answer")).to_be_focused()
    expect(page.locator("#hint-mock-keys")).to_be_visible()
    expect(page.locator("#hint-mock-keys")).to_contain_text("Esc leaves the box.")
    expect(page.locator("#hint-mock-touch")).to_be_hidden()
    page.keyboard.press("Control+Enter")
    error = page.locator("#error")
    expect(error).to_have_text("Type your answer first (or press Esc, then Space, to see the answer without a score).")
    page.keyboard.type("  ")
    expect(error).to_be_visible()  # still nothing to score
    page.keyboard.type("L1")
    expect(error).to_be_hidden()
    context.close()
    assert errors == []


# The first four Google Medium questions, in bank order, graded 3, 1, 4, 2 (see the progress test).
GRADED = {
    "machine-learning--what-is-the-bias-variance-tradeoff-in-machine-learning": "3",
    "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization": "1",
    "machine-learning--how-does-gradient-descent-work": "4",
    "machine-learning--explain-precision-recall-and-f1-score": "2",
}
WEAKEST = ["Feature Selection", "Overfitting", "Regularization", "Model Evaluation", "Classification Metrics"]
OVERFITTING = (
    "machine-learning--what-is-overfitting-and-how-do-you-prevent-it"  # Easy: the first new Regularization card
)
SMALL_PHONE = {"width": 375, "height": 740}
FOCUS_RING = (
    "el => { const s = getComputedStyle(el); return s.outlineStyle === 'solid' && parseFloat(s.outlineWidth) >= 2; }"
)


def test_progress_shows_what_practice_graded_and_its_weakest_topics_lead_back_into_practice(
    browser, built: IngestReport, tmp_path: Path
) -> None:
    with qbank_server(built.path, tmp_path, content_dir=CONTENT) as server:  # a store of its own: exact counts
        context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
        page = context.new_page()
        errors = watch(page)
        page.goto("/progress")
        expect(page.locator("nav a[aria-current=page]")).to_have_text("Progress")
        expect(page.get_by_role("heading", name="Nothing graded yet")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "progress-empty-desktop.png"), full_page=True)
        page.get_by_role("link", name="Start practising").click()
        expect(page).to_have_url(f"{server.base_url}/practice")

        page.goto(SCOPE)
        graded = {answer_with_keys(page, key): key for key in GRADED.values()}
        assert graded == GRADED  # the deck's order, so the counts below are known

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Progress").click()
        expect(page.locator("#due")).to_have_text("0 cards")  # Again and Hard bring theirs back in minutes
        expect(page.locator("#streak")).to_have_text("1 day")
        expect(page.locator("#recalled")).to_have_text("75% of 4 grades")
        expect(page.locator("#cards")).to_have_text("4 1 in review")  # Easy graduates at once
        expect(page.locator("#today")).to_have_text("4 grades 6 new left")
        expect(page.locator("#practise")).to_have_text("Practise new cards")
        difficulty = page.locator("#by-difficulty tbody tr")
        expect(difficulty).to_have_count(1)
        expect(difficulty.first).to_have_text(re.compile(r"^\s*Medium\s+75%\s+3 of 4\s*$"))
        expect(difficulty.first.locator("rect.bar.fair")).to_have_attribute("width", "75.0")
        topics = page.locator("#by-topic tbody th")
        expect(topics).to_have_count(8)  # the most practised; the others under "The other 2 topics"
        expect(topics.first).to_have_text("Fundamentals")
        expect(page.locator(".more-topics summary")).to_have_text("The other 2 topics")
        expect(page.locator("#by-topic-more")).to_be_hidden()
        links = page.locator("#weakest a")
        expect(links).to_have_text([f"Practise {t}" for t in WEAKEST])
        expect(page.locator("#weakest li").first).to_contain_text(
            "0% recalled (0 of 1 grade) · 1 question last graded Again or Hard"
        )
        page.screenshot(path=str(ARTIFACTS / "progress-desktop.png"), full_page=True)

        # By keyboard: Tab from the top reaches each control with a visible ring, then Enter follows a topic.
        page.locator("body").focus()
        regularization = links.nth(WEAKEST.index("Regularization"))
        for _ in range(30):
            page.keyboard.press("Tab")
            assert page.evaluate_handle("document.activeElement").evaluate(FOCUS_RING)
            if regularization.evaluate("el => el === document.activeElement"):
                break
        expect(regularization).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{server.base_url}/practice?tag=Regularization")
        expect(page.locator("select[name=tag]")).to_have_value("Regularization")
        expect(page.locator("#card")).to_have_attribute("data-question-id", OVERFITTING)  # nothing due: a new one
        expect(page.locator("#counts")).to_contain_text("0 due · 4 new left today")  # Regularization: L1 and 4 more
        cookies = context.cookies()
        context.close()
        assert errors == []

        phone = browser.new_context(viewport=SMALL_PHONE, base_url=server.base_url, has_touch=True, is_mobile=True)
        phone.add_cookies(cookies)  # the same learner, on a phone
        page = phone.new_page()
        errors = watch(page)
        page.goto("/progress")
        expect(page.locator("#recalled")).to_have_text("75% of 4 grades")
        assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]  # no sideways scroll
        for link in page.locator("#weakest a, #practise").all():
            box = link.bounding_box()
            assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= SMALL_PHONE["width"]
        bar = page.locator("#by-topic svg.share-bar").first.bounding_box()
        assert bar is not None and bar["width"] >= 32  # the chart still shows beside the numbers
        page.locator(".more-topics summary").tap()
        expect(page.locator("#by-topic-more tbody tr")).to_have_count(2)
        page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar at the top of the picture
        page.screenshot(path=str(ARTIFACTS / "progress-phone.png"), full_page=True)
        page.locator("#weakest a").first.tap()
        expect(page).to_have_url(f"{server.base_url}/practice?tag=Feature+Selection")
        expect(page.locator("#done")).to_be_visible()  # its one question was graded Again a moment ago
        expect(page.locator("#done-detail")).to_contain_text("The next card in this selection is due in")
        expect(page.get_by_role("link", name="See your progress")).to_have_attribute("href", "/progress")
        phone.close()
        assert errors == []
