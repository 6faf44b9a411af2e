"""Neighbouring subjects (``index.neighbours``): questions of subjects no served
bank answers, read from a folder at ingest, embedded and kept with the index;
a question whose answer evidence is only middling and that is clearly closer
to one of them than to the banks is refused.  Measured in eval/README.md
("Neighbouring subjects")."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import MINI_BANK, NEIGHBOURS

from eval.tune import abstention_settings
from index.components import AbstentionConfig
from index.embed import Embedder
from index.engine import IngestReport, ingest
from index.neighbours import NEIGHBOUR_FILES, read_neighbours
from index.search import Searcher
from index.store import IndexArtifact, IndexLoadError, load_artifact
from qbank.answer.composer import AnswerComposer

# Not an eval item: a Python question the bank's words half-match (cosine 0.30, BM25 from "list").
PYTHON_QUESTION = "how do i flatten a nested list in python without numpy"
ML_QUESTION = "how do i choose the number of clusters"


def test_lists_and_banks_are_read_and_served_subjects_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "neighbours"
    folder.mkdir()
    (folder / "sql.txt").write_text(
        "# a comment\n\nSQL\tWhat is a window function?\nSQL\tWhat is a window function?\n"
        "no tab on this line\nSQL\t \nMachine Learning Interview Questions\tWhat is dropout?\n",
        encoding="utf-8",
    )
    (folder / "mini.md").write_text(MINI_BANK, encoding="utf-8")
    (folder / "README.md").write_text("# About this folder\n", encoding="utf-8")
    (folder / "notes.csv").write_text("SQL,ignored\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="index.neighbours"):
        pairs = read_neighbours(folder, served=["machine learning  interview QUESTIONS"])
    mini = [p for p in pairs if p[0] != "SQL"]
    assert ("SQL", "What is a window function?") in pairs and pairs.count(("SQL", "What is a window function?")) == 1
    assert mini and all(subject == mini[0][0] for subject, _ in mini)  # the bank's title is the subject
    assert all("dropout" not in question for _, question in pairs)  # its subject is a served bank
    skipped = [r.getMessage() for r in caplog.records]
    assert len(skipped) == 2 and "sql.txt:5" in skipped[0] and "sql.txt:6" in skipped[1]
    assert read_neighbours(tmp_path / "missing", served=[]) == [] and read_neighbours(None, served=[]) == []


def test_a_list_saved_with_a_byte_order_mark_or_an_upper_case_suffix_reads_the_same(tmp_path: Path) -> None:
    folder = tmp_path / "neighbours"
    folder.mkdir()
    (folder / "PY.TXT").write_bytes("\ufeffPython\tWhat is the GIL?\n# note\n".encode())
    assert read_neighbours(folder, served=[]) == [("Python", "What is the GIL?")]
    assert read_neighbours(folder, served=["python"]) == []  # the mark does not hide a served subject


def test_the_shipped_list_is_the_sites_other_banks() -> None:
    pairs = read_neighbours(NEIGHBOURS, served=["Machine Learning Interview Questions"])
    subjects = {s for s, _ in pairs}
    assert subjects == {"Python Interview Questions", "Pandas Interview Questions", "NumPy Interview Questions"}
    assert len(pairs) == 600
    # A deployment that serves the Pandas bank answers pandas questions: that subject is left out.
    assert {s for s, _ in read_neighbours(NEIGHBOURS, served=["Pandas Interview Questions"])} == subjects - {
        "Pandas Interview Questions"
    }


def test_the_index_keeps_them_and_a_rebuild_reuses_their_vectors(
    built: IngestReport, artifact: IndexArtifact, index_copy: Callable[[str], Path], embedder: Embedder
) -> None:
    near = artifact.neighbours
    assert near is not None and len(near) == 600 and near.embeddings.shape == (600, 384)
    assert np.allclose(np.linalg.norm(near.embeddings, axis=1), 1.0, atol=1e-4)
    assert artifact.manifest.counts["neighbours"] == 600
    assert all(name in artifact.manifest.files for name in NEIGHBOUR_FILES)
    index = index_copy("index")

    class Counting:
        """The session's encoder, counting the texts it is asked to embed."""

        def __init__(self) -> None:
            self.texts = 0

        def __getattr__(self, name: str) -> object:
            return getattr(embedder, name)

        def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
            self.texts += len(texts)
            return embedder.encode(texts, progress=progress)

    counting = Counting()
    again = ingest(Path(built.corpus.banks[0].path).parent, index, counting, neighbours_dir=NEIGHBOURS)  # type: ignore[arg-type]
    assert counting.texts == 0 and again.artifact.neighbours is not None
    assert np.array_equal(again.artifact.neighbours.embeddings, near.embeddings)
    without = ingest(Path(built.corpus.banks[0].path).parent, index, embedder)
    assert without.artifact.neighbours is None and "neighbours" not in without.artifact.manifest.counts


def test_a_damaged_or_half_listed_neighbours_file_is_refused(index_copy: Callable[[str], Path]) -> None:
    index = index_copy("index")
    (index / "neighbours.json").write_text(json.dumps([["s", "q"]]), encoding="utf-8")
    with pytest.raises(IndexLoadError, match="damaged"):
        load_artifact(index)
    # Rewritten with a matching checksum (a tool that "fixed" the manifest): the contents are checked too.
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["files"]["neighbours.json"] = hashlib.sha256((index / "neighbours.json").read_bytes()).hexdigest()
    (index / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match=r"\[subject, question, text hash\]"):
        load_artifact(index)
    rows = [["s", "q", "h"]]
    (index / "neighbours.json").write_text(json.dumps(rows), encoding="utf-8")
    manifest["files"]["neighbours.json"] = hashlib.sha256((index / "neighbours.json").read_bytes()).hexdigest()
    (index / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="neighbour_embeddings.npy is float32"):
        load_artifact(index)  # one row listed, 600 vectors stored
    index = index_copy("other")
    manifest = json.loads((index / "manifest.json").read_text())
    del manifest["files"]["neighbour_embeddings.npy"]
    (index / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="without the other neighbours file"):
        load_artifact(index)


def test_a_question_closer_to_a_neighbouring_subject_is_refused(
    searcher: Searcher, artifact: IndexArtifact, embedder: Embedder
) -> None:
    without = Searcher(replace(artifact, neighbours=None), embedder)
    analyzed = searcher.analyzer.run(PYTHON_QUESTION)
    cosines = searcher.dense.run(analyzed, use_cache=False)
    evidence = max(float(searcher.aggregate.run(cosines).scores.max()), searcher.abstention.best_sentence(cosines) or 0)
    neighbour = searcher.abstention.best_neighbour(cosines)
    cfg = searcher.abstention.config
    # The rule's reason, not a listed query: middling evidence, a neighbour clearly closer.
    assert cfg.dense_low <= evidence < cfg.dense_floor
    assert neighbour is not None and neighbour - evidence > cfg.neighbour_margin
    assert without.search(PYTHON_QUESTION).answerable and not searcher.search(PYTHON_QUESTION).answerable
    # Rankings are untouched; an ML question with a neighbour nearby still answers.
    assert [h.record.id for h in without.search(PYTHON_QUESTION).hits] == [
        h.record.id for h in searcher.search(PYTHON_QUESTION).hits
    ]
    assert searcher.search(ML_QUESTION).answerable
    assert without.abstention.best_neighbour(cosines) is None


def test_the_refusal_names_the_neighbouring_subject(searcher: Searcher, artifact: IndexArtifact) -> None:
    near = artifact.neighbours
    assert near is not None
    refused = searcher.search(PYTHON_QUESTION)
    assert refused.neighbour is not None and refused.neighbour in set(zip(near.subjects, near.questions, strict=True))
    # Refused for another reason (nothing near it at all), or answered: no neighbour named.
    assert searcher.search("zxqv blorft wibble").neighbour is None
    assert searcher.search(ML_QUESTION).neighbour is None
    answer = AnswerComposer(searcher).compose([("user", PYTHON_QUESTION)])
    assert answer.kind == "abstain" and answer.message is not None
    assert f"“{refused.neighbour[0]}”" in answer.message and "won't guess" in answer.message
    # Whichever rule refuses a question, a neighbouring subject clearly closer than the banks is named.
    gil = searcher.search("what is the GIL in python")
    assert not gil.answerable and gil.neighbour is not None and gil.neighbour[0] == "Python Interview Questions"


def test_a_weak_neighbour_is_not_named(searcher: Searcher) -> None:
    """ "how do i negotiate salary" sits nearer a NumPy question (0.29) than the banks (0.14): it is
    refused, but no NumPy question would answer it, so the refusal names no subject (second tester)."""
    salary = searcher.search("how do i negotiate salary")
    assert not salary.answerable and salary.neighbour is not None  # the resolver still reads it
    assert (salary.neighbour_cosine or 0.0) < searcher.abstention.config.dense_floor
    answer = AnswerComposer(searcher).compose([("user", "how do i negotiate salary")])
    assert answer.kind == "abstain" and answer.message is not None
    assert "reads like a question for" not in answer.message and "won't guess" in answer.message


def test_tune_keeps_the_margin_it_does_not_fit() -> None:
    start = AbstentionConfig(neighbour_margin=0.17)
    settings = list(abstention_settings(start=start))
    assert settings and {c.neighbour_margin for c in settings} == {0.17}


def test_the_rule_vetoes_only_between_the_cosine_floors() -> None:
    cfg = AbstentionConfig()
    strong, middling = cfg.dense_floor + 0.01, cfg.dense_floor - 0.05
    assert cfg.answers(strong, 0.0, -1.0, top_neighbour=0.99)  # a strong cosine answers whatever is near
    assert cfg.answers(middling, cfg.bm25_floor, -1.0, top_neighbour=middling + cfg.neighbour_margin - 0.01)
    assert not cfg.answers(middling, cfg.bm25_floor, -1.0, top_neighbour=middling + cfg.neighbour_margin + 0.01)
    assert cfg.answers(middling, cfg.bm25_floor, -1.0, top_neighbour=None)
    with pytest.raises(ValueError, match="neighbour_margin"):
        AbstentionConfig(neighbour_margin=-0.1)
