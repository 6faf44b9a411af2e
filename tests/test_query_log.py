"""The query log: every search and chat turn of the API and the web pages is
stored with what answered, the surface and the anonymous learner only;
``QBANK_QUERY_LOG=false`` stores nothing; rows older than the retention go,
at start and on each purge (on SQLite and on a real PostgreSQL); a store that
fails to write costs the request nothing.

Through the app's lifespan over the shipped bank indexed with
``HashEmbedder``: what is logged does not depend on meaning.  (The Slack
surface is tested with the bot, in test_slack.py.)"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from service_support import service_settings
from sqlalchemy import event, text

from index.engine import IngestReport
from qbank.settings import Settings
from service import learner, share
from service.app import create_app
from service.querylog import QueryLog
from service.store import Store
from service.store.queries import LoggedQuery, QueryLogStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def entry(created_at: datetime, query: str = "dropout", **fields: object) -> LoggedQuery:
    values: dict[str, object] = {
        "created_at": created_at,
        "surface": "api",
        "action": "search",
        "query": query,
        "searched": query,
        "abstained": False,
        "hits": (("q-dropout", 0.61), ("q-bagging", 0.2)),
        "latency_ms": 3.5,
        "top_dense": 0.7,
    }
    return LoggedQuery(**(values | fields))  # type: ignore[arg-type]


def state_of(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.qbank  # type: ignore[attr-defined]


def logged(client: TestClient) -> list[LoggedQuery]:
    """Everything the app's log holds, once what is queued is written."""
    log: QueryLog = state_of(client).query_log
    assert log.flush(10), "the query log did not drain"
    return log.rows.entries()


def app_client(fake_built: IngestReport, fake_embedder: HashEmbedder, settings: Settings) -> TestClient:
    return TestClient(create_app(settings, background_load=False, embedder=fake_embedder))


@pytest.fixture
def settings(fake_built: IngestReport, tmp_path: Path) -> Settings:
    return service_settings(fake_built.path, tmp_path)


@pytest.fixture
def client(fake_built: IngestReport, fake_embedder: HashEmbedder, settings: Settings) -> Iterator[TestClient]:
    with app_client(fake_built, fake_embedder, settings) as c:
        yield c


# -- what a row holds ----------------------------------------------------------------------


def test_an_api_search_is_logged_with_its_hits_and_no_client_address(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "  why does lasso zero out weights ", "k": 3, "company": "facebook"})
    assert r.status_code == 200
    body = r.json()
    (row,) = logged(client)
    assert (row.surface, row.action, row.query, row.searched) == (
        "api",
        "search",
        "why does lasso zero out weights",
        "why does lasso zero out weights",
    )
    assert [record_id for record_id, _ in row.hits] == [h["id"] for h in body["hits"]]
    assert [score for _, score in row.hits] == [pytest.approx(h["score"], abs=1e-4) for h in body["hits"]]
    assert row.abstained is (not body["answerable"])
    assert row.company == "Meta"  # the canonical name, as the filters match it
    assert row.latency_ms == pytest.approx(body["took_ms"], abs=0.01) and row.latency_ms > 0
    assert row.learner is None and row.kind is None
    assert "testclient" not in repr(row)  # TestClient's client address: never stored


def test_a_learner_token_is_logged_as_its_anonymous_id_and_a_forged_one_as_none(client: TestClient) -> None:
    token = client.get("/api/practice/next").json()["learner"]
    client.cookies.clear()
    key = state_of(client).learner_key
    client.get("/api/search", params={"q": "dropout"}, headers={learner.HEADER: token})
    client.post("/api/search", json={"q": "bagging"}, headers={learner.HEADER: "x" * 22 + "." + "y" * 43})
    first, forged = logged(client)
    assert first.learner == learner.verify(token, key) and first.learner is not None
    assert token not in repr(first)  # the id, not the signed token
    assert forged.learner is None


def test_a_chat_turn_is_logged_with_its_rewritten_query_and_the_page_header_makes_it_web(client: TestClient) -> None:
    history = [
        {"role": "user", "content": "explain bagging"},
        {"role": "assistant", "content": "..."},
        {"role": "user", "content": "and its code?"},
    ]
    r = client.post("/api/chat", json={"messages": history})
    assert r.status_code == 200
    body = r.json()
    stream = client.post(
        "/api/chat/stream",
        json={"messages": [{"role": "user", "content": "what's the best pizza in naples?"}], "render": "html"},
        headers={"X-Qbank-Surface": "web"},
    )
    assert stream.status_code == 200
    api, web = logged(client)
    assert (api.surface, api.action, api.query) == ("api", "chat", "and its code?")
    assert api.searched == body["rewritten_query"]
    assert api.searched != api.query and api.kind == body["kind"]
    assert [i for i, _ in api.hits] == [s["id"] for s in body["sources"]][:5]
    assert api.top_dense is not None and api.latency_ms > 0
    assert (web.surface, web.query) == ("web", "what's the best pizza in naples?")
    assert (web.abstained, web.kind) == (True, "abstain")


def test_a_company_list_is_logged_with_its_company(client: TestClient) -> None:
    r = client.post("/api/chat", json={"messages": [{"role": "user", "content": "what does Uber ask?"}]})
    assert r.json()["kind"] == "company_list"
    (row,) = logged(client)
    assert (row.kind, row.company, row.abstained) == ("company_list", "Uber", False)


def test_the_pages_log_a_new_question_as_web_and_a_shared_link_opened_logs_nothing(client: TestClient) -> None:
    assert client.get("/browse", params={"q": "gradient boosting"}).status_code == 200
    assert client.get("/", params={"q": "explain bagging"}).status_code == 200
    link = share.encode([share.new_turn("explain bagging", {}, 2000)])
    assert client.get("/", params={"c": link}).status_code == 200  # a link opened: nothing new asked
    assert client.get("/", params={"c": link, "q": "and boosting?"}).status_code == 200  # one new turn
    rows = logged(client)
    assert [(r.surface, r.action, r.query) for r in rows] == [
        ("web", "search", "gradient boosting"),
        ("web", "chat", "explain bagging"),
        ("web", "chat", "and boosting?"),
    ]


def test_invalid_questions_and_browsing_are_not_logged(client: TestClient) -> None:
    assert client.get("/api/search", params={"q": "   "}).status_code == 422
    assert client.get("/api/questions").status_code == 200
    assert client.get("/browse").status_code == 200
    assert logged(client) == []


def test_the_setting_turns_the_log_off(fake_built: IngestReport, fake_embedder: HashEmbedder, tmp_path: Path) -> None:
    settings = service_settings(fake_built.path, tmp_path, query_log=False)
    with app_client(fake_built, fake_embedder, settings) as client:
        assert client.get("/api/search", params={"q": "dropout"}).status_code == 200
        assert client.post("/api/chat", json={"messages": [{"role": "user", "content": "dropout"}]}).status_code == 200
        assert logged(client) == []


# -- never in the way --------------------------------------------------------------------------


def test_a_store_that_cannot_write_the_log_costs_the_request_nothing(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    log: QueryLog = state_of(client).query_log
    with log.rows.store.transaction() as session:
        session.execute(text("DROP TABLE query_log"))
    with caplog.at_level(logging.WARNING, logger="service.querylog"):
        r = client.get("/api/search", params={"q": "dropout"})
        assert r.status_code == 200 and r.json()["hits"]
        assert log.flush(10)
    assert log.skipped == 1
    assert "query log: 1 entries not written" in caplog.text


def test_a_full_queue_skips_the_entry_without_blocking(store_url: str) -> None:
    store = Store(store_url).open()
    try:
        log = QueryLog(store, max_pending=2)  # not started: nothing drains the queue
        for _ in range(3):
            log.record(entry(NOW))
        assert log.skipped == 1
        log.start()
        assert log.flush(10)
        assert len(log.rows.entries()) == 2
        log.close()
    finally:
        store.close()


def test_a_burst_is_written_in_one_transaction_and_flush_does_not_wait_out_the_linger(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(store_url).open()
    try:
        log = QueryLog(store, linger_s=30.0)
        writes: list[int] = []
        add = log.rows.add

        def counted(entries: list[LoggedQuery]) -> None:
            writes.append(len(entries))
            add(entries)

        monkeypatch.setattr(log.rows, "add", counted)
        log.start()
        log.record(entry(NOW, "first"))
        deadline = time.monotonic() + 10
        while not writes and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writes == [1], "a lone entry is written at once"
        for i in range(20):
            log.record(entry(NOW, f"burst {i}"))
        time.sleep(0.2)
        assert writes == [1], "the writer is gathering: no transaction per entry"
        assert log.flush(10), "flush must cut the 30 s linger short"
        assert writes == [1, 20]
        assert [e.query for e in log.rows.entries()] == ["first"] + [f"burst {i}" for i in range(20)]
        log.record(entry(NOW, "last"))
        log.close(timeout_s=10)  # also cuts it short, and writes what is queued
        assert writes == [1, 20, 1]
    finally:
        store.close()


def test_a_batch_with_empty_columns_here_and_there_is_still_one_insert(store_url: str) -> None:
    store = Store(store_url).open()
    try:
        inserts: list[tuple[str, bool]] = []

        def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("INSERT INTO QUERY_LOG"):
                inserts.append((statement, executemany))

        event.listen(store.engine, "before_cursor_execute", seen)
        mixed = [
            entry(NOW, "a", kind="answer", company="Google", learner="l-1"),
            entry(NOW, "b", top_dense=None, hits=()),
            entry(NOW, "c", kind="abstain", abstained=True, top_dense=None),
            entry(NOW, "d", company="Meta"),
        ]
        QueryLog(store).rows.add(mixed)
        event.remove(store.engine, "before_cursor_execute", seen)
        assert len(inserts) == 1 and inserts[0][1], inserts  # one statement, executed for many rows
        stored = {e.query: e for e in QueryLog(store).rows.entries()}
        assert sorted(stored) == ["a", "b", "c", "d"]
        assert (stored["a"].company, stored["b"].company, stored["d"].company) == ("Google", None, "Meta")
        assert (stored["b"].top_dense, stored["c"].kind, stored["a"].learner) == (None, "abstain", "l-1")
    finally:
        store.close()


def test_close_drains_a_backlog_without_lingering_between_batches(store_url: str) -> None:
    store = Store(store_url).open()
    try:
        log = QueryLog(store, linger_s=30.0)
        log.start()
        log.record(entry(NOW, "first"))  # written at once; then the writer lingers for 30 s
        time.sleep(0.2)
        for i in range(1200):  # more than two full batches
            log.record(entry(NOW, f"queued {i}"))
        started = time.monotonic()
        log.close(timeout_s=20)
        assert time.monotonic() - started < 15, "close lingered between batches"
        assert len(QueryLog(store).rows.entries()) == 1201 and log.skipped == 0
    finally:
        store.close()


# -- retention -------------------------------------------------------------------------------


def test_retention_deletes_the_rows_older_than_its_days_and_keeps_the_rest(store_url: str) -> None:
    store = Store(store_url).open()
    try:
        log = QueryLog(store, keep_days=90)
        ages = {"old": 91, "just-old": 90.01, "just-kept": 89.99, "new": 1}
        log.rows.add([entry(NOW - timedelta(days=days), query=name) for name, days in ages.items()])
        assert log.purge(now=NOW) == 2
        assert [e.query for e in log.rows.entries()] == ["just-kept", "new"]
        assert log.purge(now=NOW) == 0
        kept = log.rows.entries()[0]
        assert kept == entry(NOW - timedelta(days=89.99), query="just-kept")  # every field back as written
    finally:
        store.close()


def test_the_app_deletes_rows_past_the_retention_when_it_starts(
    fake_built: IngestReport, fake_embedder: HashEmbedder, tmp_path: Path
) -> None:
    settings = service_settings(fake_built.path, tmp_path, query_log_days=7)
    store = Store(settings.store_url).open()
    now = datetime.now(UTC)
    QueryLogStore(store).add([entry(now - timedelta(days=8), "stale"), entry(now - timedelta(days=6), "recent")])
    store.close()
    with app_client(fake_built, fake_embedder, settings) as client:
        assert [e.query for e in logged(client)] == ["recent"]


def test_the_writer_purges_again_while_running(store_url: str) -> None:
    store = Store(store_url).open()
    try:
        log = QueryLog(store, keep_days=1, purge_every_s=0.0)  # every pass of the writer
        log.start()
        log.rows.add([entry(datetime.now(UTC) - timedelta(days=2), "stale")])
        log.record(entry(datetime.now(UTC), "fresh"))
        assert log.flush(10)
        deadline = time.monotonic() + 10
        while len(log.rows.entries()) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e.query for e in log.rows.entries()] == ["fresh"]
        log.close()
    finally:
        store.close()
