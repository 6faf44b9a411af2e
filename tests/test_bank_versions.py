"""A newer version of a bank dropped beside the old one, and quick-reference
rows linked to answers in any bank present.

Files with the same bank title are one bank (``ingest.merge``): every
question of both, a question in both taken from the newer file, ids from the
seed file (the plainest name), the quick-reference table and company lists
from the newest file that has them, and notices saying what was superseded.
A row links to a full answer of any bank present, its own bank first, and
to another bank's only on strong evidence (title words and meaning).
Small banks written here test the rules; the real current Machine Learning
page (tests/fixtures/ml-current) beside the shipped bank tests the case the
rules were made for."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import EXTRA_BANKS, ML_BANK, ML_CURRENT

from index.build import relink
from index.components.filtering import FilterMask
from index.embed import Embedder
from index.engine import ingest
from index.filters import Filters
from ingest.linking import refine_links
from ingest.models import Question, QuickRef
from ingest.pipeline import Corpus, ingest_dir
from ingest.textutil import slugify
from qbank.cli import _source_lines

REBASE = "git--what-is-a-rebase"
UNDO = "git--how-do-you-undo-a-pushed-commit"
CHERRY = "git--how-do-you-cherry-pick-a-commit"
DAY = 86_400.0


def page(front: str, body: str) -> str:
    return f"---\ntitle: Git Interview Questions\n{front}---\n\n# Git Interview Questions\n\n{body}"


def entry(title: str, answer: str, difficulty: str = "🟡 Medium", asked_by: str = "Google") -> str:
    return (
        f"### {title} - Google Interview Question\n\n"
        f"**Difficulty:** {difficulty} | **Tags:** `History` | **Asked by:** {asked_by}\n\n"
        f'??? success "View Answer"\n\n    {answer}\n\n'
    )


def table(*rows: tuple[int, str]) -> str:
    lines = [
        f"## Quick Reference: {len(rows)} Interview Questions\n",
        "| Sno | Question Title | Practice Links | Companies Asking | Difficulty | Topics |",
        "|-----|----------------|----------------|------------------|------------|--------|",
    ]
    lines += [
        f"| {n} | {title} | [Docs](https://git-scm.com/docs/{n}) | Atlassian | Easy | History |" for n, title in rows
    ]
    return "\n".join(lines) + "\n\n"


def old_page(*more_rows: tuple[int, str]) -> str:
    return page(
        "",
        entry("What is a Rebase?", "Old answer: a rebase replays commits.", "🟢 Easy")
        + entry("How Do You Undo a Pushed Commit?", "Use `git revert <sha>`.", asked_by="Stripe")
        + table((1, "Rebase vs Merge"), (2, "Cherry Picking a Commit"), (3, "Git Submodules"), *more_rows)
        + "## Questions asked in Stripe interview\n- Cherry Picking a Commit\n",
    )


OLD = old_page()
NEW = page(
    "updated: 2026-07-12\n",
    entry("What is a Rebase?", "New answer: a rebase replays your commits on a new base.", asked_by="Google, Meta")
    + entry("How Do You Cherry-Pick a Commit?", "`git cherry-pick <sha>` applies one commit's change here."),
)


def write(content: Path, name: str, text: str, mtime: float) -> Path:
    content.mkdir(parents=True, exist_ok=True)
    path = content / name
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return tmp_path / "content"


NOW = 1_790_000_000.0


def test_a_newer_page_beside_the_old_one_is_merged_into_its_bank(content: Path) -> None:
    write(content, "git.md", OLD, NOW - DAY)
    write(content, "git-2026.md", NEW, NOW)  # dropped a day later

    corpus = ingest_dir(content)

    # One bank under the seed's title and slug: the old file's name is the plainer one.
    (bank,) = corpus.banks
    assert (bank.bank, bank.bank_slug, bank.path) == ("Git Interview Questions", "git", "content/git.md")
    assert (bank.questions, bank.quick_refs, bank.warnings) == (3, 3, 0)
    # Every question of both, the shared one once: the seed's order, then the new ones.
    assert [q.id for q in corpus.questions] == [REBASE, UNDO, CHERRY]
    rebase, undo, cherry = corpus.questions
    assert rebase.answer_markdown.startswith("New answer") and rebase.source.path == "content/git-2026.md"
    assert (rebase.difficulty, rebase.companies) == ("Medium", ("Google", "Meta"))
    assert undo.source.path == "content/git.md" and cherry.source.path == "content/git-2026.md"
    assert {q.bank_slug for q in corpus.questions} == {"git"}
    # The table and the company list come from the old file, the only one that has them.
    assert [(r.id, r.bank_slug) for r in corpus.quick_refs] == [
        ("git--qr-1", "git"),
        ("git--qr-2", "git"),
        ("git--qr-3", "git"),
    ]
    row_rebase, row_cherry, row_submodules = corpus.quick_refs
    assert row_rebase.question_id == REBASE  # the id it had before the newer page came
    assert row_cherry.question_id == CHERRY  # a row of the old page links to the new page's answer
    assert row_submodules.question_id is None
    # The Stripe list names the row; the row passes Stripe on to the answer it links to.
    assert row_cherry.companies == ("Atlassian", "Stripe") and cherry.companies == ("Google", "Stripe")
    # What happened is said: no warning, notices naming both files.
    assert corpus.warnings == ()
    merged, superseded = corpus.notices
    assert merged.path == "content/git.md" and "content/git-2026.md" in merged.message
    assert superseded.path == "content/git.md"
    assert "1 of its questions (1 with a different answer) are also in content/git-2026.md" in superseded.message
    assert "which is newer (modified " in superseded.message and "'What is a Rebase?'" in superseded.message
    assert [
        (s.path, s.seed, s.version, s.questions, s.superseded, s.quick_refs, s.company_lists) for s in bank.sources
    ] == [
        ("content/git.md", True, 1, 1, 1, 3, 1),
        ("content/git-2026.md", False, 2, 2, 0, 0, 0),
    ]
    assert _source_lines(bank.sources) == [
        "  from content/git.md (seed, oldest): 1 questions, 1 superseded by newer copies, "
        "3 quick-reference rows, 1 company lists",
        "  from content/git-2026.md (newest): 2 questions",
    ]


def test_ids_are_the_ones_the_old_page_alone_gave(content: Path, tmp_path: Path) -> None:
    write(tmp_path / "alone", "git.md", OLD, NOW)
    before = {q.id for q in ingest_dir(tmp_path / "alone").questions} | {
        r.id for r in ingest_dir(tmp_path / "alone").quick_refs
    }
    write(content, "git.md", OLD, NOW - DAY)
    write(content, "git-2026.md", NEW, NOW)

    corpus = ingest_dir(content)

    assert before <= set(corpus.records)
    assert set(corpus.records) - before == {CHERRY}


def test_the_newer_file_by_modification_time_supplies_the_shared_question(content: Path) -> None:
    write(content, "git.md", OLD, NOW)  # the old page edited after the other was dropped
    write(content, "git-2026.md", NEW.replace("updated: 2026-07-12\n", ""), NOW - DAY)

    corpus = ingest_dir(content)

    rebase = corpus.records[REBASE]
    assert isinstance(rebase, Question) and rebase.answer_markdown.startswith("Old answer")
    assert [q.id for q in corpus.questions] == [REBASE, UNDO, CHERRY]  # ids and order do not follow the times
    (superseded,) = [n for n in corpus.notices if "superseded" in n.message]
    assert superseded.path == "content/git-2026.md" and "also in content/git.md, which is newer" in superseded.message


def test_front_matter_dates_decide_when_every_file_has_one(content: Path) -> None:
    write(content, "git.md", OLD.replace("title:", "updated: 2026-09-01\ntitle:"), NOW - DAY)
    write(content, "git-2026.md", NEW, NOW)  # modified later, but dated earlier

    corpus = ingest_dir(content)

    rebase = corpus.records[REBASE]
    assert isinstance(rebase, Question) and rebase.answer_markdown.startswith("Old answer")
    (superseded,) = [n for n in corpus.notices if "superseded" in n.message]
    assert "front-matter date 2026-09-01 after 2026-07-12" in superseded.message


def test_files_written_together_count_the_seed_as_the_older(content: Path) -> None:
    """A checkout or a copy writes both files within a moment: their times say
    nothing, so the seed (the plainer name) is taken as the older page."""
    write(content, "git.md", OLD, NOW + 0.5)
    write(content, "git-2026.md", NEW.replace("updated: 2026-07-12\n", ""), NOW)

    corpus = ingest_dir(content)

    rebase = corpus.records[REBASE]
    assert isinstance(rebase, Question) and rebase.answer_markdown.startswith("New answer")
    (superseded,) = [n for n in corpus.notices if "superseded" in n.message]
    assert "both modified within 2 s" in superseded.message and "the seed counts as the older" in superseded.message


def test_three_versions_are_ordered_by_time_in_runs(content: Path) -> None:
    """git.md and git-b.md were written together (one run: the seed first);
    git-c.md came later than both, so its copy wins and says so by time."""
    plain = NEW.replace("updated: 2026-07-12\n", "")
    write(content, "git.md", OLD, NOW)
    write(content, "git-b.md", plain.replace("New answer", "B answer"), NOW + 1.5)
    write(content, "git-c.md", plain.replace("New answer", "C answer"), NOW + 3)

    corpus = ingest_dir(content)

    rebase = corpus.records[REBASE]
    assert isinstance(rebase, Question) and rebase.answer_markdown.startswith("C answer")
    (bank,) = corpus.banks
    assert [(s.path, s.version, s.questions) for s in bank.sources] == [
        ("content/git.md", 1, 1),
        ("content/git-b.md", 2, 0),
        ("content/git-c.md", 3, 2),
    ]
    superseded = {n.path: n.message for n in corpus.notices if "superseded" in n.message}
    assert "also in content/git-c.md, which is newer (modified " in superseded["content/git-b.md"]
    assert "also in content/git-c.md, which is newer (modified " in superseded["content/git.md"]


def test_a_newer_table_supersedes_the_older_one_whole(content: Path) -> None:
    newer = NEW + table((1, "Interactive Rebase"), (2, "Cherry Picking a Commit"))
    write(content, "git.md", OLD, NOW - DAY)
    write(content, "git-2026.md", newer, NOW)

    corpus = ingest_dir(content)

    assert [(r.id, r.title) for r in corpus.quick_refs] == [
        ("git--qr-1", "Interactive Rebase"),
        ("git--qr-2", "Cherry Picking a Commit"),
    ]
    assert any(
        n.path == "content/git.md"
        and "quick-reference table (3 rows) is superseded by those in content/git-2026.md" in n.message
        for n in corpus.notices
    )
    # The company list stays the old file's (the newer has none), matched against the rows kept.
    row = corpus.records["git--qr-2"]
    assert isinstance(row, QuickRef) and row.companies == ("Atlassian", "Stripe")


def test_a_date_that_is_not_one_is_a_warning_and_the_time_decides(content: Path) -> None:
    write(content, "git.md", OLD.replace("title:", "updated: soon\ntitle:"), NOW)
    write(content, "git-2026.md", NEW, NOW - DAY)

    corpus = ingest_dir(content)

    (w,) = corpus.warnings
    assert (w.path, w.line) == ("content/git.md", 2)
    assert "front-matter date 'soon' is not a date" in w.message
    rebase = corpus.records[REBASE]
    assert isinstance(rebase, Question) and rebase.answer_markdown.startswith("Old answer")


def test_a_bank_alone_has_no_notice_and_one_source(content: Path) -> None:
    write(content, "git.md", OLD, NOW)
    corpus = ingest_dir(content)
    assert corpus.notices == ()
    (bank,) = corpus.banks
    assert [(s.path, s.seed, s.questions, s.superseded) for s in bank.sources] == [("content/git.md", True, 2, 0)]


# -- quick-reference rows link to any bank ----------------------------------------------------

OTHER = """\
# Version Control Interview Questions

### What is Git Bisect? - Google Interview Question

**Difficulty:** 🟡 Medium | **Tags:** `Debugging` | **Asked by:** Google

??? success "View Answer"

    `git bisect` binary-searches the history for the commit that broke something.

### What is a Rebase? - Google Interview Question

**Difficulty:** 🟡 Medium | **Tags:** `History` | **Asked by:** Google

??? success "View Answer"

    Another bank's rebase answer.
"""


BISECT = "vcs--what-is-git-bisect"


@pytest.fixture
def two_banks(content: Path) -> Corpus:
    write(content, "git.md", old_page((4, "Git Bisect for Debugging")), NOW)
    write(content, "vcs.md", OTHER, NOW)
    return ingest_dir(content)


def test_a_row_links_to_another_banks_answer_at_build_time(two_banks: Corpus) -> None:
    """Title words alone (ingestion) link within a bank; the build, with
    embeddings, also links across banks.  Vectors here: one direction per
    chunk, a row sharing its direction with the titles it means."""
    assert {r.number: r.question_id for r in two_banks.quick_refs}[4] is None
    same = {
        "git--qr-4#row": f"{BISECT}#title",
        "git--qr-1#row": f"{REBASE}#title",
        "vcs--what-is-a-rebase#title": f"{REBASE}#title",
    }
    axis = {c.id: k for k, c in enumerate(two_banks.chunks)}
    vectors = np.eye(len(two_banks.chunks), dtype=np.float32)
    for chunk_id, like in same.items():
        vectors[axis[chunk_id]] = vectors[axis[like]]

    corpus = relink(two_banks, vectors)

    rows = {r.number: r for r in corpus.quick_refs}
    assert rows[1].question_id == REBASE  # its own bank's rebase, though vcs's means the same
    assert rows[4].question_id == BISECT  # only the other bank answers it
    bisect = corpus.records[BISECT]
    assert isinstance(bisect, Question) and bisect.quick_ref_ids == ("git--qr-4",)
    row_chunk = next(c for c in corpus.chunks if c.record_id == "git--qr-4")
    assert row_chunk.doc_id == BISECT  # searched as the answer it links to


def test_an_answer_a_row_links_to_from_another_bank_passes_that_banks_filter(two_banks: Corpus) -> None:
    """git's row 4 searches as vcs's bisect answer: filtered to git, the
    answer is still found (the row's own bank lists it); its other fields
    filter as they are."""
    axis = {c.id: k for k, c in enumerate(two_banks.chunks)}
    vectors = np.eye(len(two_banks.chunks), dtype=np.float32)
    vectors[axis["git--qr-4#row"]] = vectors[axis[f"{BISECT}#title"]]
    corpus = relink(two_banks, vectors)
    doc_ids = sorted({c.doc_id for c in corpus.chunks})
    mask = FilterMask(corpus.records, doc_ids, corpus.quick_refs)

    def passes(filters: Filters) -> set[str]:
        return {doc_ids[i] for i in mask.run(filters)}

    assert BISECT in passes(Filters(bank="vcs")) and BISECT in passes(Filters(bank="git"))
    assert BISECT in passes(Filters(bank="Version Control Interview Questions"))
    assert BISECT not in passes(Filters(bank="git", difficulty="Hard"))  # Medium, wherever it is listed
    assert "vcs--what-is-a-rebase" not in passes(Filters(bank="git"))  # no git row links to it
    # browsing and company lists ask the same mask, one record at a time
    assert mask.allows(Filters(bank="git"), BISECT) and not mask.allows(Filters(bank="git"), "vcs--what-is-a-rebase")


@pytest.mark.parametrize(
    ("cosine", "linked"),
    [
        (0.9, BISECT),  # shares enough words (0.9) and means clearly the same
        (0.6, None),  # as many words, meaning only roughly the same: enough within a bank, not across
    ],
)
def test_a_link_to_another_bank_needs_words_and_meaning_both_strong(
    two_banks: Corpus, cosine: float, linked: str | None
) -> None:
    _, rows = refine_links(two_banks.questions, two_banks.quick_refs, lambda row, question: cosine)
    assert {r.number: r.question_id for r in rows}[4] == linked


def test_a_row_sharing_too_few_words_with_another_banks_title_stays_unlinked(two_banks: Corpus) -> None:
    """'Git Submodules' and 'What is Git Bisect?' share one word of two (0.5):
    within a bank a clearly same meaning would link them, across banks not."""
    _, rows = refine_links(two_banks.questions, two_banks.quick_refs, lambda row, question: 0.9)
    assert {r.number: r.question_id for r in rows}[3] is None


# -- the real pages: the site's current ML page beside the shipped bank --------------------------


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    content = tmp_path_factory.mktemp("ml-both") / "content"
    content.mkdir()
    shutil.copy(ML_BANK, content / ML_BANK.name)
    shutil.copy(ML_CURRENT, content / ML_CURRENT.name)
    os.utime(content / ML_BANK.name, (NOW - DAY, NOW - DAY))  # the shipped page was there first
    os.utime(content / ML_CURRENT.name, (NOW, NOW))
    return ingest_dir(content)


def _ids(text: str) -> list[str]:
    """The ids the page's questions get in the shipped bank's slug, read from its
    headings: a title the page repeats gets -2 (the current page asks 'What is
    Online Learning?' twice)."""
    ids: list[str] = []
    for line in text.split("\n"):
        if line.startswith("### "):
            qid = f"machine-learning--{slugify(line[4:].split(' - ')[0].strip())}"
            ids.append(qid if qid not in ids else f"{qid}-{ids.count(qid) + 1}")
    return ids


def test_the_current_ml_page_merges_into_the_shipped_bank(both: Corpus, corpus: Corpus) -> None:
    current = _ids(ML_CURRENT.read_text(encoding="utf-8"))
    assert len(set(current)) == 95

    (bank,) = both.banks
    assert (bank.bank, bank.bank_slug, bank.path) == (
        "Machine Learning Interview Questions",
        "machine-learning",
        "content/machine-learning.md",
    )
    assert (bank.questions, bank.quick_refs, bank.warnings) == (95, 100, 0)
    # Every id of the shipped bank alone is still there, and each current answer under the same prefix.
    assert set(corpus.records) <= set(both.records)
    assert [q.id for q in both.questions] == [
        *(q.id for q in corpus.questions),
        *(i for i in current if i not in corpus.records),
    ]
    assert {q.source.path for q in both.questions} == {"content/Machine-Learning-current.md"}
    assert [r.id for r in both.quick_refs] == [r.id for r in corpus.quick_refs]
    assert both.warnings == ()
    (superseded,) = [n for n in both.notices if "superseded" in n.message and "questions" in n.message]
    assert superseded.path == "content/machine-learning.md"
    assert superseded.message.startswith("49 of its questions")
    assert [(s.path, s.questions, s.superseded, s.quick_refs) for s in bank.sources] == [
        ("content/machine-learning.md", 0, 49, 100),
        ("content/Machine-Learning-current.md", 95, 0, 0),
    ]


# Decided by reading the row titles and the current page's question titles, before running the linker.
EXPECTED_LINKS = {
    78: {"generative-adversarial-networks-gans"},
    77: {"variational-autoencoders-vaes"},
    66: {"federated-learning"},
    85: {"meta-learning-learning-to-learn"},
    83: {"self-supervised-learning"},
    65: {"explainable-ai-xai"},
    20: {"reinforcement-learning-basics"},
    53: {"bias-and-fairness-in-ml"},
    84: {"explain-few-shot-and-zero-shot-learning", "few-shot-learning"},
    67: {"what-is-multi-task-learning", "multi-task-learning"},
    60: {"transformer-architecture", "explain-attention-mechanisms-and-transformers"},
    # Links of the shipped bank stay on an answer to the row.  Row 2 "Regularization Techniques (L1, L2)":
    # both regularization answers are about it (the build links the second one for the shipped bank
    # alone too; title words alone give the first).
    2: {
        "explain-l1-lasso-vs-l2-ridge-regularization",
        "what-is-regularization-compare-l1-l2-dropout-and-early-stopping",
    },
    36: {"what-is-dropout-and-why-does-it-work"},
}
# Rows no answer of either page is about, some sharing a word with one that is not theirs.
EXPECTED_UNLINKED = {
    96: "Hidden Markov Models (HMMs) in ML",
    76: "Markov Chain Monte Carlo (MCMC) Methods",
    72: "Monte Carlo Methods in Machine Learning",
    82: "Capsule Networks: An Introduction",
    90: "Survival Analysis in ML",
    71: "Actor-Critic Methods in RL",
    95: "Probabilistic Graphical Models: Bayesian Networks",
    88: "Multi-Label Classification Techniques",  # not Multi-Task Learning
    68: "Metric Learning and Siamese Networks",  # not Metrics for Imbalanced Classification
}


@pytest.fixture(scope="module")
def both_linked(both: Corpus, embedder: Embedder) -> Corpus:
    """The build's final links: title words and embeddings (only the rows' and
    the title chunks' embeddings are read, so only those are computed)."""
    needed = [k for k, c in enumerate(both.chunks) if c.kind in ("quick_reference", "title")]
    vectors = np.zeros((len(both.chunks), embedder.dimension), dtype=np.float32)
    vectors[needed] = embedder.encode([both.chunks[k].text for k in needed])
    return relink(both, vectors)


@pytest.mark.parametrize("number", sorted(EXPECTED_LINKS))
def test_rows_link_to_the_current_pages_answers(both_linked: Corpus, number: int) -> None:
    row = both_linked.records[f"machine-learning--qr-{number}"]
    assert isinstance(row, QuickRef)
    assert row.question_id in {f"machine-learning--{s}" for s in EXPECTED_LINKS[number]}, (row.title, row.question_id)
    row_chunk = next(c for c in both_linked.chunks if c.record_id == row.id)
    assert row_chunk.doc_id == row.question_id


@pytest.mark.parametrize("number", sorted(EXPECTED_UNLINKED))
def test_rows_without_an_answer_stay_unlinked(both_linked: Corpus, number: int) -> None:
    row = both_linked.records[f"machine-learning--qr-{number}"]
    assert isinstance(row, QuickRef) and row.title == EXPECTED_UNLINKED[number]
    assert row.question_id is None


# -- across banks of other domains: the corpus-extra banks beside the shipped one ----------------

# Rows whose answer is in another bank, and rows that share words with another bank's title about
# another thing (these were read off the first, looser rule's links, which made all of them).
CROSS_BANK_LINKS = {
    "pandas--qr-18": "numpy--how-to-copy-vs-view-arrays",  # copy() and view
    "pandas--qr-71": "numpy--what-is-np-where-and-how-to-use-it",
    "pandas--qr-72": "numpy--how-to-use-np-select-for-multiple-conditions",
    "machine-learning--qr-30": "pandas--how-to-normalize-and-standardize-data",
}
CROSS_BANK_NON_LINKS = {
    "numpy--qr-7": "How to check memory usage of an array?",  # not Pandas' memory optimisation
    "numpy--qr-55": "How to optimize memory with strides?",
    "pandas--qr-63": "How to perform element-wise operations?",  # not NumPy's set operations
    "pandas--qr-84": "How to use Pandas with NumPy?",  # not NumPy's statistics
    "pandas--qr-92": "How to use chunksize for large files?",  # not NumPy's memory mapping
    "python--qr-27": "Difference between lists and arrays (array module)?",  # not NumPy's structured arrays
    "python--qr-28": "What is a Set?",  # not NumPy's set operations
    # the other title leaves out the row's own qualifier (tester: both had linked)
    "python--qr-107": "How to optimize dictionary memory usage?",  # not Pandas' memory optimisation
    "pandas--qr-49": "How to handle timezone-aware datetime?",  # not Python's datetime answer
}


@pytest.mark.slow  # embeds the four banks' titles
def test_rows_link_across_banks_only_on_strong_evidence(extra_dir: Path, tmp_path: Path, embedder: Embedder) -> None:
    content = tmp_path / "content"
    content.mkdir()
    for bank in (ML_BANK, *(extra_dir / name for name in EXTRA_BANKS)):
        shutil.copy(bank, content / bank.name)
    corpus = ingest_dir(content)
    rows = {*CROSS_BANK_LINKS, *CROSS_BANK_NON_LINKS}
    needed = [k for k, c in enumerate(corpus.chunks) if c.kind == "title" or c.record_id in rows]
    vectors = np.zeros((len(corpus.chunks), embedder.dimension), dtype=np.float32)
    vectors[needed] = embedder.encode([corpus.chunks[k].text for k in needed])

    linked = relink(corpus, vectors).records

    for row_id, question_id in CROSS_BANK_LINKS.items():
        row = linked[row_id]
        assert isinstance(row, QuickRef) and row.question_id == question_id, (row.title, row.question_id)
    for row_id, title in CROSS_BANK_NON_LINKS.items():
        row = linked[row_id]
        assert isinstance(row, QuickRef) and row.title == title
        assert row.question_id is None or row.question_id.startswith(f"{row.bank_slug}--"), (title, row.question_id)


def test_a_newer_page_with_a_shorter_name_changes_the_ids_and_ingest_says_so(
    content: Path, tmp_path: Path, embedder: Embedder
) -> None:
    """Saved as "g.md", the newer page became the seed and every id changed without a word;
    links, votes and practice progress under the old ids were orphaned (tester)."""
    index = tmp_path / "index"
    write(content, "git.md", OLD, NOW - DAY)
    assert ingest(content, index, embedder).corpus.notices == ()

    write(content, "g.md", NEW, NOW)
    report = ingest(content, index, embedder)
    assert {r.bank_slug for r in report.artifact.records.values()} == {"g"}
    (renamed,) = [str(n) for n in report.corpus.notices if "now gives its records ids" in str(n)]
    assert renamed.startswith("content/g.md: “Git Interview Questions” now gives its records ids that start g-- ")
    assert "(they started git--)" in renamed and "no longer match" in renamed

    again = ingest(content, index, embedder)  # the same ids as the index it replaces: nothing to say
    assert not [n for n in again.corpus.notices if "now gives its records ids" in str(n)]


def test_a_listed_title_no_record_has_is_said_of_the_file_the_lists_came_from(content: Path) -> None:
    """The note named the seed though the newer page supplied the lists (tester)."""
    write(content, "git.md", OLD, NOW - DAY)
    write(content, "git-2026.md", NEW + "## Questions asked in Meta interview\n- Git Worktrees\n", NOW)

    corpus = ingest_dir(content)

    (left_out,) = [n for n in corpus.notices if "left out of the list" in n.message]
    assert left_out.path == "content/git-2026.md" and "'Git Worktrees'" in left_out.message
