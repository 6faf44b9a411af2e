"""The company study plan (``GET /api/practice/plan``) through the app's
lifespan: the company's questions Easy → Hard over the days, each
difficulty re-ordered by the learner's grades.  Ordering does not depend on
meaning, so the index is the shipped content embedded with ``HashEmbedder``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from service_support import service_settings

from index.engine import IngestReport
from index.filters import Filters
from ingest.pipeline import Corpus
from service.app import create_app

LEVEL = {"Easy": 0, "Medium": 1, "Hard": 2}


@pytest.fixture(scope="module")
def client(
    fake_embedder: HashEmbedder, fake_built: IngestReport, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = service_settings(fake_built.path, tmp_path_factory.mktemp("plan"))
    with TestClient(create_app(settings, background_load=False, embedder=fake_embedder)) as c:
        yield c


def new_learner(client: TestClient) -> dict[str, str]:
    client.cookies.clear()
    token = client.get("/api/practice/next").json()["learner"]
    client.cookies.clear()
    return {"X-Learner": token}


def plan(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = client.get("/api/practice/plan", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def flat(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for day in body["plan"] for item in day["questions"]]


def test_netflix_in_ten_days_is_every_netflix_question_easy_to_hard_spread_evenly(
    client: TestClient, fake_built: IngestReport
) -> None:
    corpus: Corpus = fake_built.corpus
    netflix = {q.id for q in corpus.questions if Filters(company="Netflix").matches(q)}
    body = plan(client, new_learner(client), company="netflix", days=10)
    assert (body["company"], body["days"], body["questions"]) == ("Netflix", 10, len(netflix))
    items = flat(body)
    assert sorted(i["question"]["id"] for i in items) == sorted(netflix)  # each once
    levels = [LEVEL[i["question"]["difficulty"]] for i in items]
    assert levels == sorted(levels) and levels[0] == 0 and levels[-1] == 2
    sizes = [len(day["questions"]) for day in body["plan"]]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == len(netflix)
    today = datetime.now(UTC).date()
    assert [date.fromisoformat(d["date"]) for d in body["plan"]] == [today + timedelta(days=i) for i in range(10)]
    assert [d["day"] for d in body["plan"]] == list(range(1, 11))
    assert {i["standing"] for i in items} == {"new"}
    assert all("Netflix" in i["question"]["companies"] for i in items)
    assert body["practice_url"].endswith("/practice?company=Netflix")


def test_grades_move_weak_questions_to_the_front_of_their_level_and_known_ones_to_its_end(client: TestClient) -> None:
    me = new_learner(client)
    before = flat(plan(client, me, company="Netflix", days=10))
    medium = [i["question"]["id"] for i in before if i["question"]["difficulty"] == "Medium"]
    first, last_but_one = medium[0], medium[-2]
    for question_id, rating in ((first, "easy"), (last_but_one, "hard")):
        r = client.post("/api/practice/grade", json={"question_id": question_id, "rating": rating}, headers=me)
        assert r.status_code == 200, r.text
    after = flat(plan(client, me, company="Netflix", days=10))
    reordered = [i for i in after if i["question"]["difficulty"] == "Medium"]
    assert (reordered[0]["question"]["id"], reordered[0]["standing"]) == (last_but_one, "weak")
    assert (reordered[-1]["question"]["id"], reordered[-1]["standing"]) == (first, "known")
    assert [i["question"]["id"] for i in after if i["question"]["difficulty"] != "Medium"] == [
        i["question"]["id"] for i in before if i["question"]["difficulty"] != "Medium"
    ]
    other = new_learner(client)  # another learner's plan is untouched by these grades
    assert [i["question"]["id"] for i in flat(plan(client, other, company="Netflix", days=10))] == [
        i["question"]["id"] for i in before
    ]


def test_an_alias_names_the_banks_company_and_spare_days_stay_empty(client: TestClient) -> None:
    me = new_learner(client)
    body = plan(client, me, company="Facebook", days=3)
    assert body["company"] == "Meta" and body["questions"] > 3
    few = plan(client, me, company="OYO", days=60)
    assert len(few["plan"]) == 60 and few["questions"] == len(flat(few)) < 60
    assert sum(1 for d in few["plan"] if not d["questions"]) == 60 - few["questions"]
    # Fewer questions than days: at most one a day, spread over the period, starting on day 1.
    assert len(few["plan"][0]["questions"]) == 1 and max(len(d["questions"]) for d in few["plan"]) == 1


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"company": "Initech", "days": 5}, 404, "no question in the banks is asked by 'Initech'"),
        ({"company": "Netflix", "days": 0}, 422, "greater than or equal to 1"),
        ({"company": "Netflix", "days": 61}, 422, "less than or equal to 60"),
        ({"days": 5}, 422, "Field required"),
    ],
)
def test_a_bad_plan_request_says_what_to_change(
    client: TestClient, params: dict[str, Any], status: int, message: str
) -> None:
    r = client.get("/api/practice/plan", params=params)
    assert r.status_code == status
    assert message in str(r.json()["detail"])
