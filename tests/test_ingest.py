"""Ingestion of the shipped bank: records, quick-reference rows, company lists,
linking and chunks, checked against values read straight from the markdown."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import EXTRA_BANKS, ML_BANK, answer_bodies, fenced_blocks, insight_text, ml_entries

from index.embed import Embedder
from ingest.companies import COMPANY_ALIASES, canonical_company
from ingest.models import Chunk, Question, QuickRef
from ingest.pipeline import Corpus, ingest_dir
from ingest.textutil import split_companies

BANK = "machine-learning"
L1L2 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"
BIAS_VARIANCE = "machine-learning--what-is-the-bias-variance-tradeoff-in-machine-learning"
DROPOUT = "machine-learning--what-is-dropout-and-why-does-it-work"
IMBALANCED = "machine-learning--how-do-you-handle-imbalanced-datasets"
IMBALANCED_2 = "machine-learning--what-is-imbalanced-data-how-do-you-handle-it-in-classification"
GRADIENT_DESCENT = "machine-learning--how-does-gradient-descent-work"
DEPLOY = "machine-learning--how-do-you-deploy-ml-models-to-production"
OVERFITTING = "machine-learning--what-is-overfitting-and-how-do-you-prevent-it"

MOJIBAKE = ("üü", "‚Ü", "‚Ä", "Œ", "\uf8ff")


def qr(number: int) -> str:
    return f"{BANK}--qr-{number}"


def strings(value: object) -> list[str]:
    """Every string inside a record's plain-JSON form."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


# -- counts -----------------------------------------------------------------------


def test_shipped_bank_has_49_questions_and_100_quick_reference_rows(corpus: Corpus, ml_text: str) -> None:
    assert sum(line.startswith("??? ") for line in ml_text.split("\n")) == 49  # the source itself
    assert len(corpus.questions) == 49
    assert len(corpus.quick_refs) == 100
    assert corpus.warnings == ()
    (bank,) = corpus.banks
    assert (bank.bank, bank.bank_slug, bank.questions, bank.quick_refs) == (
        "Machine Learning Interview Questions",
        BANK,
        49,
        100,
    )
    assert bank.chunks == len(corpus.chunks)
    assert bank.code_blocks == sum(len(q.code_blocks) for q in corpus.questions)


def test_record_ids_are_unique_and_titles_follow_the_source_order(corpus: Corpus, ml_text: str) -> None:
    ids = [r.id for r in (*corpus.questions, *corpus.quick_refs)]
    assert len(ids) == len(set(ids))
    headings = [ln[4:] for ln in ml_text.split("\n") if ln.startswith("### ")]
    expected_titles = [re.sub(r"\s+-\s+[^-]+ Interview Question$", "", h) for h in headings]
    assert [q.title for q in corpus.questions] == expected_titles
    assert [r.number for r in corpus.quick_refs] == list(range(1, 101))


# -- selected records, field by field -------------------------------------------------

RECORDS = {
    L1L2: {
        "title": "Explain L1 (Lasso) vs L2 (Ridge) Regularization",
        "difficulty": "Medium",
        # heading + "Asked by" + the Amazon, Microsoft and OYO lists (row 2)
        "companies": {"Amazon", "Microsoft", "Google", "Netflix", "OYO"},
        "tags": ("Regularization", "Feature Selection", "Overfitting"),
        "languages": ("python",),
        "quick_ref_ids": (qr(2),),
        "practice_url": "https://machinelearningmastery.com/introduction-to-regularization-to-reduce-overfitting-and-improve-generalization/",
        "insight_has": "Can discuss tuning λ via cross-validation",
    },
    BIAS_VARIANCE: {
        "title": "What is the Bias-Variance Tradeoff in Machine Learning?",
        "difficulty": "Medium",
        # heading + "Asked by" + the Google, Facebook (Meta), Amazon, Slack and Airbnb lists (row 1)
        "companies": {"Google", "Amazon", "Meta", "Microsoft", "Slack", "Airbnb"},
        "tags": ("Model Evaluation", "Generalization", "Fundamentals"),
        "languages": ("python",),
        "quick_ref_ids": (qr(1),),
        "practice_url": "https://machinelearningmastery.com/gentle-introduction-to-the-bias-variance-trade-off/",
        "insight_has": "Can draw the classic U-shaped curve from memory",
    },
    DROPOUT: {
        "title": "What is Dropout and Why Does It Work?",
        "difficulty": "Medium",
        # heading + "Asked by" + the Facebook (Meta) and WhatsApp lists (row 36)
        "companies": {"Amazon", "Meta", "Google", "Apple", "WhatsApp"},
        "tags": ("Regularization", "Deep Learning", "Overfitting"),
        "languages": ("python",),
        "quick_ref_ids": (qr(36),),
        "practice_url": "https://towardsdatascience.com/understanding-dropout-in-neural-networks-3c5da7a57f86",
        "insight_has": "Knows dropout is only active during training",
    },
    IMBALANCED: {
        "title": "How Do You Handle Imbalanced Datasets?",
        "difficulty": "Hard",
        # heading + "Asked by" + the Paytm list ("Handling Imbalanced Datasets: SMOTE and Others", row 52)
        "companies": {"Netflix", "Meta", "Amazon", "Google", "Paytm"},
        "tags": ("Imbalanced Data", "Classification", "Sampling"),
        "languages": ("python",),
        "quick_ref_ids": (qr(52),),
        "practice_url": "https://towardsdatascience.com/smote-oversampling-for-imbalanced-classification-6c2046f13447",
        "insight_has": 'Warns about SMOTE pitfalls: "Can overfit to synthetic examples"',
    },
    IMBALANCED_2: {
        "title": "What is Imbalanced Data? How Do You Handle It in Classification?",
        "difficulty": "Medium",
        "companies": {"Amazon", "Google", "Meta", "Netflix", "Microsoft"},
        "tags": ("Class Imbalance", "Classification", "Sampling"),
        "languages": ("python", "python"),
        "quick_ref_ids": (),
        "practice_url": None,
        "insight_has": None,
    },
}


@pytest.mark.parametrize("record_id", list(RECORDS))
def test_question_record_fields(corpus: Corpus, ml_text_repaired: str, record_id: str) -> None:
    expected = RECORDS[record_id]
    q = corpus.records[record_id]
    assert isinstance(q, Question)
    assert q.title == expected["title"]
    assert (q.bank, q.bank_slug, q.kind) == ("Machine Learning Interview Questions", BANK, "question")
    assert q.difficulty == expected["difficulty"]
    assert set(q.companies) == expected["companies"]
    assert len(q.companies) == len(set(q.companies))
    assert q.tags == expected["tags"]
    assert tuple(c.language for c in q.code_blocks) == expected["languages"]
    assert q.quick_ref_ids == expected["quick_ref_ids"]
    assert q.practice_url == expected["practice_url"]

    # Source line and insight text read from the file itself.
    lines = ml_text_repaired.split("\n")
    heading_line = next(i for i, ln in enumerate(lines) if ln.startswith(f"### {q.title} - ")) + 1
    assert q.source.path == "content/machine-learning.md"
    assert q.source.line == heading_line
    entry = ml_entries(ml_text_repaired)[lines[heading_line - 1]]
    (body,) = answer_bodies(entry)
    assert q.insight == insight_text(body)
    if expected["insight_has"]:
        assert expected["insight_has"] in q.insight


def test_l1_l2_answer_structure(corpus: Corpus) -> None:
    q = corpus.records[L1L2]
    assert isinstance(q, Question)
    assert [s.heading for s in q.sections] == [
        "Core Difference",
        "Mathematical Formulation",
        "Why L1 Creates Sparsity (Geometric Intuition)",
    ]
    assert r"\text{L1 Loss} = \text{MSE} + \lambda \sum_{i=1}^{n} |w_i|" in q.formulas
    assert r"\text{L2 Loss} = \text{MSE} + \lambda \sum_{i=1}^{n} w_i^2" in q.formulas
    (table,) = q.tables
    assert table.header == ("Aspect", "L1 (Lasso)", "L2 (Ridge)")
    assert [row[0] for row in table.rows] == [
        "Penalty",
        "Effect on weights",
        "Feature selection",
        "Geometry",
        "Best for",
    ]
    # The code block sits in the section it was written in, and the insight is not part of the answer body.
    assert q.sections[2].code_blocks == q.code_blocks
    assert "Interviewer's Insight" not in q.answer_markdown
    assert "lasso = Lasso(alpha=0.1)" in q.code_blocks[0].code


# -- encoding --------------------------------------------------------------------


def test_no_mojibake_left_in_any_record_or_chunk(corpus: Corpus) -> None:
    found = []
    for record in (*corpus.questions, *corpus.quick_refs):
        for s in strings(record.to_dict()):
            found += [(record.id, bad) for bad in MOJIBAKE if bad in s]
    for chunk in corpus.chunks:
        found += [(chunk.id, bad) for bad in MOJIBAKE if bad in chunk.text]
    assert found == []


@pytest.mark.parametrize(
    ("record_id", "text"),
    [
        (BIAS_VARIANCE, "High bias → underfitting"),
        (IMBALANCED, "- ❌ Accuracy (misleading)"),
        (IMBALANCED, "- ✅ PR-AUC (better than ROC-AUC)"),
    ],
)
def test_damaged_characters_are_restored_in_answers(corpus: Corpus, record_id: str, text: str) -> None:
    q = corpus.records[record_id]
    assert isinstance(q, Question)
    assert text in q.answer_markdown


# -- code blocks -------------------------------------------------------------------


def _expected_code(text: str) -> list[list[tuple[str, str]]]:
    return [fenced_blocks(body) for body in answer_bodies(text)]


def _blank_whitespace_lines(code: str) -> str:
    return "\n".join("" if not ln.strip() else ln for ln in code.split("\n"))


def _mismatches(corpus: Corpus, expected: list[list[tuple[str, str]]], normalise=lambda code: code) -> list[str]:
    """One line per code block that differs from the source, the first with a diff."""
    out: list[str] = []
    for q, blocks in zip(corpus.questions, expected, strict=True):
        for k, (lang, code) in enumerate(blocks):
            got = q.code_blocks[k]
            if got.language == lang and normalise(got.code) == normalise(code):
                continue
            if not out:
                diff = difflib.unified_diff(
                    code.split("\n"), got.code.split("\n"), "source", "parsed", lineterm="", n=0
                )
                out.append(f"{q.id} block {k} ({got.language!r} vs {lang!r}):\n" + "\n".join(list(diff)[:12]))
            else:
                out.append(f"{q.id} block {k}")
    return out


def test_code_blocks_are_byte_identical_to_the_source(corpus: Corpus, ml_text_repaired: str) -> None:
    expected = _expected_code(ml_text_repaired)
    assert sum(len(b) for b in expected) == 85
    assert [len(q.code_blocks) for q in corpus.questions] == [len(b) for b in expected]
    mismatched = _mismatches(corpus, expected)
    assert not mismatched, f"{len(mismatched)} of 85 code blocks differ:\n" + "\n".join(mismatched[:5])


def test_code_block_indentation_is_preserved(corpus: Corpus, ml_text_repaired: str) -> None:
    """Weaker than byte identity (whitespace-only lines compared as empty): the
    leading indentation of every code line survives ingestion."""
    q = corpus.records[DROPOUT]
    assert isinstance(q, Question)
    assert "\n        super().__init__()\n" in q.code_blocks[0].code
    expected = _expected_code(ml_text_repaired)
    assert [len(q.code_blocks) for q in corpus.questions] == [len(b) for b in expected]
    mismatched = _mismatches(corpus, expected, _blank_whitespace_lines)
    assert not mismatched, f"{len(mismatched)} of 85 code blocks lose indentation:\n" + "\n".join(mismatched[:5])


# -- quick reference ------------------------------------------------------------------


def test_quick_reference_row_linked_to_a_full_question(corpus: Corpus, ml_text: str) -> None:
    row = corpus.records[qr(2)]
    assert isinstance(row, QuickRef)
    assert (row.number, row.title, row.kind) == (2, "Regularization Techniques (L1, L2)", "quick_reference")
    assert row.practice_label == "Machine Learning Mastery"
    assert row.practice_url == (
        "https://machinelearningmastery.com/introduction-to-regularization-to-reduce-overfitting-and-improve-generalization/"
    )
    # The table's own companies plus the Amazon, Microsoft and OYO lists.
    assert set(row.companies) == {"Google", "Amazon", "Microsoft", "OYO"}
    assert row.companies[:3] == ("Google", "Amazon", "Microsoft")
    assert row.difficulty == "Medium"
    assert row.topics == ("Overfitting", "Generalization")
    assert row.question_id == L1L2
    assert (
        row.source.line
        == ml_text.split("\n").index(next(ln for ln in ml_text.split("\n") if ln.startswith("| 2 |"))) + 1
    )


def test_quick_reference_row_without_a_full_question(corpus: Corpus) -> None:
    row = corpus.records[qr(96)]
    assert isinstance(row, QuickRef)
    assert row.title == "Hidden Markov Models (HMMs) in ML"
    assert row.practice_url == "https://towardsdatascience.com/hidden-markov-models-101-456mno"
    assert row.practice_label == "Towards Data Science"
    assert row.companies == ("Google", "Amazon", "Meta")  # the table says "Facebook"
    assert row.difficulty == "Hard"
    assert row.topics == ("Probabilistic Models", "Sequence Modeling")
    assert row.question_id is None


def test_quick_reference_title_with_parentheses_and_commas(corpus: Corpus) -> None:
    row = corpus.records[qr(100)]
    assert isinstance(row, QuickRef)
    assert row.title == "Optimization Algorithms Beyond Gradient Descent (Adam, RMSProp, etc.)"
    assert row.topics == ("Optimization", "Deep Learning")


@pytest.mark.parametrize(
    ("number", "question_id"),
    [
        (1, BIAS_VARIANCE),
        (2, L1L2),
        (5, GRADIENT_DESCENT),
        (29, GRADIENT_DESCENT),
        (36, DROPOUT),
        (52, IMBALANCED),
        (54, DEPLOY),
        (96, None),
        (20, None),  # Reinforcement Learning Basics: no full question
        # Known limits of title-only linking, left as they are (see the issue note): row 4 "Overfitting and
        # Underfitting" stays unlinked (similarity 0.5) and row 67 "Multi-Task Learning in Neural Networks"
        # links to the neural-networks question (0.62): titles alone cannot tell these apart.
    ],
)
def test_quick_reference_links(corpus: Corpus, number: int, question_id: str | None) -> None:
    row = corpus.records[qr(number)]
    assert isinstance(row, QuickRef)
    assert row.question_id == question_id


def test_links_are_mirrored_on_the_questions(corpus: Corpus) -> None:
    for row in corpus.quick_refs:
        if row.question_id is None:
            continue
        q = corpus.records[row.question_id]
        assert isinstance(q, Question)
        assert row.id in q.quick_ref_ids
    for q in corpus.questions:
        rows = [corpus.records[r] for r in q.quick_ref_ids]
        assert all(isinstance(r, QuickRef) and r.question_id == q.id for r in rows)
        assert q.practice_url == next((r.practice_url for r in rows if isinstance(r, QuickRef)), None)


# -- company lists ----------------------------------------------------------------


def _company_lists(text: str) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    company = None
    for line in text.split("\n"):
        if m := re.match(r"^## Questions asked in (.+) interview$", line):
            company = m.group(1)
            lists[company] = []
        elif line.startswith("## "):
            company = None
        elif company and line.startswith("- "):
            lists[company].append(line[2:].strip())
    return lists


def test_uber_is_attached_to_exactly_the_records_its_list_names(corpus: Corpus) -> None:
    with_uber = {r.id for r in (*corpus.questions, *corpus.quick_refs) if "Uber" in r.companies}
    assert with_uber == {
        qr(20),  # Reinforcement Learning Basics
        qr(33),  # Anomaly Detection
        qr(29),  # Gradient Descent Variants ...
        GRADIENT_DESCENT,  # ... and the full question it links to
        qr(54),  # Model Deployment: From Prototype to Production ...
        DEPLOY,  # ... and its full question
    }


def test_every_company_list_entry_reaches_its_quick_reference_row(corpus: Corpus, ml_text: str) -> None:
    lists = _company_lists(ml_text)
    assert len(lists) == 13
    by_title = {r.title: r for r in corpus.quick_refs}
    missing = []
    for company, titles in lists.items():
        for title in titles:
            row = by_title.get(title)
            if row is None:
                continue  # e.g. OYO's "Data Preprocessing Techniques" has no row of that name
            name = canonical_company(company)  # "Facebook" -> "Meta"
            if name not in row.companies:
                missing.append((name, title))
            if row.question_id and name not in corpus.records[row.question_id].companies:
                missing.append((name, row.question_id))
    assert missing == []


def test_a_listed_title_no_record_has_is_said_not_dropped_silently(corpus: Corpus) -> None:
    """OYO's list names a tag, not a record: its list shows two of three with nothing said
    (tester finding).  And the page's closing "---" and "*Note:* ..." are no items of the
    Airbnb list above them."""
    left_out = [n for n in corpus.notices if "left out of the list" in n.message]
    assert [(n.path, n.message) for n in left_out] == [
        (
            "content/machine-learning.md",
            "OYO's list names 1 title that no question or quick-reference row of the bank has, "
            "left out of the list: 'Data Preprocessing Techniques'",
        )
    ]


def test_one_company_under_two_names_is_one_company(corpus: Corpus, ml_text: str) -> None:
    """The bank's headings, table and lists say "Facebook" where its "Asked by"
    lines say "Meta": every record carries "Meta", and a record named under
    either name is Meta's."""
    named = {r.id: set(r.companies) for r in (*corpus.questions, *corpus.quick_refs)}
    assert not any("Facebook" in companies for companies in named.values())
    assert "Facebook" in ml_text and "Meta" in ml_text
    table = {  # the quick-reference rows whose "Companies Asking" cell says Facebook
        qr(int(line.split("|")[1]))
        for line in ml_text.split("\n")
        if re.match(r"^\| \d+ \|", line) and "Facebook" in line.split("|")[4]
    }
    listed = {  # the rows the "Questions asked in Facebook interview" list names
        r.id for r in corpus.quick_refs if r.title in _company_lists(ml_text)["Facebook"]
    }
    assert len(table) > 20 and len(listed) > 5
    assert {i for i, companies in named.items() if "Meta" in companies} >= table | listed
    assert COMPANY_ALIASES["facebook"] == "Meta"


def test_the_readme_lists_the_company_aliases() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- company-aliases:", 1)[1].split("<!-- /company-aliases -->", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[3:] if line.strip()]
    assert {alias.lower(): name for alias, name in rows} == COMPANY_ALIASES


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("Facebook", "Meta"), ("facebook", "Meta"), ("Meta", "Meta"), ("DeepMind", "Google DeepMind"),
     ("Google DeepMind", "Google DeepMind"), ("Meta AI", "Meta AI"), ("WhatsApp", "WhatsApp")],
)  # fmt: skip
def test_company_aliases_map_to_one_name(name: str, canonical: str) -> None:
    assert canonical_company(name) == canonical


@pytest.mark.parametrize(
    ("written", "names"),
    [
        ("Google, **Meta** and Uber/Lyft", ["Google", "Meta", "Uber", "Lyft"]),
        # NumPy's bank: the firms in brackets too, not "HFT Firms (Citadel" and "Jane Street)" (tester)
        ("HFT Firms (Citadel, Jane Street), Google", ["HFT Firms", "Citadel", "Jane Street", "Google"]),
        (
            "Google, HFT Firms (Jane Street, Citadel, Two Sigma)",
            ["Google", "HFT Firms", "Jane Street", "Citadel", "Two Sigma"],
        ),
        ("Meta (Facebook, Instagram), Google", ["Meta", "Facebook", "Instagram", "Google"]),  # Meta kept (review)
        ("Meta (Facebook), Google", ["Meta (Facebook)", "Google"]),  # one name in brackets: as written
    ],
)
def test_asked_by_lists_split_into_names(written: str, names: list[str]) -> None:
    assert split_companies(written) == names


# -- chunks -----------------------------------------------------------------------

FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,})[^`]*$")  # CommonMark: no backtick in a backtick fence's info string


def _fence_lines(text: str) -> int:
    return sum(bool(FENCE_LINE.match(ln)) for ln in text.split("\n"))


def _body(chunk: Chunk) -> str:
    """Chunk text without its title (and heading) lines."""
    header = 2 if chunk.heading and chunk.kind != "quick_reference" else 1
    return "\n".join(chunk.text.split("\n")[header:]).strip()


def _is_single_code_block(text: str) -> bool:
    lines = text.split("\n")
    return (
        len(lines) >= 2
        and _fence_lines(text) == 2
        and bool(FENCE_LINE.match(lines[0]))
        and bool(FENCE_LINE.match(lines[-1]))
    )


def test_chunks_start_with_their_record_title(corpus: Corpus) -> None:
    assert len({c.id for c in corpus.chunks}) == len(corpus.chunks)
    for chunk in corpus.chunks:
        record = corpus.records[chunk.record_id]
        assert chunk.title == record.title
        assert chunk.text.startswith(record.title + "\n") or chunk.text == record.title
        if chunk.heading and chunk.kind != "quick_reference":
            assert chunk.text.split("\n")[1] == chunk.heading
        assert chunk.meta == {"bank": BANK}


def test_no_code_fence_is_split_across_chunks(corpus: Corpus, ml_text_repaired: str) -> None:
    odd = [c.id for c in corpus.chunks if _fence_lines(c.text) % 2]
    assert odd == []
    # Every code block of the source appears whole inside one chunk of its question.
    by_record: dict[str, list[str]] = {}
    for c in corpus.chunks:
        by_record.setdefault(c.record_id, []).append(_blank_whitespace_lines(c.text))
    for q, body in zip(corpus.questions, answer_bodies(ml_text_repaired), strict=True):
        for lang, code in fenced_blocks(body):
            fenced = _blank_whitespace_lines(f"```{lang}\n{code}\n```")
            assert sum(fenced in text for text in by_record[q.id]) == 1, (q.id, code[:60])


def test_every_question_has_a_title_chunk_and_its_insight_in_insight_chunks(corpus: Corpus) -> None:
    for q in corpus.questions:
        chunks = [c for c in corpus.chunks if c.record_id == q.id]
        title = [c for c in chunks if c.kind == "title"]
        assert [c.id for c in title] == [f"{q.id}#title"]
        assert title[0].text == f"{q.title}\n{', '.join(q.tags)}"
        insight = [c for c in chunks if c.kind == "insight"]
        assert insight, q.id
        assert all(c.doc_id == q.id and c.heading == "Interviewer's Insight" for c in insight)
        assert q.insight is not None
        first_line = q.insight.split("\n")[0]
        assert any(first_line in c.text for c in insight)
        assert not any(first_line in c.text for c in chunks if c.kind == "section")


def test_each_quick_reference_row_has_its_own_chunk(corpus: Corpus) -> None:
    rows = [c for c in corpus.chunks if c.kind == "quick_reference"]
    assert len(rows) == 100
    for row in corpus.quick_refs:
        (chunk,) = [c for c in rows if c.record_id == row.id]
        assert chunk.id == f"{row.id}#row"
        assert chunk.doc_id == (row.question_id or row.id)
        assert chunk.text == f"{row.title}\n{', '.join(row.topics)}"


def test_chunks_fit_the_model_window(corpus: Corpus, embedder: Embedder) -> None:
    tokenizer = embedder._model.tokenizer
    window = embedder._model.max_seq_length
    assert window == 256
    too_long = []
    for chunk in corpus.chunks:
        n = len(tokenizer(chunk.text)["input_ids"])
        if n > window and not _is_single_code_block(_body(chunk)):
            too_long.append((chunk.id, n))
    assert too_long == []


# -- generality: other banks of the site, plain markdown ---------------------------------


@pytest.mark.parametrize("name", EXTRA_BANKS)
def test_other_banks_parse_one_question_per_answer_block(extra_dir: Path, tmp_path: Path, name: str) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(extra_dir / name, content / name)
    text = (content / name).read_text(encoding="utf-8")
    blocks = sum(line.startswith("??? ") for line in text.split("\n"))

    corpus = ingest_dir(content)

    assert blocks > 50
    assert len(corpus.questions) == blocks
    escaped = [k + 1 for k, line in enumerate(text.split("\n")) if ESCAPED_FENCE.match(line)]
    assert [(w.line, "literal \\n escapes" in w.message) for w in corpus.warnings] == [(k, True) for k in escaped]
    for q in corpus.questions:
        assert q.title and q.title == q.title.strip(), q.id
        assert q.difficulty in {"Easy", "Medium", "Hard"}, q.id
        assert len(q.sections) >= 1, q.id
        assert q.id.startswith(Path(name).stem.lower() + "--")
    assert len({q.id for q in corpus.questions}) == blocks
    for chunk in corpus.chunks:
        assert chunk.text.startswith(chunk.title), chunk.id
        assert _fence_lines(chunk.text) % 2 == 0, chunk.id


ESCAPED_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\w*\\n")  # a block pasted as one escaped line: ```python\n    import …
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "'": "'", "\\": "\\"}


def _as_written(line: str) -> list[str]:
    """A source line as the lines it stands for: one pasted as an escaped
    string stands for several."""
    if ESCAPED_FENCE.match(line):
        return re.sub(r"\\([\\nt\"'])", lambda m: ESCAPES[m.group(1)], line).split("\n")
    return [line]


@pytest.mark.parametrize("name", EXTRA_BANKS)
def test_other_banks_lose_no_line_of_any_answer(extra_dir: Path, tmp_path: Path, name: str) -> None:
    """Every answer block of the page is a record, and every line of it is in
    that record's answer or insight, also where the page is malformed (Python.md
    has an answer whose code was pasted as one line of \\n escapes)."""
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(extra_dir / name, content / name)
    bodies = answer_bodies((content / name).read_text(encoding="utf-8"))

    corpus = ingest_dir(content)

    assert len(corpus.questions) == len(bodies)
    lost = []
    for question, body in zip(corpus.questions, bodies, strict=True):
        kept = question.answer_markdown + "\n" + (question.insight or "")
        for line in (piece.strip() for raw in body for piece in _as_written(raw)):
            if line and not line.startswith("!!! ") and line not in kept:
                lost.append((question.id, line))
    assert lost == []


def test_a_block_pasted_with_newline_escapes_reads_as_the_answer_it_was(extra_dir: Path, tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(extra_dir / "Python.md", content / "Python.md")

    corpus = ingest_dir(content)

    record = corpus.records["python--what-is-the-difference-between-deepcopy-and-shallow-copy-when-does-it-matter"]
    assert isinstance(record, Question)
    assert [b.language for b in record.code_blocks] == ["text", "python"]
    code = record.code_blocks[1].code
    assert code.startswith("import copy\nimport time\n") and 'print("=" * 80)' in code
    assert [s.heading for s in record.sections][1:] == [
        "Understanding Copy Semantics",
        "Copy Method Comparison",
        "Real Company Usage Patterns",
        "Performance Benchmarks (10K nested lists)",
    ]
    assert len(record.tables) == 3 and record.tables[0].header == ("Method", "Speed", "Use Case", "Notes")
    assert record.insight is not None and record.insight.startswith("**What they test:**")
    assert not any(ESCAPED_FENCE.match(line) for line in record.answer_markdown.split("\n"))


def _quick_reference_rows(text: str) -> dict[int, list[str]]:
    """The quick-reference table's rows by number, as cells, read straight from the page."""
    table = text[text.index("## Quick Reference") :]
    rows = [line for line in table.split("\n") if re.match(r"^\|\s*\d+\s*\|", line)]
    return {int(cells[0]): cells for cells in ([c.strip() for c in row.strip("|").split("|")] for row in rows)}


@pytest.mark.parametrize("name", EXTRA_BANKS)
def test_quick_reference_titles_are_plain_text_and_a_tag_gives_the_difficulty(
    extra_dir: Path, tmp_path: Path, name: str
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(extra_dir / name, content / name)
    rows = _quick_reference_rows((content / name).read_text(encoding="utf-8"))

    corpus = ingest_dir(content)

    by_number = {r.number: r for r in corpus.quick_refs}
    assert sorted(by_number) == sorted(rows)
    tagged = {n: m.group(1) for n, cells in rows.items() if (m := re.search(r"\[(EASY|MEDIUM|HARD)\]", cells[1]))}
    assert len(tagged) > 15  # the pages mark their hardest rows "**[HARD]** ..."
    for number, row in by_number.items():
        outside_code = re.sub(r"`[^`]*`", "", row.title)
        assert not re.search(r"\*\*|\[(EASY|MEDIUM|HARD)\]", outside_code), row.title
        assert row.title == row.title.strip() and row.title in rows[number][1], row.title
        if number in tagged:
            assert row.difficulty == tagged[number].capitalize(), row.title


@pytest.mark.parametrize(
    ("name", "number", "title", "difficulty"),
    [
        ("Python.md", 108, "Explain Coroutines vs Generators", "Hard"),
        ("NumPy.md", 103, "How to use `as_strided` for sliding windows?", "Hard"),
        ("Pandas.md", 119, "`groupby().transform()` internal mechanics vs `apply()`", "Hard"),
        ("Python.md", 12, "Explain `*args` and `**kwargs`", "Easy"),  # code spans stay as the bank wrote them
    ],
)
def test_quick_reference_title_examples(
    extra_dir: Path, tmp_path: Path, name: str, number: int, title: str, difficulty: str
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(extra_dir / name, content / name)
    (row,) = [r for r in ingest_dir(content).quick_refs if r.number == number]
    assert (row.title, row.difficulty) == (title, difficulty)


def test_a_difficulty_tag_wins_over_the_column_and_markup_leaves_titles(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "python.md").write_text(
        "# Python Interview Questions\n\n## Quick Reference\n\n"
        "| Sno | Question Title | Practice Links | Companies Asking | Difficulty | Topics |\n"
        "|-----|----------------|----------------|------------------|------------|--------|\n"
        "| 1 | **[HARD]** Explain Coroutines vs Generators | [Docs](https://python.org) | Google | Medium | Aio |\n"
        "| 2 | What is a *closure*? [Easy] | | Facebook | | Functions |\n"
        "| 3 | [Decorators](https://peps.python.org/pep-0318/) and <b>wraps</b> | | | Medium | |\n",
        encoding="utf-8",
    )

    corpus = ingest_dir(content)

    assert [(r.title, r.difficulty, r.companies) for r in corpus.quick_refs] == [
        ("Explain Coroutines vs Generators", "Hard", ("Google",)),
        ("What is a closure?", "Easy", ("Meta",)),
        ("Decorators and wraps", "Medium", ()),
    ]
    assert corpus.warnings == ()


def test_an_unclosed_fence_on_a_plain_page_is_closed_with_a_warning(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "git-notes.md").write_text(
        "# Git Notes\n\n## How do I undo a pushed commit?\n\nRevert it:\n\n```bash\ngit revert HEAD\n\n"
        "## What is a rebase?\n\nA rebase replays commits.\n",
        encoding="utf-8",
    )

    corpus = ingest_dir(content)

    assert [q.title for q in corpus.questions] == ["How do I undo a pushed commit?", "What is a rebase?"]
    assert [(c.language, c.code) for c in corpus.questions[0].code_blocks] == [("bash", "git revert HEAD")]
    (w,) = corpus.warnings
    assert (w.path, w.line) == ("content/git-notes.md", 7)
    assert w.message.startswith("unclosed code fence under heading 'How do I undo a pushed commit?'")


def test_plain_markdown_falls_back_to_heading_records(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "git-notes.md").write_text(
        "# Git Notes\n\n"
        "Things worth knowing.\n\n"
        "## What is a rebase?\n\n"
        "A rebase replays commits on top of another base.\n\n"
        "## How do I undo a pushed commit?\n\n"
        "Revert it:\n\n"
        "```bash\n"
        "git revert HEAD\n"
        "```\n",
        encoding="utf-8",
    )

    corpus = ingest_dir(content)

    assert corpus.warnings == ()
    assert corpus.quick_refs == ()
    assert [(q.id, q.title, q.bank) for q in corpus.questions] == [
        ("git-notes--what-is-a-rebase", "What is a rebase?", "Git Notes"),
        ("git-notes--how-do-i-undo-a-pushed-commit", "How do I undo a pushed commit?", "Git Notes"),
    ]
    first, second = corpus.questions
    assert first.answer_markdown == "A rebase replays commits on top of another base."
    assert (first.source.line, second.source.line) == (5, 9)
    assert [(c.language, c.code) for c in second.code_blocks] == [("bash", "git revert HEAD")]
    assert first.difficulty is None and first.companies == ()


def test_markdown_without_headings_becomes_one_record(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "scratch.md").write_text("Bagging trains models on bootstrap samples.\n", encoding="utf-8")

    corpus = ingest_dir(content)

    assert [(q.id, q.title) for q in corpus.questions] == [("scratch--scratch", "Scratch")]
    assert corpus.questions[0].answer_markdown == "Bagging trains models on bootstrap samples."


def test_readme_files_are_not_banks(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(ML_BANK, content / ML_BANK.name)
    (content / "README.md").write_text("# content\n\n## About\n\nNot a bank.\n", encoding="utf-8")

    corpus = ingest_dir(content)

    assert [b.bank_slug for b in corpus.banks] == [BANK]
    assert len(corpus.questions) == 49


def test_records_survive_a_json_round_trip(corpus: Corpus) -> None:
    for q in corpus.questions:
        assert Question.from_dict(json.loads(json.dumps(q.to_dict()))) == q
    for r in corpus.quick_refs:
        assert QuickRef.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_records_without_the_fields_that_have_defaults_still_load(corpus: Corpus) -> None:
    """An index written before the link fields existed lacks them; they take their defaults."""
    q = next(q for q in corpus.questions if q.quick_ref_ids and q.practice_url)
    old_q = {k: v for k, v in json.loads(json.dumps(q.to_dict())).items() if k not in ("quick_ref_ids", "practice_url")}
    assert Question.from_dict(old_q) == replace(q, quick_ref_ids=(), practice_url=None)
    r = next(r for r in corpus.quick_refs if r.question_id)
    old_r = {k: v for k, v in json.loads(json.dumps(r.to_dict())).items() if k != "question_id"}
    assert QuickRef.from_dict(old_r) == replace(r, question_id=None)


def _tiny_bank(title: str) -> str:
    return (
        f"# {title}\n\n### What is {title.split()[0]}? - Google Interview Question\n\n"
        "**Difficulty:** 🟢 Easy | **Tags:** `Basics` | **Asked by:** Google\n\n"
        '??? success "View Answer"\n\n    It is what it is.\n'
    )


def test_linked_folders_and_any_case_md_are_read_and_a_broken_link_is_said(tmp_path: Path) -> None:
    """A linked folder, "Upper.MD" and a link to nothing were passed over without a word (tester)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "numpy.md").write_text(_tiny_bank("NumPy Bank"), encoding="utf-8")
    content = tmp_path / "content"
    (content / "sub").mkdir(parents=True)
    (content / "ml.md").write_text(_tiny_bank("Ml Bank"), encoding="utf-8")
    (content / "sub" / "Upper.MD").write_text(_tiny_bank("Upper Bank"), encoding="utf-8")
    (content / "linked").symlink_to(elsewhere)
    (content / "sub" / "up").symlink_to("..")  # a loop: read once
    (content / "gone.md").symlink_to("nowhere.md")
    (content / "gone-folder").symlink_to(tmp_path / "no-such-folder")  # said too (review)
    (content / "ml-again.md").symlink_to("ml.md")  # one file, read once (review)

    corpus = ingest_dir(content)

    assert sorted(b.bank for b in corpus.banks) == ["Ml Bank", "NumPy Bank", "Upper Bank"]
    assert [s.path for b in corpus.banks for s in b.sources if b.bank == "Ml Bank"] == ["content/ml.md"]
    assert sorted(str(w) for w in corpus.warnings) == [
        f"{content / 'gone-folder'}: a link to nothing; skipped",
        f"{content / 'gone.md'}: a link to nothing; skipped",
    ]
