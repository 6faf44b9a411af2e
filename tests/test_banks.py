"""Several banks loaded: the abstention and the examples speak of the banks
present, and an answer says which bank it comes from and offers another
bank's answer to the same question.  Two small banks indexed with the
deterministic ``HashEmbedder`` (what is checked is mechanics, not meaning)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from service_support import service_settings

from index.engine import ingest
from qbank.answer import BankCatalog
from service.app import create_app

GIT_BANK = """\
# Git Interview Questions

### What is a Rebase? - Google Interview Question

**Difficulty:** 🟢 Easy | **Tags:** `Version Control` | **Asked by:** Google, Stripe

??? success "View Answer"

    A rebase replays your commits on top of another branch, producing a linear history.

    ```bash
    git rebase origin/main
    ```

### How Do You Undo a Pushed Commit? - Stripe Interview Question

**Difficulty:** 🟡 Medium | **Tags:** `Version Control` | **Asked by:** Stripe

??? success "View Answer"

    Use `git revert <sha>`: it adds a new commit that undoes the change without rewriting shared history.
"""

SVN_BANK = """\
# Version Control Interview Questions

### What is a Rebase Compared to a Merge? - Atlassian Interview Question

**Difficulty:** 🟡 Medium | **Tags:** `Version Control` | **Asked by:** Atlassian

??? success "View Answer"

    A rebase replays commits onto another branch for a linear history; a merge keeps both histories and joins them.
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, fake_embedder: HashEmbedder) -> Iterator[TestClient]:
    root: Path = tmp_path_factory.mktemp("two-banks")
    content = root / "content"
    content.mkdir()
    (content / "git.md").write_text(GIT_BANK, encoding="utf-8")
    (content / "vcs.md").write_text(SVN_BANK, encoding="utf-8")
    report = ingest(content, root / "index", fake_embedder)
    settings = service_settings(report.path, root, content_dir=content)
    with TestClient(create_app(settings, background_load=False, embedder=fake_embedder)) as c:
        yield c


def ask(client: TestClient, text: str) -> dict:
    r = client.post("/api/chat", json={"messages": [{"role": "user", "content": text}]})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_abstention_names_the_banks_present_and_offers_their_questions(client: TestClient) -> None:
    catalog: BankCatalog = client.app.state.qbank.engine.composer.catalog  # type: ignore[attr-defined]
    assert catalog.banks == ("Git Interview Questions", "Version Control Interview Questions")
    body = ask(client, "best pizza in naples?")
    assert body["abstained"] is True
    assert "the “Git Interview Questions” and “Version Control Interview Questions” banks" in body["answer"]
    assert "machine-learning" not in body["answer"].lower()
    # Round robin over the banks, then a company the banks name most.
    assert catalog.examples == (
        "What is a Rebase?",
        "What is a Rebase Compared to a Merge?",
        "How Do You Undo a Pushed Commit?",
        "What does Stripe ask?",
    )
    assert body["suggestions"] == list(catalog.examples[:3])


def test_an_answer_says_its_bank_and_offers_the_other(client: TestClient) -> None:
    body = ask(client, "a rebase replays your commits onto another branch for a linear history")
    first = body["sources"][0]
    answer = body["answer"]
    assert f"_From the “{first['bank']}” bank._" in answer
    other = "Version Control Interview Questions" if first["bank"] == "Git Interview Questions" else "Git Interview"
    assert f"The “{other}" in answer and "bank answers this too: [" in answer


def test_slack_says_which_bank_too(client: TestClient) -> None:
    from service.slack.blocks import answer_blocks
    from service.slack.short import short_blocks

    engine = client.app.state.qbank.engine  # type: ignore[attr-defined]
    answer = engine.composer.compose(
        [("user", "a rebase replays your commits onto another branch for a linear history")]
    )
    for blocks in (answer_blocks(answer, "https://q.example"), short_blocks(answer, "https://q.example")):
        said = [b["elements"][0]["text"] for b in blocks if b["type"] == "context"]
        assert any(t.startswith(f"_From the “{answer.record.bank}” bank._") for t in said), said
