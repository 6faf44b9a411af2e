"""``qbank serve``'s head start (``service.preload``): the encoder loads on a
thread while the web app is imported; the app made next takes it, and the
service's load waits for that thread instead of loading a second time.  A
preload that fails is reported by the service's own load, like any load error."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from service_support import service_settings
from typer.testing import CliRunner

from index.embed import Embedder
from index.engine import IngestReport
from qbank.cli import app as cli_app
from qbank.settings import get_settings
from service import preload
from service.app import app_factory, create_app
from service.limits import KEEP_ALIVE_S


class SlowLoad(HashEmbedder):
    """Loads once ``gate`` is set (the first time); records each call's thread and
    whether a call came while another was still loading.  ``fail`` makes every load raise."""

    def __init__(self, fail: str | None = None) -> None:
        super().__init__()
        self.fail = fail
        self.gate = threading.Event()
        self.calls: list[str] = []
        self.builds = 0
        self.overlapped = False
        self._busy = False
        self._loaded = False

    def load(self) -> SlowLoad:
        self.calls.append(threading.current_thread().name)
        self.overlapped |= self._busy
        if self.fail:
            raise RuntimeError(self.fail)
        if not self._loaded:
            self._busy = True
            assert self.gate.wait(30), "the test never let the load finish"
            self.builds += 1
            self._loaded, self._busy = True, False
        return self


@pytest.fixture(autouse=True)
def nothing_left_to_claim() -> Iterator[None]:
    yield
    preload.claim()
    preload._loading.clear()


def ready(client: TestClient, timeout_s: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while True:
        body: dict[str, object] = client.get("/readyz").json()
        if body["status"] != "loading" or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def test_claimed_once(fake_built: IngestReport) -> None:
    embedder = SlowLoad()
    embedder.gate.set()
    preload.start(embedder)
    assert preload.claim() is embedder
    assert preload.claim() is None  # the next app (a reload's, a test's) makes its own
    preload.wait(embedder)
    assert embedder.calls == ["qbank-encoder-preload"] and embedder.builds == 1


def test_the_app_factory_takes_the_preloaded_encoder_and_its_load_waits_for_it(
    fake_built: IngestReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("QBANK_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("QBANK_INDEX_DIR", str(fake_built.path))
    monkeypatch.setenv("QBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'qbank.sqlite3'}")
    monkeypatch.setenv("QBANK_FEEDBACK_PATH", str(tmp_path / "feedback.sqlite3"))
    get_settings.cache_clear()
    embedder = SlowLoad()
    waiting = threading.Event()
    real_wait = preload.wait

    def wait(e: Embedder) -> None:
        waiting.set()
        real_wait(e)

    monkeypatch.setattr(preload, "wait", wait)
    try:
        preload.start(embedder)
        app = app_factory()
        with TestClient(app) as client:
            assert waiting.wait(30), "the service's load never waited for the preload"
            assert embedder.calls == ["qbank-encoder-preload"]  # nothing else loads it meanwhile
            assert client.get("/readyz").json()["status"] == "loading"
            embedder.gate.set()
            assert ready(client)["status"] == "ready"
            assert app.state.qbank.embedder is embedder
    finally:
        get_settings.cache_clear()
    # Loaded once, on the preload thread; the service's load came after it had finished.
    assert embedder.calls[0] == "qbank-encoder-preload" and embedder.builds == 1
    assert len(embedder.calls) == 2 and not embedder.overlapped


def test_a_failed_preload_is_reported_by_the_service_load(fake_built: IngestReport, tmp_path: Path) -> None:
    embedder = SlowLoad(fail="the model folder is gone")
    preload.start(embedder)
    app = create_app(service_settings(fake_built.path, tmp_path), embedder=preload.claim())
    with TestClient(app) as client:
        body = ready(client)
    assert body["status"] == "error" and "the model folder is gone" in str(body["detail"]), body
    # Failed on the preload thread, tried again by the service's load, which reported it.
    assert embedder.calls[0] == "qbank-encoder-preload" and len(embedder.calls) == 2


@pytest.mark.parametrize(("workers", "preloaded"), [(1, True), (2, False)])
def test_serve_preloads_only_when_the_app_is_made_in_its_own_process(
    workers: int, preloaded: bool, fake_built: IngestReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wiring only: uvicorn.run is recorded instead of serving (the server tests serve for real)."""
    import uvicorn

    for key in [k for k in os.environ if k.startswith("QBANK_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("QBANK_INDEX_DIR", "")  # serve --index sets it in os.environ: undone after the test
    monkeypatch.chdir(tmp_path)
    started: list[object] = []
    ran: list[dict[str, object]] = []
    monkeypatch.setattr(preload, "start", started.append)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: ran.append(kw))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["serve", "--index", str(fake_built.path), "--workers", str(workers)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert ran and ran[0]["workers"] == workers
    assert ran[0]["timeout_keep_alive"] == KEEP_ALIVE_S  # the idle time the load clients stay under
    assert bool(started) is preloaded
