"""Shared fixtures for the foundation suite.

Everything here is real: the packaged embedding model, an index built once per
session from the shipped ``content/`` folder with ``index.engine.ingest``, and
a ``Searcher`` over it.  Tests that need to change an index work on copies.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakes import HashEmbedder
from store_support import PostgresServer, postgres_bin, postgres_server

from index.embed import Embedder
from index.engine import IngestReport, ingest, make_searcher
from index.search import Searcher
from index.store import IndexArtifact
from ingest.encoding import repair_mojibake
from ingest.pipeline import Corpus

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"
ML_BANK = CONTENT / "machine-learning.md"
NEIGHBOURS = REPO / "neighbours"
CORPUS_EXTRA = Path(__file__).resolve().parent / "fixtures" / "corpus-extra"
EXTRA_BANKS = ("NumPy.md", "Pandas.md", "Python.md")
# The site's current Machine Learning page: the shipped bank's title, 95 answers (tests/fixtures/ml-current/README.md).
ML_CURRENT = Path(__file__).resolve().parent / "fixtures" / "ml-current" / "Machine-Learning-current.md"

# The two-entry bank used by the CLI and load-or-build tests: small enough to
# embed in well under a second.
MINI_BANK = """\
# Git Interview Questions

## Premium Interview Questions

### What is a Rebase? - Google Interview Question

**Difficulty:** 🟢 Easy | **Tags:** `Version Control`, `History` | **Asked by:** Google, Stripe

??? success "View Answer"

    **Definition:**

    A rebase replays your commits on top of another branch, producing a linear history.

    ```bash
    git fetch origin
    git rebase origin/main
    ```

    !!! tip "Interviewer's Insight"
        Knows never to rebase commits that others have already pulled.

### How Do You Undo a Pushed Commit? - Stripe Interview Question

**Difficulty:** 🟡 Medium | **Tags:** `Version Control` | **Asked by:** Stripe

??? success "View Answer"

    Use `git revert <sha>`: it adds a new commit that undoes the change without rewriting shared history.
"""


def ml_entries(text: str) -> dict[str, str]:
    """Split a bank page into its ``### `` entries: heading line -> entry text
    (heading through the line before the next ``###``/``##`` heading)."""
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if ln.startswith("### ")]
    out: dict[str, str] = {}
    for s in starts:
        e = s + 1
        while e < len(lines) and not lines[e].startswith(("### ", "## ")):
            e += 1
        out[lines[s]] = "\n".join(lines[s:e])
    return out


def answer_bodies(text: str) -> list[list[str]]:
    """Independently of the parser: the lines of each ``??? `` answer block with
    the 4-space admonition indent removed (blank lines kept as they are)."""
    lines = text.split("\n")
    bodies: list[list[str]] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("??? "):
            i += 1
            continue
        j = i + 1
        body: list[str] = []
        while j < len(lines) and (not lines[j].strip() or lines[j].startswith("    ")):
            body.append(lines[j][4:] if lines[j].startswith("    ") else lines[j])
            j += 1
        bodies.append(body)
        i = j
    return bodies


def fenced_blocks(body: list[str]) -> list[tuple[str, str]]:
    """(language, code) of each top-level fenced block in an answer body, found
    by a plain fence scan (outside the nested insight admonition)."""
    blocks: list[tuple[str, str]] = []
    k = 0
    while k < len(body):
        line = body[k]
        if line.startswith("!!! "):  # the nested insight box: not part of the answer's code
            k += 1
            while k < len(body) and (not body[k].strip() or body[k].startswith("    ")):
                k += 1
            continue
        m = re.match(r"^( *)(`{3,})(\w*)\s*$", line)
        if m:
            indent, fence, lang = m.groups()
            end = next(e for e in range(k + 1, len(body)) if body[e].strip() == fence)
            code = "\n".join(ln[len(indent) :] for ln in body[k + 1 : end])
            blocks.append((lang or "text", code))
            k = end + 1
        else:
            k += 1
    return blocks


def insight_text(body: list[str]) -> str | None:
    """The ``!!! tip "Interviewer's Insight"`` box of an answer body, dedented."""
    for k, line in enumerate(body):
        if line.startswith("!!! ") and "insight" in line.lower():
            box = []
            for ln in body[k + 1 :]:
                if ln.strip() and not ln.startswith("    "):
                    break
                box.append(ln)
            return textwrap.dedent("\n".join(box)).strip()
    return None


@pytest.fixture(scope="session")
def ml_text() -> str:
    """The shipped bank as delivered (still Mac-Roman damaged)."""
    return ML_BANK.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def ml_text_repaired(ml_text: str) -> str:
    return repair_mojibake(ml_text)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder().load()


@pytest.fixture(scope="session")
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IngestReport:
    """The shipped content (and the shipped neighbouring subjects) ingested once into a
    temporary index directory.

    The previous run's index (kept in pytest's cache folder) is put there
    first, so ``ingest`` reuses its embeddings the way a rebuild does and only
    changed chunks are embedded: the first run (CI's fresh clone) embeds all
    of them, later local runs a few seconds less.  ``pytest --cache-clear``
    starts from nothing."""
    index_dir = tmp_path_factory.mktemp("session-index") / "index"
    pytest_cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache = pytest_cache.mkdir("qbank-session-index") if pytest_cache is not None else None
    if cache is not None and (cache / "manifest.json").is_file():
        shutil.copytree(cache, index_dir)
    report = ingest(CONTENT, index_dir, embedder, neighbours_dir=NEIGHBOURS)  # as `qbank ingest` builds it
    if cache is not None:
        shutil.rmtree(cache)
        shutil.copytree(report.path.resolve(), cache)
    return report


@pytest.fixture(scope="session")
def fake_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def fake_built(tmp_path_factory: pytest.TempPathFactory, fake_embedder: HashEmbedder) -> IngestReport:
    """The shipped content indexed with ``HashEmbedder``: for tests of mechanics."""
    return ingest(CONTENT, tmp_path_factory.mktemp("fake-index") / "index", fake_embedder)


@pytest.fixture(scope="session")
def corpus(built: IngestReport) -> Corpus:
    return built.corpus


@pytest.fixture(scope="session")
def artifact(built: IngestReport) -> IndexArtifact:
    return built.artifact


@pytest.fixture(scope="session")
def searcher(artifact: IndexArtifact, embedder: Embedder) -> Searcher:
    return make_searcher(artifact, embedder)


@pytest.fixture
def index_copy(built: IngestReport, tmp_path: Path) -> Callable[[str], Path]:
    """Copy the session index's current version into ``tmp_path`` as a real
    versioned layout (``.name-v0`` directory plus ``name`` symlink)."""

    def make(name: str = "index") -> Path:
        version = tmp_path / f".{name}-00000000T000000-copy"
        shutil.copytree(built.path.resolve(), version)
        link = tmp_path / name
        link.symlink_to(version.name)
        return link

    return make


@pytest.fixture(scope="session")
def extra_dir() -> Path:
    missing = [n for n in EXTRA_BANKS if not (CORPUS_EXTRA / n).is_file()]
    if missing:
        pytest.skip(f"corpus-extra banks not available at {CORPUS_EXTRA}: {missing}")
    return CORPUS_EXTRA


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (skipped only where its binaries are missing)."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are missing: run `make setup-test` (Debian's postgresql)")
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL: a SQLite file, then a fresh database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'qbank.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database(re.sub(r"\W", "_", request.node.originalname)[:40])
