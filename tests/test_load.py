"""Load: 10,000 mixed requests at concurrency 32 against a real ``qbank serve``.

Every request has a known answer status (valid calls 2xx, deliberately bad
ones 4xx), so the test asserts the exact status histogram: zero 5xx and zero
connection errors.  Bounded in requests and in wall time, loopback only.
Timings are printed, never asserted (the machine is shared).
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CONTENT
from server_support import Request, qbank_server, run_load

TOTAL = 10_000
CONCURRENCY = 32
WALL_CAP_S = 600.0

L1L2 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"
QUERIES = (
    "l1 vs l2 regularization",
    "how do I handle class imbalance",
    "bias variance tradeoff",
    "what does uber ask?",
    "explain dropout",
    "gradient boosting vs random forest",
    "sklearn code for stratified k-fold",
    "what is pca",
    "weather in london tomorrow",
    "precision recall curve",
)


def _get(path: str, **params: object) -> Request:
    return Request("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""))


def _post(path: str, body: object) -> Request:
    return Request("POST", path, json.dumps(body))


def mixed_requests() -> list[tuple[Request, int]]:
    """(request, the status it must get), across every public surface."""
    specs: list[tuple[Request, int]] = []
    for i, q in enumerate(QUERIES):
        mode = ("hybrid", "bm25", "dense")[i % 3]
        specs += [
            (_get("/api/search", q=q, mode=mode, k=1 + i), 200),
            (_post("/api/search", {"q": q, "k": 5, "difficulty": "Medium"}), 200),
            (_post("/api/chat", {"messages": [{"role": "user", "content": q}]}), 200),
        ]
    specs += [
        (_post("/api/chat", {"messages": [{"role": "user", "content": "explain bagging"}], "stream": True}), 200),
        (
            _post(
                "/api/chat",
                {
                    "messages": [
                        {"role": "user", "content": "explain bagging"},
                        {"role": "assistant", "content": "Bagging trains models on bootstrap samples."},
                        {"role": "user", "content": "and how is boosting different?"},
                    ]
                },
            ),
            200,
        ),
        (_get("/api/questions", limit=20, company="Google"), 200),
        (_get(f"/api/questions/{L1L2}"), 200),
        (_get("/api/facets"), 200),
        (_post("/api/feedback", {"question_id": L1L2, "helpful": True, "query": "l1 vs l2"}), 201),
        (_get("/healthz"), 200),
        (_get("/readyz"), 200),
        (_get("/metrics"), 200),
        # Bad requests: answered 4xx, never 5xx.
        (_get("/api/search", q="x" * 2001), 422),
        (_get("/api/search", q="   "), 422),
        (_get("/api/search", q="dropout", k=0), 422),
        (_get("/api/questions/no-such-question"), 404),
        (_post("/api/chat", {"messages": []}), 422),
        (Request("POST", "/api/search", '{"q": "unterminated'), 422),
        (_post("/admin/reload", {}), 404),  # no admin token configured: reload is off
    ]
    return specs


@pytest.mark.slow
@pytest.mark.server
def test_ten_thousand_mixed_requests_at_concurrency_32(index_copy: Callable[[str], Path], tmp_path: Path) -> None:
    plan = mixed_requests()
    requests = [r for r, _ in plan]
    expected = Counter(str(plan[i % len(plan)][1]) for i in range(TOTAL))
    with qbank_server(index_copy("index"), tmp_path, content_dir=CONTENT) as server:
        result = run_load(server.base_url, requests, CONCURRENCY, TOTAL, WALL_CAP_S, timeout_s=60)
    print(f"\n{result.summary()}")
    assert not result.errors, result.summary()
    assert result.server_errors == 0, result.summary()
    assert result.requests == TOTAL, f"the {WALL_CAP_S:.0f}s cap cut the run short: {result.summary()}"
    assert result.statuses == expected
