"""Malformed input: every problem is a warning naming the file and line, nothing
crashes, and the good entries of the same file (or folder) are kept.

The synthetic banks are built from real entries of content/machine-learning.md
(copied verbatim, then one of them corrupted)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import ml_entries

from index.build import build_artifact
from index.embed import Embedder
from ingest.encoding import repair_mojibake
from ingest.models import CodeBlock, ParseWarning, Question
from ingest.pipeline import Corpus, ingest_dir

L1L2 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"
DROPOUT = "machine-learning--what-is-dropout-and-why-does-it-work"
BIAS = "machine-learning--what-is-the-bias-variance-tradeoff-in-machine-learning"

HEADER = (
    "---\ntitle: Machine Learning Interview Questions\n---\n\n"
    "# Machine Learning Interview Questions\n\n## Premium Interview Questions\n\n"
)


@pytest.fixture(scope="module")
def entries(ml_text: str) -> dict[str, str]:
    """Three real entries, keyed by short name, each ending with its '---' separator."""
    by_heading = ml_entries(ml_text)

    def pick(prefix: str) -> str:
        (text,) = [t for h, t in by_heading.items() if h.startswith(prefix)]
        return text.rstrip("\n") + "\n\n"

    return {
        "bias": pick("### What is the Bias-Variance Tradeoff"),
        "l1l2": pick("### Explain L1 (Lasso) vs L2 (Ridge)"),
        "dropout": pick("### What is Dropout and Why Does It Work?"),
    }


def write_bank(folder: Path, text: str, name: str = "machine-learning.md") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based number of the first line at or after line ``start`` that starts with ``needle``."""
    lines = text.split("\n")
    return next(i for i in range(start, len(lines)) if lines[i].startswith(needle)) + 1


def only(warnings: tuple[ParseWarning, ...]) -> ParseWarning:
    assert len(warnings) == 1, [str(w) for w in warnings]
    return warnings[0]


def test_the_clean_synthetic_bank_parses_without_warnings(tmp_path: Path, entries: dict[str, str]) -> None:
    write_bank(tmp_path / "content", HEADER + entries["bias"] + entries["l1l2"] + entries["dropout"])
    corpus = ingest_dir(tmp_path / "content")
    assert corpus.warnings == ()
    assert [q.id for q in corpus.questions] == [BIAS, L1L2, DROPOUT]


def test_heading_without_answer_block_is_skipped_with_a_warning(
    tmp_path: Path, entries: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    broken = entries["dropout"].replace('??? success "View Answer"\n', "")
    text = HEADER + entries["bias"] + broken + entries["l1l2"]
    write_bank(tmp_path / "content", text)

    with caplog.at_level(logging.WARNING, logger="ingest"):
        corpus = ingest_dir(tmp_path / "content")

    w = only(corpus.warnings)
    heading = line_of(text, "### What is Dropout")
    assert (w.path, w.line) == ("content/machine-learning.md", heading)
    assert "no answer block" in w.message
    assert [q.id for q in corpus.questions] == [BIAS, L1L2]
    assert f"content/machine-learning.md:{heading}: no answer block" in caplog.text
    # The neighbours are complete, not truncated by the broken entry.
    l1l2 = corpus.records[L1L2]
    assert l1l2.insight is not None and "Can discuss tuning λ via cross-validation" in l1l2.insight


def _source_lines(entry: str) -> list[str]:
    """The non-blank lines of an entry's answer block, stripped: what must
    reach the record (the insight admonition's own line aside)."""
    body = entry[entry.index('??? success "View Answer"') :].split("\n")[1:]
    return [ln.strip() for ln in body if ln.strip() and ln.strip() != "---" and not ln.strip().startswith("!!! ")]


def _lost(question: Question, entry: str) -> list[str]:
    kept = question.answer_markdown + "\n" + (question.insight or "")
    return [ln for ln in _source_lines(repair_mojibake(entry)) if ln not in kept]


def test_unclosed_code_fence_in_an_answer_is_closed_at_its_end_and_the_answer_kept(
    tmp_path: Path, entries: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    l1l2 = entries["l1l2"]
    closing = '    print(f"Elastic Net Non-zero: {np.sum(elastic.coef_ != 0)}/20")\n    ```\n'
    assert closing in l1l2
    broken = l1l2.replace(closing, closing[: -len("    ```\n")])
    text = HEADER + entries["bias"] + broken + entries["dropout"]
    write_bank(tmp_path / "content", text)

    with caplog.at_level(logging.WARNING, logger="ingest"):
        corpus = ingest_dir(tmp_path / "content")

    w = only(corpus.warnings)
    fence = line_of(text, "    ```python", start=line_of(text, "### Explain L1"))
    assert (w.path, w.line) == ("content/machine-learning.md", fence)
    assert "unclosed code fence" in w.message and "kept" in w.message
    assert f"content/machine-learning.md:{fence}: unclosed code fence" in caplog.text
    assert [q.id for q in corpus.questions] == [BIAS, L1L2, DROPOUT]
    # Nothing of the broken answer is lost: what followed the open fence is the end of its code.
    l1l2_record = corpus.records[L1L2]
    assert isinstance(l1l2_record, Question)
    assert _lost(l1l2_record, broken) == []
    last = l1l2_record.code_blocks[-1]
    assert last.language == "python"
    assert "Elastic Net Non-zero" in last.code and "Can discuss tuning λ via cross-validation" in last.code
    assert l1l2_record.answer_markdown.endswith("```")  # the fence is closed where the answer ends
    # The neighbours are whole.
    dropout = corpus.records[DROPOUT]
    assert [b.language for b in dropout.code_blocks] == ["python"]
    assert dropout.insight is not None and dropout.insight.startswith("**What they're testing:**")
    assert _lost(corpus.records[BIAS], entries["bias"]) == []  # type: ignore[arg-type]


def test_unclosed_fence_in_the_last_entry_before_the_quick_reference(
    tmp_path: Path, entries: dict[str, str], ml_text: str
) -> None:
    table = ml_text[ml_text.index("## Quick Reference") :]
    broken = entries["dropout"].replace(
        "        predictions = model(test_data)\n    ```\n", "        predictions = model(test_data)\n"
    )
    assert broken != entries["dropout"]
    write_bank(tmp_path / "content", HEADER + entries["l1l2"] + broken + table)

    corpus = ingest_dir(tmp_path / "content")

    w = only(corpus.warnings)
    assert "unclosed code fence" in w.message
    assert [q.id for q in corpus.questions] == [L1L2, DROPOUT]
    dropout = corpus.records[DROPOUT]
    assert isinstance(dropout, Question)
    assert _lost(dropout, broken) == []
    assert len(corpus.quick_refs) == 100  # the table after the broken entry is intact


def _escaped(code_block: str) -> str:
    """A fenced block as a broken export writes it: one line, its newlines and
    quotes as backslash escapes."""
    lines = code_block.rstrip("\n").split("\n")
    escaped = [ln.replace("\\", "\\\\").replace('"', '\\"') for ln in lines]
    return escaped[0] + "\\n" + "\\n".join(escaped[1:]) + "\n"


@pytest.mark.parametrize("closed", [True, False], ids=["closed", "never-closed"])
def test_code_block_written_with_literal_newline_escapes_is_unescaped(
    tmp_path: Path, entries: dict[str, str], closed: bool
) -> None:
    dropout = entries["dropout"]
    start = dropout.index("    ```python\n")
    end = dropout.index("    ```\n", start + 1) + len("    ```\n")
    block = dropout[start:end] if closed else dropout[start : end - len("    ```\n")]
    original = ingest_code(tmp_path / "clean", HEADER + dropout)
    broken = dropout[:start] + _escaped(block) + dropout[end:]
    assert broken.count("\n") < dropout.count("\n") - 5 and "\\n" in broken
    text = HEADER + entries["bias"] + broken + entries["l1l2"]
    write_bank(tmp_path / "content", text)

    corpus = ingest_dir(tmp_path / "content")

    assert [q.id for q in corpus.questions] == [BIAS, DROPOUT, L1L2]
    line = line_of(text, "    ```python\\n")
    messages = [(w.line, w.message.split(" in answer")[0]) for w in corpus.warnings]
    expected = [(line, "code block written on one line with literal \\n escapes")]
    if not closed:
        expected.append((line, "unclosed code fence"))
    assert messages == expected
    record = corpus.records[DROPOUT]
    assert isinstance(record, Question)
    assert record.code_blocks[0].code.startswith(original[0].code)
    if closed:  # the block is the original one, byte for byte, and everything after it is prose again
        assert record.code_blocks == original
        assert record.insight is not None and record.insight.startswith("**What they're testing:**")


def ingest_code(folder: Path, text: str) -> tuple[CodeBlock, ...]:
    write_bank(folder, text)
    (question,) = ingest_dir(folder).questions
    return question.code_blocks


def test_missing_metadata_line_keeps_the_question_without_it(tmp_path: Path, entries: dict[str, str]) -> None:
    bias = entries["bias"]
    meta = next(ln for ln in bias.split("\n") if ln.startswith("**Difficulty:**"))
    text = HEADER + bias.replace(meta + "\n", "") + entries["l1l2"]
    write_bank(tmp_path / "content", text)

    corpus = ingest_dir(tmp_path / "content")

    w = only(corpus.warnings)
    assert (w.path, w.line) == ("content/machine-learning.md", line_of(text, "### What is the Bias-Variance"))
    assert "metadata" in w.message
    q = corpus.records[BIAS]
    assert q.title == "What is the Bias-Variance Tradeoff in Machine Learning?"
    assert q.difficulty is None
    assert q.tags == ()
    assert q.companies == ("Google", "Amazon")  # from the heading alone
    assert [b.language for b in q.code_blocks] == ["python"]
    assert corpus.records[L1L2].difficulty == "Medium"


def test_quick_reference_row_with_wrong_cell_count(tmp_path: Path, entries: dict[str, str], ml_text: str) -> None:
    table = ml_text[ml_text.index("## Quick Reference") : ml_text.index("## Questions asked in Google")]
    bad_row = next(ln for ln in table.split("\n") if ln.startswith("| 7 |"))
    text = HEADER + entries["l1l2"] + table.replace(bad_row, bad_row.rsplit("|", 2)[0] + "|")
    write_bank(tmp_path / "content", text)

    corpus = ingest_dir(tmp_path / "content")

    w = only(corpus.warnings)
    assert (w.path, w.line) == ("content/machine-learning.md", line_of(text, "| 7 |"))
    assert "cells" in w.message
    assert [r.number for r in corpus.quick_refs] == [n for n in range(1, 101) if n != 7]


def test_duplicate_titles_get_distinct_ids(tmp_path: Path, entries: dict[str, str]) -> None:
    write_bank(tmp_path / "content", HEADER + entries["l1l2"] + entries["l1l2"])
    corpus = ingest_dir(tmp_path / "content")
    assert [q.id for q in corpus.questions] == [L1L2, f"{L1L2}-2"]
    assert len({c.id for c in corpus.chunks}) == len(corpus.chunks)


@pytest.fixture
def folder_with_bad_files(tmp_path: Path, entries: dict[str, str]) -> tuple[Path, int]:
    content = tmp_path / "content"
    write_bank(content, HEADER + entries["bias"] + entries["l1l2"] + entries["dropout"], "good.md")
    write_bank(content, "", "empty.md")
    write_bank(content, "  \n\n\t\n", "blank.md")
    (content / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    # An otherwise valid UTF-8 bank with one stray Latin-1 byte.
    text = HEADER + entries["l1l2"]
    bad_line = line_of(text, "        - Mentions Elastic Net")
    raw = text.encode("utf-8").replace(b"Elastic Net as hybrid", b"Elastic Net (caf\xe9) as hybrid")
    (content / "latin1.md").write_bytes(raw)
    (content / "nested").mkdir()
    # Another title: a file with the same title would be a version of good.md's bank, merged into it.
    deep_header = HEADER.replace("Machine Learning Interview", "Deep Learning Interview")
    write_bank(content / "nested", deep_header + entries["dropout"].replace("Dropout", "Spatial Dropout"), "deep.md")
    return content, bad_line


def test_bad_files_are_skipped_and_the_folder_is_kept(
    folder_with_bad_files: tuple[Path, int], caplog: pytest.LogCaptureFixture
) -> None:
    content, bad_line = folder_with_bad_files

    with caplog.at_level(logging.WARNING, logger="ingest"):
        corpus = ingest_dir(content)

    problems = {Path(w.path).name: (w.line, w.message) for w in corpus.warnings}
    assert all(Path(w.path).parent == content for w in corpus.warnings)
    assert set(problems) == {"empty.md", "blank.md", "binary.md", "latin1.md"}
    assert problems["empty.md"][0] == 0 and "empty" in problems["empty.md"][1]
    assert problems["blank.md"][0] == 0 and "empty" in problems["blank.md"][1]
    assert problems["binary.md"][0] == 0 and "binary" in problems["binary.md"][1]
    assert problems["latin1.md"] == (bad_line, "not valid UTF-8 text; skipped")
    for w in corpus.warnings:
        assert str(w) in caplog.text

    # The good files, including one in a subfolder, are all there.
    assert [b.path for b in corpus.banks] == ["content/good.md", "content/nested/deep.md"]
    good = [q.id.split("--", 1)[1] for q in corpus.questions if q.bank_slug == "good"]
    assert good == [BIAS.split("--")[1], L1L2.split("--")[1], DROPOUT.split("--")[1]]
    assert [q.title for q in corpus.questions if q.bank_slug == "deep"] == [
        "What is Spatial Dropout and Why Does It Work?"
    ]


def test_a_folder_of_only_bad_files_is_an_error_at_build_time(tmp_path: Path, embedder: Embedder) -> None:
    content = tmp_path / "content"
    write_bank(content, "", "empty.md")
    (content / "binary.md").write_bytes(b"\x00\x01\x02")

    corpus = ingest_dir(content)

    assert corpus.questions == () and corpus.chunks == ()
    assert len(corpus.warnings) == 2
    with pytest.raises(ValueError, match="nothing to index"):
        build_artifact(corpus, embedder)


def test_missing_content_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        ingest_dir(tmp_path / "does-not-exist")


def test_two_files_with_the_same_bank_slug_and_title_are_one_bank(tmp_path: Path, entries: dict[str, str]) -> None:
    content = tmp_path / "content"
    write_bank(content, HEADER + entries["l1l2"], "ml.md")
    write_bank(content / "sub", HEADER + entries["dropout"], "ml.md")

    corpus: Corpus = ingest_dir(content)

    assert corpus.warnings == ()
    (bank,) = corpus.banks
    assert [s.path for s in bank.sources] == ["content/ml.md", "content/sub/ml.md"]
    assert [q.id for q in corpus.questions] == [
        "ml--explain-l1-lasso-vs-l2-ridge-regularization",
        "ml--what-is-dropout-and-why-does-it-work",
    ]


def test_two_files_with_the_same_bank_slug_and_other_titles(tmp_path: Path, entries: dict[str, str]) -> None:
    content = tmp_path / "content"
    write_bank(content, HEADER + entries["l1l2"], "ml.md")
    write_bank(content / "sub", HEADER.replace("Machine Learning", "Deep Learning") + entries["dropout"], "ml.md")

    corpus: Corpus = ingest_dir(content)

    w = only(corpus.warnings)
    assert w.path == "content/sub/ml.md"
    assert "already ingested" in w.message and "'Machine Learning Interview Questions'" in w.message
    assert [q.id for q in corpus.questions] == ["ml--explain-l1-lasso-vs-l2-ridge-regularization"]
