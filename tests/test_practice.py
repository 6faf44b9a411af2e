"""Practice with spaced repetition: the API through the app's lifespan (a real
SQLite store), the use cases at chosen times (due cards first, the daily
limit of new ones), progress moved between learners, bad input, and eight
clients grading at once on SQLite and on a real PostgreSQL, no review lost.

Scheduling does not depend on meaning, so the index is the shipped content
embedded with ``HashEmbedder``."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from fsrs import Rating
from service_support import service_settings

from index.engine import IngestReport, make_searcher
from index.filters import Filters
from ingest.models import Question
from qbank.answer import AnswerComposer
from service import learner, practice
from service.accuracy import Accuracy, breakdown
from service.app import create_app
from service.chart import share_bars
from service.state import Engine
from service.store import Store
from service.store.practice import PracticeStore, ReviewRecord
from service.usecases import Invalid

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GOOGLE_MEDIUM = {"company": "Google", "difficulty": "Medium"}


@pytest.fixture(scope="module")
def client(
    fake_embedder: HashEmbedder, fake_built: IngestReport, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = service_settings(fake_built.path, tmp_path_factory.mktemp("practice"), practice_new_per_day=3)
    with TestClient(create_app(settings, background_load=False, embedder=fake_embedder)) as c:
        yield c


@pytest.fixture(scope="module")
def engine(fake_embedder: HashEmbedder, fake_built: IngestReport) -> Engine:
    searcher = make_searcher(fake_built.artifact, fake_embedder)
    return Engine(fake_built.artifact, searcher, AnswerComposer(searcher))


def new_learner(client: TestClient) -> dict[str, str]:
    """The header of a learner who has done nothing yet."""
    client.cookies.clear()
    token = client.get("/api/practice/next").json()["learner"]
    client.cookies.clear()
    return {"X-Learner": token}


def next_card(client: TestClient, headers: dict[str, str], **scope: str) -> dict[str, Any]:
    r = client.get("/api/practice/next", params=scope, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def grade(client: TestClient, headers: dict[str, str], question_id: str, rating: str) -> dict[str, Any]:
    r = client.post("/api/practice/grade", json={"question_id": question_id, "rating": rating}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


# -- the API ---------------------------------------------------------------------


def test_a_new_learner_gets_a_question_in_scope_with_its_answer_and_a_signed_cookie(client: TestClient) -> None:
    client.cookies.clear()
    r = client.get("/api/practice/next", params=GOOGLE_MEDIUM)
    assert r.status_code == 200
    body = r.json()
    assert r.cookies[learner.COOKIE] == body["learner"]
    assert learner.verify(body["learner"], client.app.state.qbank.learner_key) is not None  # type: ignore[attr-defined]
    card = body["card"]
    assert card["status"] == "new" and card["due"] is None and card["reviews"] == 0
    question = card["question"]
    assert question["difficulty"] == "Medium" and "Google" in question["companies"]
    assert card["answer_markdown"].strip() and card["answer_html"].startswith("<")
    assert set(card["next_due"]) == {"again", "hard", "good", "easy"}
    due = {k: datetime.fromisoformat(v) for k, v in card["next_due"].items()}
    assert due["again"] < due["hard"] < due["good"] < due["easy"]
    assert (body["questions"], body["due"], body["new_left"], body["next_due"]) == (30, 0, 3, None)
    again = client.get("/api/practice/next", params=GOOGLE_MEDIUM)  # the cookie names the same learner
    assert again.json()["learner"] == body["learner"] and learner.COOKIE not in again.cookies
    client.cookies.clear()


def test_grading_schedules_cards_until_the_daily_limit_of_new_ones(client: TestClient) -> None:
    me = new_learner(client)
    seen = []
    for rating in ("good", "again", "easy"):
        body = next_card(client, me, **GOOGLE_MEDIUM)
        card = body["card"]
        assert card["status"] == "new" and card["question"]["id"] not in seen
        assert body["new_left"] == 3 - len(seen)
        graded = grade(client, me, card["question"]["id"], rating)
        assert graded["card"]["question_id"] == card["question"]["id"]
        assert graded["card"]["reviews"] == 1
        assert datetime.fromisoformat(graded["card"]["due"]) > datetime.now(UTC)
        seen.append(card["question"]["id"])
    done = next_card(client, me, **GOOGLE_MEDIUM)
    assert (done["card"], done["due"], done["new_left"]) == (None, 0, 0)  # nothing due yet, no new card left today
    assert done["unseen"] == done["questions"] - 3  # never graded: tomorrow brings new_per_day of them
    assert done["new_per_day"] == 3  # QBANK_PRACTICE_NEW_PER_DAY, which the page says tomorrow deals
    assert datetime.fromisoformat(done["next_due"]) <= datetime.now(UTC) + timedelta(minutes=1)  # "again": 1 min
    progress = client.get("/api/progress", headers=me).json()
    assert {k: progress[k] for k in ("cards", "due", "reviews", "reviews_today", "new_today", "new_left_today")} == {
        "cards": 3,
        "due": 0,
        "reviews": 3,
        "reviews_today": 3,
        "new_today": 3,
        "new_left_today": 0,
    }
    assert progress["states"] == {"learning": 2, "review": 1, "relearning": 0}  # easy graduates at once
    assert (progress["recalled"], progress["streak_days"]) == (0.6667, 1)


def test_progress_moves_to_another_learner_by_export_and_import(client: TestClient) -> None:
    me, other = new_learner(client), new_learner(client)
    first = next_card(client, me)["card"]["question"]["id"]
    grade(client, me, first, "hard")
    grade(client, me, first, "good")
    second = next_card(client, me)["card"]["question"]["id"]
    grade(client, me, second, "good")
    exported = client.get("/api/progress/export", headers=me).json()
    assert exported["format"] == "qbank-progress" and exported["version"] == 1
    assert sorted(c["question_id"] for c in exported["cards"]) == sorted([first, second])
    assert [r["rating"] for r in exported["reviews"]] == ["hard", "good", "good"]

    unknown = {**exported["cards"][0], "question_id": "no-such-bank--gone"}
    r = client.post("/api/progress/import", json={**exported, "cards": [*exported["cards"], unknown]}, headers=other)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("cards_taken", "reviews_added", "left_out")} == {
        "cards_taken": 2,
        "reviews_added": 3,
        "left_out": 1,
    }
    assert client.get("/api/progress/export", headers=other).json()["cards"] == exported["cards"]
    mine, theirs = (client.get("/api/progress", headers=h).json() for h in (me, other))
    assert {k: v for k, v in mine.items() if k != "learner"} == {k: v for k, v in theirs.items() if k != "learner"}
    again = client.post("/api/progress/import", json=exported, headers=other).json()
    assert (again["cards_taken"], again["reviews_added"]) == (0, 0)  # the same file twice changes nothing


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"state": "review", "stability": None}, "a review card needs stability and difficulty"),
        ({"state": "relearning", "step": None}, "a relearning card needs a step"),
        ({"state": "review", "last_review": None}, "a review card needs last_review"),
        # no UTC time: an OverflowError and a 500 (attack run)
        ({"due": "9999-12-31T23:59:59-14:00"}, "the date is out of range once converted to UTC"),
        ({"introduced_at": "0001-01-01T00:00:00+14:00"}, "the date is out of range once converted to UTC"),
    ],
)
def test_an_import_that_fsrs_could_not_schedule_is_refused_and_practice_goes_on(
    client: TestClient, change: dict[str, object], problem: str
) -> None:
    me = new_learner(client)
    first = next_card(client, me)["card"]["question"]["id"]
    grade(client, me, first, "easy")  # a review card, due in days
    exported = client.get("/api/progress/export", headers=me).json()
    broken = {**exported["cards"][0], "due": "2000-01-01T00:00:00+00:00", **change}  # due long ago: shown first
    r = client.post("/api/progress/import", json={**exported, "cards": [broken]}, headers=me)
    assert r.status_code == 422 and problem in r.text
    assert next_card(client, me)["card"] is not None  # nothing stored: the deck still works
    assert grade(client, me, first, "good")["card"]["reviews"] == 2


def test_a_learners_answers_are_never_cached(client: TestClient) -> None:
    me = new_learner(client)
    for r in (
        client.get("/api/practice/next", headers=me),
        client.get("/api/progress", headers=me),
        client.get("/api/progress/export", headers=me),
    ):
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        assert {"Cookie", "X-Learner"} <= {v.strip() for v in r.headers["vary"].split(",")}


BAD = [
    ("post", "/api/practice/grade", {"question_id": "x", "rating": "meh"}, None, 422),
    ("post", "/api/practice/grade", {"question_id": "x", "rating": 3}, None, 422),
    ("post", "/api/practice/grade", {"question_id": "x/../y", "rating": "good"}, None, 422),
    ("post", "/api/practice/grade", {"question_id": "x", "rating": "good", "extra": 1}, None, 422),
    (
        "post",
        "/api/practice/grade",
        {"question_id": "no-such-question", "rating": "good"},
        "unknown question_id 'no-such-question'; practise the ids /api/practice/next gives",
        422,
    ),
    ("post", "/api/progress/import", {"format": "anki", "cards": []}, None, 422),
    ("post", "/api/progress/import", {"cards": [{"question_id": "q", "state": "learning"}]}, None, 422),
    (
        "post",
        "/api/progress/import",
        {"cards": [{"question_id": "q", "state": "learning", "due": "2026-12-01T09:00:00", "introduced_at": "x"}]},
        None,
        422,
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "detail", "status"), BAD)
def test_bad_practice_input_is_a_clear_4xx(
    client: TestClient, method: str, path: str, body: dict[str, Any], detail: str | None, status: int
) -> None:
    r = client.request(method.upper(), path, json=body)
    assert r.status_code == status, r.text
    if detail is not None:
        assert r.json() == {"detail": detail}
    else:
        assert isinstance(r.json()["detail"], list) and r.json()["detail"][0]["loc"][0] == "body"


def test_a_learner_header_this_server_did_not_sign_is_refused(client: TestClient) -> None:
    token = new_learner(client)["X-Learner"]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, "someone-else", token + "x"):
        r = client.get("/api/progress", headers={"X-Learner": bad})
        assert r.status_code == 400
        assert r.json()["detail"].startswith("X-Learner is not a learner token this server gave out")


def test_a_vote_with_a_learner_header_this_server_did_not_sign_is_refused(client: TestClient) -> None:
    """An API vote naming a learner with a forged token was kept as no learner's, with a
    201; it is a 400 as in practice, and the same vote with the real token is stored."""
    token = new_learner(client)["X-Learner"]
    vote = {"query": "what is dropout", "question_id": "machine-learning--what-is-dropout-and-why-does-it-work"}
    vote |= {"helpful": True, "source": "api"}
    r = client.post("/api/feedback", json=vote, headers={"X-Learner": "forged.token"})
    assert r.status_code == 400 and r.json()["detail"].startswith("X-Learner is not a learner token")
    assert client.post("/api/feedback", json=vote, headers={"X-Learner": token}).status_code == 201
    assert client.post("/api/feedback", json=vote).status_code == 201  # no header: a vote of no learner


def test_a_cookie_this_server_did_not_sign_starts_a_new_learner(client: TestClient) -> None:
    token = new_learner(client)["X-Learner"]
    client.cookies.set(learner.COOKIE, token[:-2] + "xx")
    r = client.get("/api/progress")
    assert r.status_code == 200
    assert r.json()["learner"] != token and r.cookies[learner.COOKIE] == r.json()["learner"]
    client.cookies.clear()


# -- the use cases at chosen times ---------------------------------------------------


@pytest.fixture
def practice_store(tmp_path: Path) -> Iterator[PracticeStore]:
    store = Store(f"sqlite:///{tmp_path / 'qbank.sqlite3'}").open()
    yield PracticeStore(store)
    store.close()


def test_due_cards_first_longest_overdue_first_then_new_ones(engine: Engine, practice_store: PracticeStore) -> None:
    scope = Filters(company="Google")
    deck = practice.deck(engine, scope)
    assert len(deck) > 4
    ranks = {"Easy": 0, "Medium": 1, "Hard": 2}
    assert [ranks.get(q.difficulty or "", 1) for q in deck] == sorted(ranks.get(q.difficulty or "", 1) for q in deck)
    a, b, c = (q.id for q in deck[:3])
    practice.grade(engine, practice_store, "me", a, "good", T0)  # due T0 + 10 min
    practice.grade(engine, practice_store, "me", b, "again", T0 + timedelta(minutes=2))  # due T0 + 3 min
    practice.grade(engine, practice_store, "me", c, "easy", T0)  # in review: due days later

    now = T0 + timedelta(minutes=1)
    early = practice.next_card(engine, practice_store, "me", scope, now, per_day=10)
    assert early.item is not None and early.item.card is None and early.item.record.id == deck[3].id  # nothing due
    assert (early.due, early.new_left, early.next_due) == (0, 7, T0 + timedelta(minutes=3))

    later = practice.next_card(engine, practice_store, "me", scope, T0 + timedelta(minutes=11), per_day=10)
    assert later.item is not None and later.item.record.id == b  # due at T0 + 3 min: overdue longer than a
    assert later.item.card is not None and later.item.card.reviews == 1
    assert (later.due, later.new_left) == (2, 7)


def test_the_daily_limit_of_new_cards_starts_again_the_next_day(engine: Engine, practice_store: PracticeStore) -> None:
    deck = practice.deck(engine, Filters())
    for q in deck[:2]:
        practice.grade(engine, practice_store, "me", q.id, "easy", T0)
    today = practice.next_card(engine, practice_store, "me", Filters(), T0 + timedelta(hours=1), per_day=2)
    assert (today.item, today.new_left) == (None, 0)
    tomorrow = practice.next_card(engine, practice_store, "me", Filters(), T0 + timedelta(days=1), per_day=2)
    assert tomorrow.item is not None and tomorrow.item.card is None and tomorrow.new_left == 2
    other = practice.next_card(engine, practice_store, "someone-else", Filters(), T0, per_day=2)
    assert other.new_left == 2  # the limit is each learner's own


def test_a_weak_deck_is_the_cards_last_graded_again_or_hard_due_first_and_no_new_ones(
    engine: Engine, practice_store: PracticeStore
) -> None:
    a, b, c, d = (q.id for q in practice.deck(engine, Filters())[:4])
    practice.grade(engine, practice_store, "me", a, "again", T0)  # weak, due T0 + 1 min
    practice.grade(engine, practice_store, "me", b, "hard", T0)  # weak, due T0 + 6 min
    practice.grade(engine, practice_store, "me", c, "good", T0)  # known
    practice.grade(engine, practice_store, "me", d, "hard", T0)
    practice.grade(engine, practice_store, "me", d, "easy", T0 + timedelta(minutes=10))  # known now: the last grade
    assert practice.standings(practice_store, "me") == {a: "weak", b: "weak", c: "known", d: "known"}
    now = T0 + timedelta(minutes=30)
    weak = practice.next_card(engine, practice_store, "me", Filters(), now, per_day=10, weak=True)
    assert weak.item is not None and weak.item.record.id == a  # the longest overdue of the weak ones
    assert (weak.questions, weak.due, weak.new_left) == (2, 2, 0)
    for q in (a, b):
        practice.grade(engine, practice_store, "me", q, "good", now)
    done = practice.next_card(engine, practice_store, "me", Filters(), now, per_day=10, weak=True)
    assert (done.item, done.questions, done.due, done.new_left) == (None, 0, 0, 0)  # none weak any more
    everything = practice.next_card(engine, practice_store, "me", Filters(), now, per_day=10)
    assert everything.item is not None and everything.new_left == 6  # the whole deck still has new cards


def test_streak_counts_days_in_a_row_with_a_grade(engine: Engine, practice_store: PracticeStore) -> None:
    q = practice.deck(engine, Filters())[0].id
    for day in (0, 2, 3, 4):
        practice.grade(engine, practice_store, "me", q, "good", T0 + timedelta(days=day))
    assert practice.progress(engine, practice_store, "me", T0 + timedelta(days=4, hours=1), 10).streak_days == 3
    assert practice.progress(engine, practice_store, "me", T0 + timedelta(days=5), 10).streak_days == 3  # not yet
    assert practice.progress(engine, practice_store, "me", T0 + timedelta(days=6), 10).streak_days == 0


def test_a_grade_on_an_unknown_question_or_with_an_unknown_rating_is_invalid(
    engine: Engine, practice_store: PracticeStore
) -> None:
    with pytest.raises(Invalid, match="unknown question_id 'nope'"):
        practice.grade(engine, practice_store, "me", "nope", "good", T0)
    quick_ref = next(r for r in engine.artifact.quick_refs if r.question_id is None)
    # a quick-reference row has no answer to reveal; /api/questions lists it, so it is not "unknown"
    with pytest.raises(Invalid, match=f"'{quick_ref.id}' is a quick-reference row: it has no curated answer"):
        practice.grade(engine, practice_store, "me", quick_ref.id, "good", T0)
    with pytest.raises(Invalid, match="rating must be one of again, hard, good, easy, not 'meh'"):
        practice.grade(engine, practice_store, "me", practice.deck(engine, Filters())[0].id, "meh", T0)
    assert practice_store.reviews("me") == []


# -- accuracy by tag and difficulty, the weakest topics -------------------------------------

# Four questions; above each, its difficulty and tags as the bank writes them.
# Medium: Regularization, Feature Selection, Overfitting
L1 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"
# Medium: Regularization, Deep Learning, Overfitting
DROPOUT = "machine-learning--what-is-dropout-and-why-does-it-work"
# Easy: Model Evaluation, Validation, Overfitting
CROSS_VALIDATION = "machine-learning--what-is-cross-validation-and-why-is-it-important"
# Hard: Deep Learning, Neural Networks, Optimization
BACKPROP = "machine-learning--explain-neural-networks-and-backpropagation"


def counts(a: Accuracy) -> tuple[str | None, int, int, int, int, int, float]:
    return (a.name, a.questions, a.reviews, a.recalled, a.lapses, a.weak, a.accuracy)


def test_accuracy_by_tag_and_difficulty_and_the_weakest_topics(engine: Engine, practice_store: PracticeStore) -> None:
    def grade(question_id: str, rating: str, days: float) -> None:
        practice.grade(engine, practice_store, "me", question_id, rating, T0 + timedelta(days=days))

    grade(L1, "easy", 0)  # in review at once ...
    grade(L1, "again", 5)  # ... then forgotten: a lapse, and weak (last graded again)
    grade(DROPOUT, "good", 0)
    grade(DROPOUT, "good", 0.01)
    grade(CROSS_VALIDATION, "hard", 0)  # recalled, but weak (last graded hard)
    grade(BACKPROP, "again", 0)  # again while learning: not a lapse
    grade(BACKPROP, "good", 0.01)
    found = practice.progress(engine, practice_store, "me", T0 + timedelta(days=5, hours=1), 10)

    assert [counts(a) for a in found.by_tag] == [  # the most graded first, then by name
        ("Overfitting", 3, 5, 4, 1, 2, 0.8),
        ("Deep Learning", 2, 4, 3, 0, 0, 0.75),
        ("Regularization", 2, 4, 3, 1, 1, 0.75),
        ("Feature Selection", 1, 2, 1, 1, 1, 0.5),
        ("Neural Networks", 1, 2, 1, 0, 0, 0.5),
        ("Optimization", 1, 2, 1, 0, 0, 0.5),
        ("Model Evaluation", 1, 1, 1, 0, 1, 1.0),
        ("Validation", 1, 1, 1, 0, 1, 1.0),
    ]
    assert [counts(a) for a in found.by_difficulty] == [  # easiest first
        ("Easy", 1, 1, 1, 0, 1, 1.0),
        ("Medium", 2, 4, 3, 1, 1, 0.75),
        ("Hard", 1, 2, 1, 0, 0, 0.5),
    ]
    # The lowest accuracy first; at 50% the one with a weak question and a lapse leads; five at most.
    assert [a.name for a in found.weakest] == [
        "Feature Selection",
        "Neural Networks",
        "Optimization",
        "Regularization",
        "Deep Learning",
    ]
    assert sum(a.reviews for a in found.by_difficulty) == found.reviews == 7


def test_a_learner_who_recalled_everything_has_no_weak_topic(engine: Engine, practice_store: PracticeStore) -> None:
    for question_id in (L1, DROPOUT):
        practice.grade(engine, practice_store, "me", question_id, "good", T0)
    found = practice.progress(engine, practice_store, "me", T0, 10)
    assert found.weakest == () and {a.accuracy for a in found.by_tag} == {1.0}
    nothing = practice.progress(engine, practice_store, "someone-else", T0, 10)
    assert (nothing.by_tag, nothing.by_difficulty, nothing.weakest) == ((), (), ())


def test_a_tag_written_twice_counts_once_and_questions_the_index_lost_are_left_out(engine: Engine) -> None:
    l1 = engine.searcher.records[L1]
    assert isinstance(l1, Question)
    records = {L1: replace(l1, tags=("Regularization", "regularization", "Overfitting"), difficulty=None)}
    reviews = [ReviewRecord(L1, int(Rating.Again), T0), ReviewRecord("gone-from-the-bank", int(Rating.Again), T0)]
    found = breakdown(records, [], reviews)
    assert [counts(a) for a in found.by_tag] == [
        ("Overfitting", 1, 1, 0, 0, 1, 0.0),
        ("Regularization", 1, 1, 0, 0, 1, 0.0),  # as the bank first writes it
    ]
    assert [counts(a) for a in found.by_difficulty] == [(None, 1, 1, 0, 0, 1, 0.0)]


def test_progress_gives_accuracy_and_the_weakest_topics_each_with_a_practice_link(client: TestClient) -> None:
    me = new_learner(client)
    for question_id, rating in ((L1, "again"), (DROPOUT, "good"), (CROSS_VALIDATION, "hard")):
        grade(client, me, question_id, rating)
    body = client.get("/api/progress", headers=me).json()
    assert body["accuracy_by_difficulty"] == [
        {"difficulty": "Easy", "questions": 1, "reviews": 1, "recalled": 1, "accuracy": 1.0, "lapses": 0, "weak": 1},
        {"difficulty": "Medium", "questions": 2, "reviews": 2, "recalled": 1, "accuracy": 0.5, "lapses": 0, "weak": 1},
    ]
    assert body["accuracy_by_tag"][0] == {
        "tag": "Overfitting",
        "questions": 3,
        "reviews": 3,
        "recalled": 2,
        "accuracy": 0.6667,
        "lapses": 0,
        "weak": 2,
    }
    weakest = [(w["tag"], w["accuracy"], w["practice_url"]) for w in body["weakest_topics"]]
    assert weakest == [
        ("Feature Selection", 0.0, "http://testserver/practice?tag=Feature+Selection"),
        ("Regularization", 0.5, "http://testserver/practice?tag=Regularization"),
        ("Overfitting", 0.6667, "http://testserver/practice?tag=Overfitting"),
        ("Model Evaluation", 1.0, "http://testserver/practice?tag=Model+Evaluation"),  # recalled, but last graded hard
        ("Validation", 1.0, "http://testserver/practice?tag=Validation"),
    ]
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    for field in ("accuracy_by_tag", "accuracy_by_difficulty", "weakest_topics"):
        assert schema["ProgressResponse"]["properties"][field]["description"]
    assert "not `again`" in schema["TagAccuracy"]["properties"]["recalled"]["description"]


# -- the Progress page, rendered on the server -----------------------------------------------


def test_the_progress_page_shows_the_learners_counts_accuracy_and_weakest_topics(client: TestClient) -> None:
    me = new_learner(client)
    for question_id, rating in ((L1, "again"), (DROPOUT, "good"), (CROSS_VALIDATION, "hard")):
        grade(client, me, question_id, rating)
    client.cookies.set(learner.COOKIE, me["X-Learner"])  # the page's learner is the cookie the Practice page set
    page = client.get("/progress")
    client.cookies.clear()
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["cache-control"] == "no-store" and "Cookie" in page.headers["vary"]
    assert learner.COOKIE not in page.cookies
    html = page.text
    assert '<a href="/progress" aria-current="page">Progress</a>' in html
    assert '<dd id="recalled">67% <small>of 3 grades</small></dd>' in html
    # Nothing due yet (the one graded Again comes back in a minute) and the day's 3 new cards are used up.
    assert '<dd id="due">0 cards</dd>' in html and '<dd id="streak">1 day</dd>' in html
    assert '<a class="button" id="practise" href="/practice">Open Practice</a>' in html
    assert "Nothing is due and today's new cards are used up: the next card is due in 1 min." in html
    links = re.findall(r'<li>\s*<a class="button" href="([^"]+)">Practise ([^<]+)</a>', html)
    assert links[:2] == [
        ("http://testserver/practice?tag=Feature+Selection", "Feature Selection"),
        ("http://testserver/practice?tag=Regularization", "Regularization"),
    ]
    difficulty = re.search(r'<table class="accuracy" id="by-difficulty".*?</table>', html, re.S)
    assert difficulty is not None
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>.*?class="share-value">([^<]+)<.*?class="num">([^<]+)<', difficulty.group(0), re.S
    )
    assert rows == [("Easy", "100%", "1 of 1"), ("Medium", "50%", "1 of 2")]
    assert '<rect class="bar low" width="50.0" height="10">' in html  # Medium's bar: half the track, low
    assert "<script>" not in html and " style=" not in html  # nothing the CSP would block


def test_the_progress_page_without_a_learner_or_with_a_forged_one_invites_to_practise(client: TestClient) -> None:
    client.cookies.clear()
    fresh = client.get("/progress")
    assert fresh.status_code == 200 and "Nothing graded yet" in fresh.text
    assert '<a class="button primary" id="practise" href="/practice">Start practising</a>' in fresh.text
    assert learner.COOKIE not in fresh.cookies  # no learner is made by looking
    token = new_learner(client)["X-Learner"]
    client.cookies.set(learner.COOKIE, token)  # a learner who has not graded anything yet
    assert "Nothing graded yet" in client.get("/progress").text
    client.cookies.set(learner.COOKIE, token[:-2] + "xx")
    assert "Nothing graded yet" in client.get("/progress").text
    client.cookies.clear()


def test_the_progress_page_says_not_ready_while_the_index_is_missing(
    fake_embedder: HashEmbedder, tmp_path: Path
) -> None:
    empty = tmp_path / "content"
    empty.mkdir()
    settings = service_settings(tmp_path / "index", tmp_path, content_dir=empty)
    with TestClient(create_app(settings, background_load=False, embedder=fake_embedder)) as c:
        r = c.get("/progress")
        assert r.status_code == 503 and "Not ready yet" in r.text


@pytest.mark.parametrize(
    ("shares", "bars"),
    [
        (
            [0.0, 0.5999, 0.6, 0.8499, 0.85, 1.0],
            [(0, "low"), (59.99, "low"), (60, "fair"), (84.99, "fair"), (85, "good"), (100, "good")],
        ),
        ([], []),
    ],
)
def test_share_bars_are_as_long_as_the_share_and_coloured_by_its_level(
    shares: list[float], bars: list[tuple[float, str]]
) -> None:
    rows = [Accuracy("t", 1, 10_000, round(s * 10_000), 0, 0) for s in shares]
    assert [(b.width, b.level) for b in share_bars(rows)] == bars


# -- eight clients at once ---------------------------------------------------------------


def test_eight_clients_grading_at_once_lose_no_review(engine: Engine, store_url: str) -> None:
    """Each client grades its own learner's cards and, at the same time as the
    others, one shared learner's same five cards: every grade is a review row,
    and each shared card counts every grade it got (none applied over another)."""
    store = Store(store_url).open()
    cards = PracticeStore(store)
    questions = [q.id for q in practice.deck(engine, Filters())[:5]]
    start = threading.Barrier(8)
    errors: list[BaseException] = []
    rounds = 6

    def client(n: int) -> None:
        try:
            start.wait()
            for i in range(rounds):
                now = T0 + timedelta(minutes=i, microseconds=n)
                for q in questions:
                    practice.grade(engine, cards, "shared", q, ("again", "hard", "good", "easy")[(n + i) % 4], now)
                    practice.grade(engine, cards, f"learner-{n}", q, "good", now)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(cards.reviews("shared")) == 8 * rounds * len(questions)
        assert {c.question_id: c.reviews for c in cards.cards("shared")} == dict.fromkeys(questions, 8 * rounds)
        for n in range(8):
            assert len(cards.reviews(f"learner-{n}")) == rounds * len(questions)
            assert {c.reviews for c in cards.cards(f"learner-{n}")} == {rounds}
    finally:
        store.close()


@pytest.mark.slow
def test_eight_clients_grading_for_thirty_seconds_lose_no_review(engine: Engine, store_url: str) -> None:
    """The issue's run: 8 clients grade as fast as they can for 30 s, each its
    own learner's cards and, between them, one shared learner's five cards.
    Every grade a client was told went in is a review row, and each shared
    card counts every grade it got."""
    store = Store(store_url).open()
    cards = PracticeStore(store)
    questions = [q.id for q in practice.deck(engine, Filters())[:5]]
    start = threading.Barrier(8)
    stop = threading.Event()
    given = [[0, 0] for _ in range(8)]  # per client: grades to the shared learner, to its own
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            start.wait()
            i = 0
            while not stop.is_set():
                now = T0 + timedelta(seconds=i, microseconds=n)
                q = questions[i % len(questions)]
                practice.grade(engine, cards, "shared", q, ("again", "hard", "good", "easy")[(n + i) % 4], now)
                given[n][0] += 1
                practice.grade(engine, cards, f"learner-{n}", q, "good", now)
                given[n][1] += 1
                i += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    stop.wait(30)
    stop.set()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        shared = sum(g[0] for g in given)
        assert shared > 8 * len(questions)  # the run did grade, many times over
        assert len(cards.reviews("shared")) == shared
        assert sum(c.reviews for c in cards.cards("shared")) == shared
        for n in range(8):
            assert len(cards.reviews(f"learner-{n}")) == given[n][1]
    finally:
        store.close()
