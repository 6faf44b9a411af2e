"""Hardening: a damaged index is refused with a message that says how to rebuild
(never served), a killed ``qbank ingest`` leaves the previous index intact, a
hot reload swaps the index under load without a failed request, and the
request limits hold (body size, query length, chat rate).

Everything is real: the packaged model, indexes built by ``index.engine.ingest``,
the app through ``TestClient`` (lifespan included), ``qbank ingest`` and
``qbank serve`` as subprocesses, and loopback HTTP only.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from conftest import CONTENT, ML_BANK
from fastapi.testclient import TestClient
from server_support import Load, Request, hermetic_env, qbank_command, qbank_server, run_load
from service_support import service_settings

from index.embed import Embedder
from index.engine import IngestReport, ingest
from index.store import IndexLoadError, load_artifact, read_manifest
from qbank.settings import Settings
from service.app import create_app

L1L2 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"

# A question no real bank holds, in the bank format the parser reads.
NEW_BANK = """\
# Zorblax Interview Questions

## Premium Interview Questions

### What is a Zorblax Quaternion Lattice? - Acme Interview Question

**Difficulty:** 🟡 Medium | **Tags:** `Zorblax` | **Asked by:** Acme

??? success "View Answer"

    A zorblax quaternion lattice stacks quaternion-valued filters on a hexagonal grid
    so that rotations of the input rotate the features the same way.
"""
NEW_ID = "zorblax--what-is-a-zorblax-quaternion-lattice"  # the bank slug comes from the file name
NEW_QUERY = "zorblax quaternion lattice"


# -- faults in the index on disk -----------------------------------------------------


def _rewrite_manifest(index: Path, **changes: object) -> None:
    path = index / "manifest.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def _truncate(index: Path) -> None:
    f = index / "embeddings.npy"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _corrupt(index: Path) -> None:
    f = index / "bm25.npz"
    data = bytearray(f.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(b ^ 0xFF for b in data[mid : mid + 64])
    f.write_bytes(bytes(data))


def _drop_chunk_consistently(index: Path) -> None:
    """chunks.json one chunk short, with its checksum updated: files that agree
    with the manifest but not with each other."""
    import hashlib

    f = index / "chunks.json"
    f.write_text(json.dumps(json.loads(f.read_text())[:-1]))
    files = json.loads((index / "manifest.json").read_text())["files"]
    _rewrite_manifest(index, files={**files, "chunks.json": hashlib.sha256(f.read_bytes()).hexdigest()})


FAULTS: dict[str, tuple[Callable[[Path], object], str]] = {
    "missing file": (lambda ix: (ix / "dense.faiss").unlink(), r"dense\.faiss is missing"),
    "truncated file": (_truncate, r"embeddings\.npy is damaged"),
    "corrupted file": (_corrupt, r"bm25\.npz is damaged"),
    "another model": (
        lambda ix: _rewrite_manifest(ix, model="all-mpnet-base-v2"),
        r"built with model 'all-mpnet-base-v2'",
    ),
    "another dimension": (lambda ix: _rewrite_manifest(ix, dimension=768), r"dimension 768"),
    "unreadable manifest": (lambda ix: (ix / "manifest.json").write_text("{not json"), r"manifest\.json is unreadable"),
    "newer format": (lambda ix: _rewrite_manifest(ix, format_version=99), r"format version 99"),
    "inconsistent files": (_drop_chunk_consistently, r"inconsistent"),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_damaged_index_is_refused_with_rebuild_advice(
    fault: str, index_copy: Callable[[str], Path], embedder: Embedder
) -> None:
    index = index_copy("index")
    damage, message = FAULTS[fault]
    damage(index)
    with pytest.raises(IndexLoadError, match=message) as err:
        load_artifact(index, expect_model=embedder.model_name, expect_dimension=embedder.dimension)
    assert f"qbank ingest --index {index}" in str(err.value)


APP_FAULTS = ("missing file", "truncated file", "another model")


@pytest.mark.parametrize("fault", APP_FAULTS)
def test_service_stays_unready_on_a_damaged_index(
    fault: str, index_copy: Callable[[str], Path], tmp_path: Path
) -> None:
    index = index_copy("index")
    FAULTS[fault][0](index)
    version = index.resolve()
    before = sorted(p.name for p in version.iterdir())
    app = create_app(service_settings(index, tmp_path), background_load=False)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "error"
        assert re.search(FAULTS[fault][1], ready.json()["detail"])
        assert "rebuild it with `qbank ingest --index …/index`" in ready.json()["detail"]
        assert str(index.parent) not in ready.json()["detail"]  # no filesystem layout in a response
        for response in (
            client.get("/api/search", params={"q": "lasso vs ridge"}),
            client.post("/api/chat", json={"messages": [{"role": "user", "content": "lasso vs ridge"}]}),
            client.get(f"/api/questions/{L1L2}"),
        ):
            assert response.status_code == 503, response.text
            assert "qbank ingest" in response.json()["detail"]
            assert "hits" not in response.json()
    # Refused, not rebuilt over: the damaged version is still what the link points at.
    assert index.resolve() == version
    assert sorted(p.name for p in version.iterdir()) == before


def test_reload_refuses_a_damaged_index_and_keeps_serving(index_copy: Callable[[str], Path], tmp_path: Path) -> None:
    index = index_copy("index")
    app = create_app(service_settings(index, tmp_path, admin_token="s3cret"), background_load=False)
    with TestClient(app) as client:
        _corrupt(index)
        refused = client.post("/admin/reload", headers={"Authorization": "Bearer s3cret"})
        assert refused.status_code == 409
        assert "still serving the previous index" in refused.json()["detail"]
        assert "qbank ingest" in refused.json()["detail"]
        search = client.get("/api/search", params={"q": "lasso vs ridge"})
        assert search.status_code == 200
        assert search.json()["hits"][0]["id"] == L1L2
        assert client.get("/readyz").status_code == 200


# -- a crash in the middle of `qbank ingest` ----------------------------------------------


def _ingest_process(content: Path, index: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [*qbank_command(), "ingest", "--content", str(content), "--index", str(index)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=hermetic_env(),
        )


def _kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout_s: float = 240) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()``; False if it finished first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    raise AssertionError(f"qbank ingest never reached the kill point in {timeout_s}s")


def _has_tmp_version(index: Path) -> bool:
    """Whether a new version of ``index`` is being written (its ``.tmp`` directory exists)."""
    return any(index.parent.glob(f".{index.name}-*.tmp"))


def _assert_previous_intact(index: Path, version: Path, content_hash: str, embedder: Embedder) -> None:
    assert index.resolve() == version, "the index link moved to a version a killed ingest wrote"
    artifact = load_artifact(index, expect_model=embedder.model_name, expect_dimension=embedder.dimension)
    assert artifact.manifest.content_hash == content_hash
    assert any(q.id == L1L2 for q in artifact.questions)


def test_ingest_killed_while_embedding_leaves_previous_index(
    index_copy: Callable[[str], Path], tmp_path: Path, embedder: Embedder
) -> None:
    index = index_copy("index")
    version, content_hash = index.resolve(), read_manifest(index).content_hash
    content = tmp_path / "content"
    content.mkdir()
    # Most chunks change, so the ingest has a long embedding phase to be killed in.
    (content / ML_BANK.name).write_text(ML_BANK.read_text(encoding="utf-8").replace("model", "estimator"))
    log = tmp_path / "ingest.log"
    proc = _ingest_process(content, index, log)
    # The embedding progress bar: sentence-transformers' "Batches", the ONNX encoder's "embedding".
    killed = _kill_when(proc, lambda: re.search(r"(Batches|embedding):", log.read_text(errors="replace")) is not None)
    assert killed, f"qbank ingest finished before it could be killed:\n{log.read_text()[-2000:]}"
    assert proc.returncode == -signal.SIGKILL
    _assert_previous_intact(index, version, content_hash, embedder)


def test_ingest_killed_while_saving_leaves_previous_index(
    index_copy: Callable[[str], Path], tmp_path: Path, embedder: Embedder
) -> None:
    """Killed while the new version is being written (its ``.tmp`` directory
    exists): the previous index still loads, and the next ingest succeeds."""
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(ML_BANK, content / ML_BANK.name)
    (content / "zorblax.md").write_text(NEW_BANK, encoding="utf-8")
    for attempt in range(4):  # the write window is short; a run that finishes first is retried
        index = index_copy(f"index{attempt}")
        version, content_hash = index.resolve(), read_manifest(index).content_hash
        log = tmp_path / f"ingest{attempt}.log"
        proc = _ingest_process(content, index, log)
        if _kill_when(proc, partial(_has_tmp_version, index)):
            break
    else:
        pytest.fail("qbank ingest finished before its .tmp directory was seen in 4 runs")
    assert _has_tmp_version(index), "the half-written version should be left behind"
    _assert_previous_intact(index, version, content_hash, embedder)
    report = ingest(content, index, embedder)
    assert index.resolve() != version
    assert NEW_ID in {q.id for q in report.artifact.questions}


# -- hot reload under load ------------------------------------------------------------------


def _search(text: str) -> Request:
    return Request("GET", "/api/search?" + urllib.parse.urlencode({"q": text}))


RELOAD_LOAD = [
    _search("l1 vs l2 regularization"),
    _search("how do I handle class imbalance"),
    _search("bias variance tradeoff"),
    Request("POST", "/api/chat", json.dumps({"messages": [{"role": "user", "content": "explain dropout"}]})),
    Request("GET", "/readyz"),
    Request("GET", f"/api/questions/{L1L2}"),
]


@pytest.mark.server
def test_hot_reload_swaps_the_index_under_load(index_copy: Callable[[str], Path], tmp_path: Path) -> None:
    index = index_copy("index")
    token = "reload-token-for-tests"
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(ML_BANK, content / ML_BANK.name)
    (content / "zorblax.md").write_text(NEW_BANK, encoding="utf-8")
    stop = threading.Event()
    results: list[Load] = []

    with (
        qbank_server(index, tmp_path, content_dir=CONTENT, env={"QBANK_ADMIN_TOKEN": token}) as server,
        httpx.Client(base_url=server.base_url, timeout=60) as client,
    ):
        before = client.get("/readyz").json()["counts"]["questions"]

        def load() -> None:
            results.append(run_load(server.base_url, RELOAD_LOAD, 4, 50_000, 240, stop=stop))

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        ingested = subprocess.run(
            [*qbank_command(), "ingest", "--content", str(content), "--index", str(index)],
            capture_output=True,
            text=True,
            env=hermetic_env(),
            timeout=300,
        )
        assert ingested.returncode == 0, ingested.stderr[-2000:]
        # On disk but not yet served.
        assert client.get("/api/search", params={"q": NEW_QUERY}).json()["hits"][0]["id"] != NEW_ID

        assert client.post("/admin/reload").status_code == 401
        assert client.post("/admin/reload", headers={"Authorization": "Bearer wrong"}).status_code == 401
        reloaded = client.post("/admin/reload", headers={"Authorization": f"Bearer {token}"})
        assert reloaded.status_code == 200, reloaded.text
        assert reloaded.json()["counts"]["questions"] == before + 1
        time.sleep(2)  # keep the load running on the new index for a moment
        stop.set()
        loader.join(timeout=60)
        assert not loader.is_alive()

        (result,) = results
        print(f"\nacross the reload: {result.summary()}")
        assert result.requests >= 20, f"too little load ran across the swap: {result.summary()}"
        assert result.failed == 0, f"requests failed across the reload: {result.summary()}"
        hits = client.get("/api/search", params={"q": NEW_QUERY}).json()["hits"]
        assert hits[0]["id"] == NEW_ID
        assert client.get("/readyz").json()["counts"]["questions"] == before + 1


# -- request limits ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_client(built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("limits")
    app = create_app(service_settings(built.path, tmp, chat_rate_limit=3), background_load=False)
    with TestClient(app) as client:
        yield client


def test_body_over_64_kib_is_413(limited_client: TestClient) -> None:
    body = json.dumps({"q": "x" * (64 * 1024)}).encode()
    assert len(body) > 65536
    response = limited_client.post("/api/search", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "65536-byte limit" in response.json()["detail"]


def test_streamed_body_over_the_limit_is_413(limited_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"q": "'
        for _ in range(80):
            yield b"y" * 1024
        yield b'"}'

    response = limited_client.post("/api/search", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_query_over_2000_chars_is_422(limited_client: TestClient, method: str) -> None:
    q = "regularization " * 134  # 2,010 characters
    q = q[:2001]
    if method == "GET":
        response = limited_client.get("/api/search", params={"q": q})
    else:
        response = limited_client.post("/api/search", json={"q": q})
    assert response.status_code == 422
    assert "2001 characters; the limit is 2000" in response.text
    assert limited_client.get("/api/search", params={"q": q[:2000]}).status_code == 200


def test_chat_rate_limit_answers_429_on_the_fourth_request(limited_client: TestClient) -> None:
    chat = {"messages": [{"role": "user", "content": "what is dropout"}]}
    statuses = [limited_client.post("/api/chat", json=chat).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = limited_client.post("/api/chat", json=chat)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    assert "3 per minute" in limited.json()["detail"]
    # Only chat is limited.
    assert limited_client.get("/api/search", params={"q": "dropout"}).status_code == 200


def test_rate_limit_is_off_by_default(built: IngestReport, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        index_dir=built.path,
        database_url=f"sqlite:///{tmp_path / 'qbank.sqlite3'}",
        feedback_path=tmp_path / "feedback.sqlite3",
    )
    assert settings.chat_rate_limit == 0
    app = create_app(settings, background_load=False)
    chat = {"messages": [{"role": "user", "content": "what is dropout"}]}
    with TestClient(app) as client:
        statuses = [client.post("/api/chat", json=chat).status_code for _ in range(8)]
    assert statuses == [200] * 8
