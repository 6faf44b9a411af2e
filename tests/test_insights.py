"""The maintainer's insights from a replayed query log: the questions of
tests/fixtures/query-log/replay.jsonl asked through the real app (the
packaged model, the shipped bank, a real SQLite store), then read back from
``/api/admin/insights``, its gap exports and ``qbank insights``.

Gaps depend on meaning, so the model is the real one.  What abstains is read
from the replayed answers themselves, so the checks hold the clustering to
what the bank actually could not answer."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from service_support import service_settings
from typer.testing import CliRunner

from index.embed import Embedder
from index.engine import IngestReport
from qbank.cli import app as cli_app
from qbank.settings import Settings, get_settings
from service.admin import UNAUTHORIZED
from service.app import create_app
from service.gaps import GapClusterer, normalized
from service.insights_schemas import gaps_csv
from service.store.queries import LoggedQuery, TextCount

REPLAY = Path(__file__).resolve().parent / "fixtures" / "query-log" / "replay.jsonl"
TOKEN = "insights-test-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
DROPOUT = "machine-learning--what-is-dropout-and-why-does-it-work"


@dataclass(frozen=True)
class Replayed:
    q: str
    via: str
    times: int
    topic: str | None
    abstained: bool


@dataclass
class World:
    client: TestClient
    settings: Settings
    replayed: list[Replayed]

    def insights(self, **params: Any) -> dict[str, Any]:
        r = self.client.get("/api/admin/insights", params=params, headers=ADMIN)
        assert r.status_code == 200, r.text
        return dict(r.json())


def ask(client: TestClient, q: str, via: str) -> bool:
    """Ask ``q`` once; whether it went unanswered."""
    if via == "search":
        r = client.get("/api/search", params={"q": q, "k": 5})
        assert r.status_code == 200, r.text
        return not r.json()["answerable"]
    r = client.post("/api/chat", json={"messages": [{"role": "user", "content": q}]})
    assert r.status_code == 200, r.text
    return bool(r.json()["abstained"])


@pytest.fixture(scope="module")
def world(embedder: Embedder, built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = service_settings(built.path, tmp_path_factory.mktemp("insights"), admin_token=TOKEN)
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as client:
        replayed = []
        for line in REPLAY.read_text().splitlines():
            item = json.loads(line)
            answers = {ask(client, item["q"], item["via"]) for _ in range(item["times"])}
            assert len(answers) == 1, f"{item['q']!r} was answered one time and not another"
            replayed.append(Replayed(item["q"], item["via"], item["times"], item["topic"], answers.pop()))
        votes = [
            (DROPOUT, False, "too long, I wanted the short version", "other"),
            (DROPOUT, False, None, "incomplete"),
            (DROPOUT, True, "clear", None),
            ("machine-learning--explain-l1-lasso-vs-l2-ridge-regularization", True, None, None),
        ]
        for question_id, helpful, comment, reason in votes:
            body = {"question_id": question_id, "helpful": helpful, "query": "q", "comment": comment, "source": "web"}
            assert client.post("/api/feedback", json=body | {"reason": reason}).status_code == 201
        assert client.app.state.qbank.query_log.flush(10)  # type: ignore[attr-defined]
        yield World(client, settings, replayed)


def test_the_replayed_log_has_every_question_asked(world: World) -> None:
    found = world.insights()
    total = sum(r.times for r in world.replayed)
    assert (found["queries"], found["abstained"]) == (total, sum(r.times for r in world.replayed if r.abstained))
    assert found["surfaces"] == {"api": total}
    today = found["per_day"][-1]
    assert (today["day"], today["queries"]) == (datetime.now(UTC).date().isoformat(), total)
    assert len(found["per_day"]) == 30 and sum(d["queries"] for d in found["per_day"]) == total


def test_every_topics_unanswered_wordings_are_one_gap_with_their_count(world: World) -> None:
    gaps = world.insights()["gaps"]
    topic_of = {normalized(r.q): r.topic for r in world.replayed}
    for topic in sorted({r.topic for r in world.replayed if r.topic}):
        unanswered = [r for r in world.replayed if r.topic == topic and r.abstained]
        assert len({normalized(r.q) for r in unanswered}) >= 3, f"{topic}: too few wordings went unanswered to test"
        holding = [g for g in gaps if any(topic_of.get(normalized(e)) == topic for e in g["examples"])]
        assert len(holding) == 1, f"{topic} is spread over {len(holding)} gaps: {holding}"
        (gap,) = holding
        assert gap["count"] == sum(r.times for r in unanswered)
        assert gap["phrasings"] == len({normalized(r.q) for r in unanswered})
        most = max(unanswered, key=lambda r: r.times)
        assert normalized(gap["label"]) == normalized(most.q)  # the most asked wording names it
    for gap in gaps:  # no gap mixes topics, and nothing answered is a gap
        assert len({topic_of[normalized(e)] for e in gap["examples"]}) == 1, gap
    assert len(gaps) == len({r.topic for r in world.replayed if r.topic})
    assert [g["count"] for g in gaps] == sorted((g["count"] for g in gaps), reverse=True)


def test_a_wording_differing_only_in_case_and_punctuation_is_counted_with_it(world: World) -> None:
    (gap,) = [g for g in world.insights()["gaps"] if normalized(g["label"]) == "how do kubernetes pods get scheduled"]
    assert "How do Kubernetes pods get scheduled?" not in gap["examples"]  # shown once, as its most asked wording
    assert gap["examples"][0] == "how do kubernetes pods get scheduled"


def test_weak_answers_are_the_answered_ones_under_the_floor(world: World) -> None:
    found = world.insights()
    weak = {normalized(w["text"]): w for w in found["weak_answers"]}
    answered_off_topic = [r for r in world.replayed if r.topic and not r.abstained]
    assert answered_off_topic, "the replay should have topics the bank answers only by words"
    for r in answered_off_topic:  # none of these topics is in the bank: whatever answered them is weak
        w = weak[normalized(r.q)]
        assert w["count"] == r.times and w["dense"] < found["weak_below"] and w["title"]
    assert "what is dropout and why does it work" not in weak


def test_most_asked_questions_companies_and_votes(world: World) -> None:
    found = world.insights()
    top = {q["name"]: q for q in found["top_questions"]}
    assert top[DROPOUT]["count"] == 3 and top[DROPOUT]["title"] == "What is Dropout and Why Does It Work?"
    assert found["top_companies"][0] == {"name": "Google", "title": None, "count": 2}
    votes = found["feedback"][0]
    assert (votes["question_id"], votes["up"], votes["down"]) == (DROPOUT, 1, 2)
    assert votes["down_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert [c["text"] for c in votes["comments"]] == ["clear", "too long, I wanted the short version"]
    assert votes["reasons"] == {"incomplete": 1, "other": 1}
    page = world.client.get("/admin", headers=ADMIN).text
    assert "<td>Incomplete: 1<br>Something else: 1</td>" in page


def test_the_gaps_export_as_csv_and_json_all_or_one(world: World) -> None:
    gaps = world.insights()["gaps"]
    as_json = world.client.get("/api/admin/insights/gaps.json", headers=ADMIN)
    assert as_json.status_code == 200 and as_json.json() == gaps
    as_csv = world.client.get("/api/admin/insights/gaps.csv", headers=ADMIN)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="qbank-gaps-30d.csv"' in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["id"], int(r["count"]), r["label"]) for r in rows] == [(g["id"], g["count"], g["label"]) for g in gaps]
    assert rows[0]["examples"].split(" | ") == gaps[0]["examples"]
    one = world.client.get("/api/admin/insights/gaps.json", params={"id": gaps[1]["id"]}, headers=ADMIN)
    assert one.json() == [gaps[1]]
    missing = world.client.get("/api/admin/insights/gaps.csv", params={"id": "0" * 12}, headers=ADMIN)
    assert missing.status_code == 404


def test_a_csv_cell_that_looks_like_a_formula_stays_text() -> None:
    now = datetime.now(UTC)
    gap = GapClusterer(WordEmbedder()).run([TextCount('=HYPERLINK("http://evil")', 2, now, now)])
    (row,) = list(csv.DictReader(io.StringIO(gaps_csv(gap))))
    assert row["label"] == '\'=HYPERLINK("http://evil")' and row["examples"].startswith("'=")


def test_the_window_counts_only_its_days(world: World) -> None:
    rows = world.client.app.state.qbank.query_log.rows  # type: ignore[attr-defined]
    old = datetime.now(UTC) - timedelta(days=40)
    rows.add([LoggedQuery(old, "slack", "chat", "ancient question", "ancient question", True, (), 1.0)])
    recent, wider = world.insights(days=30), world.insights(days=60)
    assert wider["queries"] == recent["queries"] + 1 and wider["surfaces"]["slack"] == 1
    assert "slack" not in recent["surfaces"]
    assert any(g["label"] == "ancient question" for g in wider["gaps"])
    assert not any(g["label"] == "ancient question" for g in recent["gaps"])
    (day,) = [d for d in wider["per_day"] if d["day"] == old.date().isoformat()]
    assert (day["queries"], day["abstained"], day["abstain_rate"]) == (1, 1, 1.0)


# -- who may see it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/admin/insights", "/api/admin/insights/gaps.json", "/api/admin/insights/gaps.csv"]
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}], ids=str)
def test_without_the_token_the_admin_api_is_401(world: World, path: str, headers: dict[str, str]) -> None:
    r = world.client.get(path, headers=headers)
    assert r.status_code == 401
    assert r.json()["detail"] == UNAUTHORIZED
    assert UNAUTHORIZED == "send the admin token as `Authorization: Bearer <QBANK_ADMIN_TOKEN>`, or log in at /admin"
    assert r.headers["www-authenticate"] == "Bearer"
    assert "ancient" not in r.text and "kubernetes" not in r.text


def test_with_no_admin_token_set_the_admin_api_is_off(embedder: Embedder, built: IngestReport, tmp_path: Path) -> None:
    settings = service_settings(built.path, tmp_path)
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as client:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
            r = client.get("/api/admin/insights", headers=headers)
            assert r.status_code == 404
            assert "set QBANK_ADMIN_TOKEN" in r.json()["detail"]


# -- qbank insights ----------------------------------------------------------------------------


def run_cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str) -> Result:
    for key in ("QBANK_DATABASE_URL", "QBANK_INDEX_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("QBANK_DATABASE_URL", settings.store_url)
    monkeypatch.setenv("QBANK_INDEX_DIR", str(settings.index_dir))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli_app, ["insights", *args])
    finally:
        get_settings.cache_clear()


def test_qbank_insights_prints_the_top_gaps(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    gaps = world.insights()["gaps"]
    result = run_cli(monkeypatch, world.settings, "--days", "30", "--limit", "3")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Top gaps of the last 30 days: {len(gaps)} gaps among")
    shown = [line for line in lines if line[:8].strip().isdigit()]
    assert [(int(line[:8]), line[8:].strip()) for line in shown] == [(g["count"], g["label"]) for g in gaps[:3]]
    as_json = run_cli(monkeypatch, world.settings, "--json", "--limit", "2")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == gaps[:2]


class WordEmbedder(Embedder):
    """Each distinct word its own dimension, in the order first seen: texts are
    as close as the words they share, deterministically."""

    def __init__(self) -> None:
        super().__init__(model="words")
        self.dims: dict[str, int] = {}
        self.calls: Counter[str] = Counter()

    def encode(self, texts: Any, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            self.calls[text] += 1
            for word in text.split():
                out[i, self.dims.setdefault(word, len(self.dims))] += 1.0
        return out


def test_gaps_group_wordings_by_the_embedders_meaning_and_keep_their_vectors() -> None:
    now = datetime.now(UTC)
    texts = [
        TextCount("alpha beta", 3, now, now),
        TextCount("Alpha  beta?", 1, now - timedelta(days=2), now),  # the same words: merged before embedding
        TextCount("alpha beta gamma", 1, now, now + timedelta(hours=1)),  # cosine 0.82 with "alpha beta"
        TextCount("delta epsilon", 2, now, now),  # shares nothing
    ]
    embedder = WordEmbedder()
    clusterer = GapClusterer(embedder)
    first, second = clusterer.run(texts)
    assert (first.label, first.count, first.phrasings) == ("alpha beta", 5, 2)
    assert first.examples == ("alpha beta", "alpha beta gamma")
    assert (first.first_seen, first.last_seen) == (now - timedelta(days=2), now + timedelta(hours=1))
    assert (second.label, second.count, second.phrasings) == ("delta epsilon", 2, 1)
    assert clusterer.run(texts) == [first, second]
    assert embedder.calls == {"alpha beta": 1, "alpha beta gamma": 1, "delta epsilon": 1}  # then from the cache
