"""The mock interviewer: signals read from the insight boxes, follow-up probes
from the headings, the scorer with the real model on answers to one question,
``POST /api/practice/mock`` through the app's lifespan, and the hand-labelled
answers it is measured on (the shipped threshold is the one their dev split
supports, and the test split holds up)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import service_settings

from eval.mock import DATA, KINDS, TOPIC_FLOORS, MockDataError, agreement, judge, load_items, split
from eval.mock_report import build
from index.embed import Embedder
from index.engine import IngestReport
from index.store import IndexArtifact
from ingest.models import Question
from ingest.pipeline import Corpus
from qbank.mock import DENSE_WEIGHT, THRESHOLD, TOPIC_FLOOR, MockScorer, strong_signals
from qbank.mock.probes import probes
from qbank.mock.signals import what_is_tested
from service.app import create_app
from service.practice import MAX_MOCK_ANSWER_CHARS

L1 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"
DROPOUT = "machine-learning--what-is-dropout-and-why-does-it-work"
L1_STRONG = (
    "L1 adds the absolute values of the weights to the loss and L2 their squares. "
    "The L1 constraint region is a diamond whose corners sit on the axes, so the solution lands where weights are 0. "
    "Use L1 when you want feature selection and L2 when features are correlated. "
    "Elastic net combines both penalties. "
    "I'd pick the penalty strength by cross-validation."
)


@pytest.fixture(scope="module")
def questions(artifact: IndexArtifact) -> dict[str, Question]:
    return {q.id: q for q in artifact.questions}


@pytest.fixture(scope="module")
def scorer(embedder: Embedder, artifact: IndexArtifact) -> MockScorer:
    return MockScorer(embedder, artifact.sparse)


def test_every_shipped_question_has_its_four_strong_answer_signals(corpus: Corpus) -> None:
    assert {len(strong_signals(q.insight)) for q in corpus.questions} == {4}
    l1 = next(q for q in corpus.questions if q.id == L1)
    signals = strong_signals(l1.insight)
    assert [s.text for s in signals] == [
        "Explains WHY L1 creates zeros (diamond geometry)",
        'Knows when to use each: "L1 for feature selection, L2 for correlated features"',
        "Mentions Elastic Net as hybrid solution",
        "Can discuss tuning λ via cross-validation",
    ]
    assert [s.content for s in signals] == [
        "WHY L1 creates zeros (diamond geometry)",
        "when to use each: L1 for feature selection, L2 for correlated features",
        "Elastic Net as hybrid solution",
        "tuning λ via cross-validation",
    ]
    assert what_is_tested(l1.insight) == "Deep understanding of regularization mechanics, not just definitions."
    assert strong_signals("Knows never to rebase commits that others have already pulled.") == ()
    assert strong_signals(None) == ()


def test_probes_come_from_the_headings_and_start_with_what_the_candidate_mentioned(
    questions: dict[str, Question],
) -> None:
    l1 = questions[L1]
    asked = probes(l1, "L1 is lasso and it zeroes weights", key=set())
    assert asked[0] == "You mentioned L1: can you explain why L1 creates sparsity (geometric intuition)?"
    assert set(asked[1:]) == {
        "Can you tell me more about the core difference?",
        "Can you write down the mathematical formulation?",
    }
    assert probes(l1, "no idea", key=set())[0] == "Can you tell me more about the core difference?"
    # "How Dropout Works" only restates "What is Dropout and Why Does It Work?": no probe on it.
    dropout = probes(questions[DROPOUT], "it drops neurons", key=set(), limit=10)
    assert dropout == (
        "Can you explain why it works (multiple perspectives)?",
        "Can you tell me more about the common dropout rates?",
    )


def test_a_strong_answer_hits_every_signal_and_shows_the_sentence_that_did(
    scorer: MockScorer, questions: dict[str, Question]
) -> None:
    result = scorer.score(questions[L1], L1_STRONG)
    assert [s.hit for s in result.signals] == [True, True, True, True]
    assert result.signals[0].evidence is not None and "diamond" in result.signals[0].evidence
    assert result.signals[2].evidence == "Elastic net combines both penalties."
    assert result.testing == "Deep understanding of regularization mechanics, not just definitions."
    assert [(k.term, k.used) for k in result.key_terms] == [
        ("constraint", True),
        ("penalty", True),
        ("diamond", True),
        ("sparse", False),
    ]
    assert result.probes[0].startswith("You mentioned L1:")


@pytest.mark.parametrize("answer", ["L1 and L2 are both kinds of regularization.", "I am not sure.", ""])
def test_a_vague_answer_hits_no_signal(scorer: MockScorer, questions: dict[str, Question], answer: str) -> None:
    result = scorer.score(questions[L1], answer)
    assert result.hits == 0, [(s.signal.text, s.score) for s in result.signals]
    assert all(s.evidence is None for s in result.signals)


def test_an_off_topic_answer_scores_below_a_strong_one_on_every_signal_and_hits_none(
    scorer: MockScorer, questions: dict[str, Question]
) -> None:
    """An answer about something else that shares an idea with a signal
    ("zeroes" here, against "L1 creates zeros") used to scrape that signal's
    hit; with the topic floor its sentence no longer counts as on the signal."""
    strong = scorer.score(questions[L1], L1_STRONG)
    off = scorer.score(
        questions[L1], "Dropout randomly zeroes neurons during training so the network cannot rely on any single one."
    )
    assert all(o.score < s.score for o, s in zip(off.signals, strong.signals, strict=True))
    assert [s.hit for s in off.signals] == [False, False, False, False]


def test_the_scorer_refuses_settings_out_of_range(embedder: Embedder, artifact: IndexArtifact) -> None:
    with pytest.raises(ValueError, match="threshold must be in"):
        MockScorer(embedder, artifact.sparse, threshold=0)
    with pytest.raises(ValueError, match="dense_weight must be in"):
        MockScorer(embedder, artifact.sparse, dense_weight=1.5)


# -- the API ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(embedder: Embedder, built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = service_settings(built.path, tmp_path_factory.mktemp("mock"))
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as c:
        yield c


def test_the_api_scores_an_answer_then_gives_the_insight_and_the_answer(client: TestClient) -> None:
    r = client.post("/api/practice/mock", json={"question_id": L1, "answer": L1_STRONG})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["question"]["id"] == L1 and body["question"]["url"].endswith(f"/q/{L1}")
    assert body["testing"] == "Deep understanding of regularization mechanics, not just definitions."
    assert [s["hit"] for s in body["signals"]] == [True, True, True, True] and body["hits"] == 4
    first = body["signals"][0]
    assert first["signal"] == "Explains WHY L1 creates zeros (diamond geometry)"
    assert first["score"] >= body["threshold"] == THRESHOLD and body["dense_weight"] == DENSE_WEIGHT
    assert "diamond" in first["evidence"]
    assert {"term": "diamond", "used": True} in body["key_terms"]
    assert body["probes"][0] == "You mentioned L1: can you explain why L1 creates sparsity (geometric intuition)?"
    assert "Elastic Net" in body["answer_markdown"] and body["answer_html"].startswith("<")
    assert "diamond geometry" in body["insight_html"]
    assert "set-cookie" not in r.headers  # stateless: no learner made

    vague = client.post("/api/practice/mock", json={"question_id": L1, "answer": "It is about regularization."}).json()
    assert vague["hits"] == 0 and all(s["evidence"] is None for s in vague["signals"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"question_id": "machine-learning--no-such-question", "answer": "x"},
            "unknown question_id 'machine-learning--no-such-question'; use an id that /api/practice/next or "
            "/api/questions gives",
        ),
        ({"question_id": L1, "answer": "   "}, "answer is empty; type what you would say in the interview"),
        ({"question_id": L1, "answer": "a" * 5001}, "answer is 5001 characters; the limit is 5000"),
        # padding was no way past the limit: it was counted after stripping, up to 6,000 sent
        ({"question_id": L1, "answer": "a" * 5000 + " " * 1000}, "answer is 6000 characters; the limit is 5000"),
        ({"question_id": L1, "answer": " " * 4000 + "a" * 1001}, "answer is 5001 characters; the limit is 5000"),
        ({"question_id": L1, "answer": "bell\x07"}, "control characters"),
        ({"question_id": L1}, "Field required"),
        ({"question_id": L1, "answer": "x", "learner": "me"}, "Extra inputs are not permitted"),
    ],
)
def test_the_api_says_what_is_wrong_with_a_bad_request(client: TestClient, body: dict[str, str], message: str) -> None:
    r = client.post("/api/practice/mock", json=body)
    assert r.status_code == 422
    assert message in json.dumps(r.json())


@pytest.mark.parametrize(
    ("row", "full_question"),
    [
        ("machine-learning--qr-6", None),  # Supervised vs Unsupervised Learning: a row of its own
        ("machine-learning--qr-1", "machine-learning--what-is-the-bias-variance-tradeoff-in-machine-learning"),
    ],
)
def test_a_quick_reference_row_is_refused_as_one_not_as_an_unknown_id(
    client: TestClient, row: str, full_question: str | None
) -> None:
    """/api/questions lists the row, so "unknown question_id …; use an id that /api/questions
    gives" sent the caller back where it came from."""
    listed = client.get(f"/api/questions/{row}")
    assert listed.status_code == 200 and listed.json()["kind"] == "quick_reference"
    r = client.post("/api/practice/mock", json={"question_id": row, "answer": "Supervised learning uses labels."})
    assert r.status_code == 422
    linked = f"; its full question {full_question!r} has one" if full_question else ""
    assert r.json() == {
        "detail": f"{row!r} is a quick-reference row: it has no interviewer's insight to score an answer "
        f"against{linked}. Score a full question: an id /api/practice/next gives, or one /api/questions "
        'lists with kind "question"'
    }
    if full_question:
        scored = client.post("/api/practice/mock", json={"question_id": full_question, "answer": "Bias is error."})
        assert scored.status_code == 200


def test_the_answer_limit_is_one_number_for_the_api_the_page_and_the_readme(client: TestClient) -> None:
    """The README said up to 5,000 characters and the page's box cut there, while the API
    took 6,000 so long as the last 1,000 were spaces."""
    answer = ("L1 adds the absolute values of the weights to the loss. " * 100)[: MAX_MOCK_ANSWER_CHARS - 1] + "."
    assert len(answer) == MAX_MOCK_ANSWER_CHARS
    assert client.post("/api/practice/mock", json={"question_id": L1, "answer": answer}).status_code == 200
    over = client.post("/api/practice/mock", json={"question_id": L1, "answer": answer + "\n"})
    assert over.status_code == 422
    assert f"answer is {MAX_MOCK_ANSWER_CHARS + 1} characters; the limit is {MAX_MOCK_ANSWER_CHARS}" in over.text
    schema = client.get("/openapi.json").json()["components"]["schemas"]["MockRequest"]["properties"]["answer"]
    assert schema["maxLength"] == MAX_MOCK_ANSWER_CHARS
    page = client.get("/practice?mode=mock").text
    assert f'maxlength="{MAX_MOCK_ANSWER_CHARS}"' in page
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"up to {MAX_MOCK_ANSWER_CHARS:,} characters" in readme


# -- the labelled answers and the figures ----------------------------------------


def test_the_labelled_answers_fit_the_bank(questions: dict[str, Question]) -> None:
    items = load_items(DATA, questions)
    assert len(items) >= 30
    assert {i.kind for i in items} == set(KINDS)
    assert sum(not i.covers for i in items) >= 15  # weak, wrong and off-topic answers: nothing covered
    assert {i.split for i in items} == {"dev", "test"}


def test_a_bad_labelled_answer_is_refused_with_its_line(questions: dict[str, Question], tmp_path: Path) -> None:
    rows = [
        {"id": "x1", "question_id": L1, "kind": "strong", "covers": [0, 7], "answer": "diamonds"},
        {"id": "x2", "question_id": "nope", "kind": "weak", "covers": [], "answer": "hm"},
        {"id": "x3", "question_id": L1, "kind": "great", "covers": [], "answer": " "},
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(MockDataError) as caught:
        load_items(path, questions)
    message = str(caught.value)
    for part in (
        "line 1: covers [0, 7] outside 0..3",
        "line 2: unknown question_id 'nope'",
        "line 3: kind 'great' is not one of",
        "line 3: empty answer",
        "line 4: not an item",
    ):
        assert part in message


def test_the_shipped_setting_is_the_one_the_dev_split_supports_and_test_holds_up(
    embedder: Embedder, artifact: IndexArtifact, questions: dict[str, Question]
) -> None:
    """The figures in the README (``qbank mock-eval``): if the labelled answers
    change, refit and ship what the dev split then supports."""
    items = load_items(DATA, questions)
    by_floor = {
        floor: judge(MockScorer(embedder, artifact.sparse, topic_floor=floor), items, questions)
        for floor in sorted({*TOPIC_FLOORS, TOPIC_FLOOR})
    }
    report = build(by_floor, TOPIC_FLOOR, THRESHOLD, DENSE_WEIGHT)
    assert report.shipped_is_chosen, (report.chosen_floor, report.chosen.figures())
    judgements = by_floor[TOPIC_FLOOR]
    test = agreement(split(judgements, "test"), THRESHOLD, DENSE_WEIGHT)
    assert (test.pairs, test.tp + test.fn) == (64, 17)
    assert test.f1 >= 0.88 and test.accuracy >= 0.93 and test.recall >= 0.94
    every = agreement(judgements, THRESHOLD, DENSE_WEIGHT)
    assert every.precision >= 0.9 and every.recall >= 0.9
    assert report.kinds["weak"]["hit"] <= 3 and report.kinds["off_topic"]["hit"] == 0
    assert report.kinds["nonsense"]["hit"] == 0  # "asdf jkl", "I don't know": no signal is hit
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    mix = f"`score = {DENSE_WEIGHT} × dense + {1 - DENSE_WEIGHT:g} × lexical`"
    assert f"{mix}; a signal is hit at `score ≥ {THRESHOLD}`" in readme
