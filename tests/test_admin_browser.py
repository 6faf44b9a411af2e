"""The insights page in real headless Chromium against a real ``qbank serve``:
401 and a login form first, the token typed and sent from the keyboard, then
the insights (a gap from questions asked a moment before, the chart, the
votes), the exports opened with the session, and the page at phone width
without a sideways scroll.

Fails on any console error or uncaught page error (a script or style the
Content-Security-Policy blocked shows as one).  Screenshots land in
test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from browser_support import ARTIFACTS, CHROMIUM, chromium, console_errors
from server_support import Server, qbank_server
from service_support import CONTENT

from index.engine import IngestReport

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: run `make setup-test`"),
]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

TOKEN = "browser-admin-token-0123456789"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Three wordings of one question the bank does not answer.  ("explain kubernetes pod scheduling" is
# answered since the off-topic check reads sentences: a learning-rate scheduling sentence; eval/README.)
GAP = ("how do kubernetes pods get scheduled", "k8s pod scheduling explained", "k8s: which node does my pod land on")
DROPOUT = "machine-learning--what-is-dropout-and-why-does-it-work"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def server(built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("admin-server")
    with qbank_server(built.path, work, content_dir=CONTENT, env={"QBANK_ADMIN_TOKEN": TOKEN}) as srv:
        with httpx.Client(base_url=srv.base_url, timeout=30) as client:
            for q in (*GAP, GAP[0]):
                assert client.get("/api/search", params={"q": q}).json()["answerable"] is False
            client.post("/api/chat", json={"messages": [{"role": "user", "content": "what is dropout"}]})
            vote = {"question_id": DROPOUT, "helpful": False, "query": "dropout", "comment": "needs a diagram"}
            assert client.post("/api/feedback", json=vote).status_code == 201
        yield srv


def watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    return console_errors(page, ignore="401")  # the 401 before logging in is the point, not an error


def log_in_by_keyboard(page) -> None:  # type: ignore[no-untyped-def]
    with page.expect_response("**/admin") as first:
        page.goto("/admin")
    assert first.value.status == 401
    field = page.get_by_label("Admin token")
    expect(field).to_be_focused()  # autofocus: type at once
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    expect(page.locator("#insights-title")).to_have_text("Insights")


def test_login_by_keyboard_then_the_insights_are_there(browser, server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    page = context.new_page()
    errors = watch(page)
    page.goto("/admin")
    expect(page.locator("#insights-title")).to_have_count(0)  # nothing but the form without a session
    page.get_by_label("Admin token").fill("not-the-token")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_have_text("That is not the admin token.")
    log_in_by_keyboard(page)
    (cookie,) = [c for c in context.cookies() if c["name"] == "qbank_admin"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("qbank_admin") == -1  # no script can read it

    gap = page.locator("#gaps tbody tr").first
    expect(gap.locator("td.num")).to_have_text("4")
    expect(gap.locator("summary")).to_contain_text(GAP[0])
    expect(gap.locator("summary")).to_contain_text("3 wordings")
    expect(page.locator("#total-queries")).to_have_text("5")
    expect(page.locator("svg.day-chart g.day")).to_have_count(30)
    expect(page.locator("#votes")).to_contain_text("needs a diagram")
    expect(page.locator("#top-questions")).to_contain_text("What is Dropout and Why Does It Work?")

    examples = gap.locator(".examples-list")
    expect(examples).to_be_hidden()
    gap.locator("summary").focus()
    page.keyboard.press("Enter")  # the wordings open from the keyboard
    expect(examples.locator("li")).to_have_text(list(GAP))

    href = gap.get_by_role("link", name=f"Export “{GAP[0]}” as CSV").get_attribute("href")
    exported = page.request.get(str(href))  # with the session cookie
    assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
    assert GAP[0] in exported.text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-desktop.png"), full_page=True)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Admin token")).to_be_visible()
    context.close()
    assert errors == []


def test_the_admin_api_is_401_without_the_token(browser, server: Server) -> None:
    context = browser.new_context(base_url=server.base_url)
    r = context.request.get("/api/admin/insights")
    assert r.status == 401
    assert "kubernetes" not in r.text()
    ok = context.request.get("/api/admin/insights", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status == 200 and ok.json()["gaps"][0]["label"] == GAP[0]
    context.close()


def test_at_phone_width_the_page_fits_and_works_by_touch(browser, server: Server) -> None:
    context = browser.new_context(viewport=PHONE, base_url=server.base_url, has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = watch(page)
    page.goto("/admin")
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Log in").tap()
    expect(page.locator("#insights-title")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing forces a sideways scroll
    chart = page.locator("svg.day-chart").bounding_box()
    assert chart is not None and chart["x"] >= 0 and chart["x"] + chart["width"] <= PHONE["width"]
    page.locator("#days").select_option("7")  # the period form submits itself
    expect(page).to_have_url(f"{server.base_url}/admin?days=7")
    expect(page.locator("svg.day-chart g.day")).to_have_count(7)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-phone.png"), full_page=True)
    context.close()
    assert errors == []
