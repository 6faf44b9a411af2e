"""Hostile input that used to get a 500 or leave the service half-changed:
non-standard JSON numbers, and a reload of an index whose manifest has the
right keys but the wrong types.  The app runs through its lifespan over the
shipped bank indexed with ``HashEmbedder`` (mechanics, not meaning)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from service_support import ENSEMBLE_ID, metric, service_settings

from index.engine import IngestReport
from index.store import IndexLoadError, read_manifest
from service.app import create_app

NON_FINITE = ("NaN", "Infinity", "-Infinity")
BODIES = {
    "/api/search": '{{"q": "dropout", "k": {x}}}',
    "/api/chat": '{{"messages": [{{"role": "user", "content": "dropout"}}], "stream": {x}}}',
    "/api/feedback": '{{"query": "dropout", "question_id": "' + ENSEMBLE_ID + '", "helpful": {x}}}',
}


@pytest.fixture(scope="module")
def client(
    fake_embedder: HashEmbedder, fake_built: IngestReport, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("hostile")
    settings = service_settings(fake_built.path, tmp)
    with TestClient(create_app(settings, background_load=False, embedder=fake_embedder)) as c:
        yield c


@pytest.mark.parametrize("path", sorted(BODIES))
@pytest.mark.parametrize("number", NON_FINITE)
def test_non_standard_json_numbers_are_a_422_that_says_so(client: TestClient, path: str, number: str) -> None:
    r = client.post(path, content=BODIES[path].format(x=number), headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json() == {"detail": "the request has a non-standard JSON number (NaN or Infinity); send a finite number"}


def test_a_manifest_with_wrong_types_is_refused_at_reload_and_nothing_changes(
    fake_embedder: HashEmbedder, fake_built: IngestReport, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(fake_built.path.resolve(), index)
    settings = service_settings(index, tmp_path, admin_token="s3cret")
    with TestClient(create_app(settings, background_load=False, embedder=fake_embedder)) as c:
        before = c.get("/readyz").json()
        manifest = json.loads((index / "manifest.json").read_text())
        manifest["counts"]["chunks"] = "lots"
        (index / "manifest.json").write_text(json.dumps(manifest))
        r = c.post("/admin/reload", headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 409
        assert "counts['chunks'] must be int" in r.json()["detail"]
        assert c.get("/readyz").json() == before  # still the previous index
        assert c.get("/api/search", params={"q": "dropout"}).status_code == 200
        text = c.get("/metrics").text
        assert metric(text, "qbank_index_reloads_total", outcome="failed") == 1.0
        assert metric(text, "qbank_index_reloads_total", outcome="ok") == 0.0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"dimension": "384"}, "'dimension' must be int"),
        ({"format_version": True}, "'format_version' must be int"),
        ({"files": {"chunks.json": 7}}, "files['chunks.json'] must be str"),
        ({"extra": 1}, "unknown field 'extra'"),
    ],
)
def test_read_manifest_names_every_type_problem(
    fake_built: IngestReport, tmp_path: Path, change: dict, problem: str
) -> None:
    manifest = json.loads((fake_built.path / "manifest.json").read_text()) | change
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        read_manifest(tmp_path)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (  # an assistant turn over its limit
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "y" * 30_000},
                    {"role": "user", "content": "ok"},
                ]
            },  # fmt: skip
            ["body", "messages", 1, "content"],
        ),
        ({"messages": [{"role": "user", "content": "x"}] * 500}, ["body", "messages"]),  # too many turns
    ],
)
def test_a_422_names_the_refused_value_without_sending_it_all_back(client: TestClient, body: dict, where: list) -> None:
    """A 422 says where and why, and repeats the start of what it refused with its size,
    not 30,000 characters of it."""
    r = client.post("/api/chat", json=body)
    assert r.status_code == 422 and len(r.content) < 1_000
    (error,) = r.json()["detail"]
    assert error["loc"] == where and "at most" in error["msg"]
    assert error["input"].endswith(("characters)", "characters as JSON)"))
    assert error["input"].startswith(("yyy", '[{"role": "user"'))
    short = client.post("/api/search", json={"q": "dropout", "k": "many"})
    assert short.status_code == 422 and short.json()["detail"][0]["input"] == "many"  # short values whole


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("path", ["/api/search", "/api/chat", "/api/feedback"])
def test_a_body_that_is_not_json_gets_a_422_that_says_to_send_json(
    client: TestClient, path: str, content_type: str | None
) -> None:
    """It said "Input should be a valid dictionary or object to extract fields from"."""
    headers = {"content-type": content_type} if content_type else {}
    r = client.post(path, content=b'{"q": "dropout"}', headers=headers)
    assert r.status_code == 422
    assert r.json()["detail"].startswith(
        "send the body as a JSON object with the header content-type: application/json"
    )
