"""The rerank stage: the stage's contract, the LLM listwise reranker against
a fake OpenAI-compatible endpoint (real HTTP), and the late-interaction
reranker with the packaged model's token vectors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_support import FakeOpenAI, service_settings
from typer.testing import CliRunner

from index.components import RecordScores
from index.components.rerank import LLMListwiseReranker, RerankStage
from index.embed import Embedder
from index.engine import IngestReport
from index.search import Searcher
from index.store import IndexArtifact
from qbank.answer.llm import LLMClient, LLMError
from qbank.cli import app
from service.app import create_app

QUERY = "my model is great on training data and poor on new data"


class Fixed:
    """A reranker with set answers (the stage's own contract, not a stand-in for a real judge)."""

    def __init__(self, relevance: list[float] | None) -> None:
        self.relevance = relevance
        self.seen: list[np.ndarray] = []

    def score(self, query: str, candidates: np.ndarray) -> np.ndarray | None:
        self.seen.append(candidates)
        return None if self.relevance is None else np.asarray(self.relevance, dtype=np.float32)


def _analyzed(searcher: Searcher, text: str = QUERY):  # type: ignore[no-untyped-def]
    return searcher.analyzer.run(text)


def test_the_stage_lifts_only_its_candidates_and_keeps_the_rest_in_order(searcher: Searcher) -> None:
    fused = RecordScores(np.asarray([0.9, 0.8, 0.7, 0.1], dtype=np.float32), np.arange(4))
    pool = np.arange(4)
    judge = Fixed([0.0, 0.0, 1.0])
    out = RerankStage(judge, depth=3, weight=0.5).run(_analyzed(searcher), fused, pool)
    assert list(judge.seen[0]) == [0, 1, 2]
    assert list(np.argsort(-out.scores)) == [2, 0, 1, 3]  # the third candidate first, the outsider last
    assert out.scores[3] == pytest.approx(0.1)
    alone = RerankStage(Fixed([0.0, 0.5, 1.0]), depth=3, weight=None).run(_analyzed(searcher), fused, pool)
    assert list(np.argsort(-alone.scores)) == [2, 1, 0, 3]  # the reranker's order alone, still above the rest
    # ... with the candidates' own scores handed back out: the scale (and any cut relative to the best) holds.
    assert sorted(alone.scores.tolist()) == pytest.approx(sorted(fused.scores.tolist()))
    # Outside the pool nothing is a candidate.
    RerankStage(judge, depth=3).run(_analyzed(searcher), fused, np.asarray([1, 3]))
    assert list(judge.seen[-1]) == [1, 3]


@pytest.mark.parametrize("relevance", [None, [1.0], [np.nan, 0.0, 1.0]])
def test_a_judge_that_cannot_judge_leaves_the_fused_order(searcher: Searcher, relevance: list[float] | None) -> None:
    fused = RecordScores(np.asarray([0.9, 0.8, 0.7], dtype=np.float32), np.arange(3))
    out = RerankStage(Fixed(relevance), depth=3).run(_analyzed(searcher), fused, np.arange(3))
    assert out is fused


def test_the_stage_validates_its_settings() -> None:
    with pytest.raises(ValueError, match="depth"):
        RerankStage(Fixed([]), depth=1)
    with pytest.raises(ValueError, match="weight"):
        RerankStage(Fixed([]), weight=0.0)


@pytest.mark.parametrize(
    ("reply", "order"),
    [
        ('{"ranking": [3, 1, 2]}', [3, 1, 2]),
        ('Sure! ```json\n{"ranking": [2, 2, 9, 1]}\n```', [2, 1]),
        ("[1, 3]", [1, 3]),
        ('{"ranking": [true, "2", 3]}', [3]),
        ("I think the first one.", None),
        ('{"ranking": []}', None),
        ('{"order": [1]}', None),
    ],
)
def test_the_llm_reply_is_parsed_leniently(reply: str, order: list[int] | None) -> None:
    assert LLMListwiseReranker.parse(reply, 3) == order


@pytest.fixture(scope="module")
def fake_endpoint() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def llm_searcher(artifact: IndexArtifact, embedder: Embedder, fake: FakeOpenAI, timeout_s: float = 5.0) -> Searcher:
    return Searcher(artifact, embedder, llm=LLMClient(fake.base_url, "fake-model", "sk-test", timeout_s))


def test_the_llm_orders_the_top_candidates(
    artifact: IndexArtifact, embedder: Embedder, fake_endpoint: FakeOpenAI
) -> None:
    fake_endpoint.reset("ok")
    fake_endpoint.pieces = ('{"ranking": [3, 1, 2]}',)
    searcher = llm_searcher(artifact, embedder, fake_endpoint)
    plain = [h.record.id for h in searcher.search(QUERY, k=10, mode="hybrid").hits]
    reranked = [h.record.id for h in searcher.search(QUERY, k=10, mode="hybrid-llm").hits]
    assert reranked[:3] == [plain[2], plain[0], plain[1]]
    assert sorted(reranked) == sorted(plain)  # the same ten records, reordered
    request = fake_endpoint.requests[0]
    sent = request["json"]
    assert (sent["model"], sent["stream"], request["headers"]["Authorization"]) == (
        "fake-model",
        False,
        "Bearer sk-test",
    )
    user = sent["messages"][1]["content"]
    assert QUERY in user and all(f"[{n}] {searcher.records[plain[n - 1]].title}" in user for n in range(1, 11))
    scores = [h.score for h in searcher.search(QUERY, k=10, mode="hybrid").hits]
    assert [h.score for h in searcher.search(QUERY, k=10, mode="hybrid-llm").hits] == pytest.approx(scores)
    fake_endpoint.requests.clear()
    skipped = searcher.search(QUERY, k=10, mode="hybrid-llm", rerank=False)
    assert [h.record.id for h in skipped.hits] == plain and fake_endpoint.requests == []


@pytest.mark.parametrize("mode", ["http500", "malformed", "empty", "hang"])
def test_a_failing_llm_leaves_the_fused_order(
    artifact: IndexArtifact, embedder: Embedder, fake_endpoint: FakeOpenAI, mode: str
) -> None:
    fake_endpoint.reset(mode)
    fake_endpoint.hang_s = 1.0
    searcher = llm_searcher(artifact, embedder, fake_endpoint, timeout_s=0.3)
    plain = [h.record.id for h in searcher.search(QUERY, k=10, mode="hybrid").hits]
    assert [h.record.id for h in searcher.search(QUERY, k=10, mode="hybrid-llm").hits] == plain


def test_complete_raises_llm_error_for_a_bad_endpoint(fake_endpoint: FakeOpenAI) -> None:
    fake_endpoint.reset("http500")
    with pytest.raises(LLMError, match="HTTP 500"):
        LLMClient(fake_endpoint.base_url, "m").complete([{"role": "user", "content": "x"}], 10)
    fake_endpoint.reset("ok")
    fake_endpoint.pieces = ("fine",)
    assert LLMClient(fake_endpoint.base_url, "m").complete([{"role": "user", "content": "x"}], 10) == "fine"


def test_hybrid_llm_without_an_llm_says_what_to_set(searcher: Searcher, tmp_path: object) -> None:
    with pytest.raises(ValueError, match="needs an LLM: set QBANK_LLM_BASE_URL"):
        searcher.search(QUERY, mode="hybrid-llm")
    result = CliRunner().invoke(app, ["eval", "--modes", "hybrid-llm", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "needs an LLM" in result.output


@pytest.mark.slow
def test_late_interaction_prefers_the_record_whose_text_the_query_repeats(searcher: Searcher) -> None:
    stage = searcher.pipelines["hybrid-late"].stages[-1]
    assert isinstance(stage, RerankStage)
    reranker = stage.reranker
    dropout = searcher.doc_ids.index("machine-learning--what-is-dropout-and-why-does-it-work")
    other = searcher.doc_ids.index("machine-learning--explain-k-means-clustering")
    relevance = reranker.score(
        "randomly dropping neurons during training so the network cannot co-adapt", np.asarray([other, dropout])
    )
    assert relevance is not None and relevance[1] > relevance[0]
    hits = searcher.search("randomly dropping neurons during training", k=5, mode="hybrid-late").hits
    assert hits[0].record.id == "machine-learning--what-is-dropout-and-why-does-it-work"
    assert len({h.record.id for h in hits}) == 5


def test_with_llm_rerank_the_api_search_follows_the_llm(
    artifact: IndexArtifact, embedder: Embedder, built: IngestReport, tmp_path: Path, fake_endpoint: FakeOpenAI
) -> None:
    fake_endpoint.reset("ok")
    fake_endpoint.pieces = ('{"ranking": [2, 1]}',)
    plain = [h.record.id for h in Searcher(artifact, embedder).search(QUERY, k=10).hits]
    settings = service_settings(
        built.path, tmp_path, llm_base_url=fake_endpoint.base_url, llm_model="fake-model", llm_rerank=True
    )
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as client:
        fake_endpoint.requests.clear()
        r = client.get("/api/search", params={"q": QUERY, "k": 10})
    assert r.status_code == 200, r.text
    ids = [h["id"] for h in r.json()["hits"]]
    assert ids[:2] == [plain[1], plain[0]] and ids[2:] == plain[2:]
    assert [req["json"]["stream"] for req in fake_endpoint.requests] == [False]


def test_llm_rerank_without_an_llm_is_a_settings_error(built: IngestReport, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="QBANK_LLM_RERANK needs an LLM"):
        service_settings(built.path, tmp_path, llm_rerank=True)


def test_a_busy_llm_reranker_keeps_the_fused_order_instead_of_waiting(
    artifact: IndexArtifact, embedder: Embedder, fake_endpoint: FakeOpenAI
) -> None:
    fake_endpoint.reset("ok")
    fake_endpoint.pieces = ('{"ranking": [2, 1]}',)
    searcher = llm_searcher(artifact, embedder, fake_endpoint)
    stage = searcher.pipelines["hybrid-llm"].stages[-1]
    assert isinstance(stage, RerankStage) and isinstance(stage.reranker, LLMListwiseReranker)
    slots: threading.BoundedSemaphore = stage.reranker._slots
    taken = 0
    while slots.acquire(blocking=False):  # every slot held, as by four slow calls in flight
        taken += 1
    try:
        plain = [h.record.id for h in searcher.search(QUERY, k=10, mode="hybrid").hits]
        fake_endpoint.requests.clear()
        assert [h.record.id for h in searcher.search(QUERY, k=10, mode="hybrid-llm").hits] == plain
        assert fake_endpoint.requests == [] and taken == 4
    finally:
        for _ in range(taken):
            slots.release()
