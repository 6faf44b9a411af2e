"""The insights page behind its login: 401 and the form without a session,
the token setting a signed HttpOnly cookie that the page and the admin API
both accept, forged, expired and old-token cookies refused, logout, the
pages' Content-Security-Policy, and the feature off (404) without a token.

Through the app's lifespan with a real SQLite store; the index is the
shipped bank embedded with ``HashEmbedder`` (sessions do not depend on
meaning; the gaps' meaning is tested in test_insights.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from service_support import service_settings

from index.engine import IngestReport
from service import admin
from service.app import create_app
from service.chart import day_chart
from service.insights import Day

TOKEN = "admin-page-test-token"


def make_client(fake_built: IngestReport, fake_embedder: HashEmbedder, tmp: Path, **settings: object) -> TestClient:
    values = {"admin_token": TOKEN} | settings
    return TestClient(create_app(service_settings(fake_built.path, tmp, **values), background_load=False,
                                 embedder=fake_embedder))  # fmt: skip


@pytest.fixture
def client(fake_built: IngestReport, fake_embedder: HashEmbedder, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(fake_built, fake_embedder, tmp_path) as c:
        c.get("/api/search", params={"q": "how do kubernetes pods get scheduled"})
        c.get("/api/search", params={"q": "what is dropout"})
        assert c.app.state.qbank.query_log.flush(10)  # type: ignore[attr-defined]
        yield c


def log_in(client: TestClient, token: str = TOKEN) -> str:
    r = client.post("/admin/login", data={"token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    return r.headers["set-cookie"]


def test_without_a_session_the_page_is_the_login_form_with_401(client: TestClient) -> None:
    r = client.get("/admin")
    assert r.status_code == 401
    assert '<form class="login-form" method="post" action="/admin/login">' in r.text
    assert 'type="password" name="token"' in r.text
    assert "kubernetes" not in r.text and "Gaps" not in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text)  # no inline script


def test_the_token_sets_a_signed_httponly_strict_cookie_that_opens_the_page(client: TestClient) -> None:
    cookie = log_in(client)
    assert cookie.startswith(f"{admin.COOKIE}=")
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "max-age", "path"} <= attributes
    assert "samesite=strict" in cookie.lower() and f"Max-Age={admin.SESSION_S}" in cookie
    assert "secure" not in attributes  # plain http here; https gets Secure
    assert TOKEN not in cookie
    page = client.get("/admin")
    assert page.status_code == 200
    assert '<h1 id="insights-title">Insights</h1>' in page.text
    assert "how do kubernetes pods get scheduled" in page.text
    assert '<svg class="day-chart"' in page.text
    api = client.get("/api/admin/insights")  # the same session opens the API
    assert api.status_code == 200 and api.json()["queries"] == 2
    assert client.get("/api/admin/insights/gaps.csv").status_code == 200


@pytest.mark.parametrize(
    ("token", "message"), [("wrong", "That is not the admin token."), ("", "Enter the admin token.")]
)
def test_a_wrong_or_empty_token_gets_401_and_no_cookie(client: TestClient, token: str, message: str) -> None:
    r = client.post("/admin/login", data={"token": token}, follow_redirects=False)
    assert r.status_code == 401
    assert message in r.text and "set-cookie" not in r.headers
    assert client.get("/api/admin/insights").status_code == 401


def test_forged_and_expired_cookies_are_refused(client: TestClient) -> None:
    log_in(client)
    value = client.cookies[admin.COOKIE]
    expires, signature = value.split(".")
    forged = {
        "later expiry, same signature": f"{int(expires) + 3600}.{signature}",
        "signature altered": f"{expires}.{signature[:-2]}AA",
        "no signature": expires,
        "garbage": "x.y",
        # int() refused both: 500s (attack run)
        "superscript digits": "¹².x",
        "4,400 digits": "9" * 4400 + ".x",
        "a signature that is not ASCII": f"{expires}.é",
    }
    client.cookies.clear()
    for why, bad in forged.items():
        raw = [(b"cookie", f"{admin.COOKIE}={bad}".encode())]  # as sent: httpx's cookie jar takes ASCII only
        assert client.get("/admin", headers=raw).status_code == 401, why  # type: ignore[arg-type]
        assert client.get("/api/admin/insights", headers=raw).status_code == 401, why  # type: ignore[arg-type]
    client.cookies.clear()
    client.cookies.set(admin.COOKIE, value)  # the genuine one, set the same way, still opens it
    assert client.get("/admin").status_code == 200
    state = client.app.state.qbank  # type: ignore[attr-defined]
    past = int(time.time()) - 1
    client.cookies.clear()
    client.cookies.set(admin.COOKIE, f"{past}.{admin._signature(admin._key(state, TOKEN), past)}")  # type: ignore[arg-type]
    assert client.get("/admin").status_code == 401


def test_a_new_admin_token_ends_the_sessions_of_the_old(
    fake_built: IngestReport, fake_embedder: HashEmbedder, tmp_path: Path
) -> None:
    with make_client(fake_built, fake_embedder, tmp_path) as first:
        log_in(first)
        value = first.cookies[admin.COOKIE]
        assert first.get("/admin").status_code == 200
    with make_client(fake_built, fake_embedder, tmp_path, admin_token="a-new-token") as second:  # the same store
        second.cookies.set(admin.COOKIE, value)
        assert second.get("/admin").status_code == 401


def test_log_out_ends_the_session(client: TestClient) -> None:
    log_in(client)
    r = client.post("/admin/logout", follow_redirects=False)
    assert r.status_code == 303 and f'{admin.COOKIE}=""' in r.headers["set-cookie"]
    assert client.get("/admin").status_code == 401


def test_the_period_picks_the_window(client: TestClient) -> None:
    log_in(client)
    page = client.get("/admin", params={"days": 7})
    assert page.status_code == 200 and '<option value="7" selected>Last 7 days</option>' in page.text
    assert page.text.count('<g class="day">') == 7
    assert client.get("/admin", params={"days": 0}).status_code == 422


def test_without_an_admin_token_the_page_and_login_are_404(
    fake_built: IngestReport, fake_embedder: HashEmbedder, tmp_path: Path
) -> None:
    with make_client(fake_built, fake_embedder, tmp_path, admin_token=None) as client:
        assert client.get("/admin").status_code == 404
        assert client.post("/admin/login", data={"token": "None"}).status_code == 404
        assert client.get("/api/admin/insights").status_code == 404


def test_an_empty_admin_token_is_refused_at_start(fake_built: IngestReport, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="QBANK_ADMIN_TOKEN is empty"):
        service_settings(fake_built.path, tmp_path, admin_token="  ")


def test_the_chart_draws_each_day_to_scale() -> None:
    start = date(2026, 11, 29)
    days = [Day(start, 0, 0), Day(start + timedelta(days=1), 40, 10), Day(start + timedelta(days=2), 7, 7)]
    chart = day_chart(days)
    empty, busy, unanswered = chart.bars
    assert chart.volume_labels[1].text == "50"  # 40 rounded up to 1, 2 or 5 times a power of ten
    plot = chart.bottom - chart.top
    assert (empty.answered_height, empty.unanswered_height) == (0, 0)
    assert busy.answered_height == pytest.approx(plot * 30 / 50, abs=0.01)
    assert busy.unanswered_height == pytest.approx(plot * 10 / 50, abs=0.01)
    assert busy.unanswered_y + busy.unanswered_height == pytest.approx(busy.answered_y, abs=0.01)  # stacked
    assert (unanswered.answered_height, unanswered.rate_y) == (0, chart.top)  # all unanswered: 100 %
    assert len(chart.rate_points.split()) == 2  # a day without questions has no rate
    assert [label.text for label in chart.day_labels] == ["Nov 29", "Nov 30", "Dec 1"]
