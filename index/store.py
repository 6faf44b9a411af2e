"""The index on disk: a directory of plain files plus ``manifest.json``.

    manifest.json      model, dimension, counts, content hash, format version,
                       build time, and a sha256 of every other file
    records.json       questions and quick-reference rows
    chunks.json        chunks, with the hash of their embedded text
    embeddings.npy     one float32 row per chunk (the embedding cache)
    dense.faiss        the FAISS index
    bm25.npz, bm25_vocab.txt   the BM25 weight matrix and its vocabulary
    acronyms.json      acronym -> expansion, mined from the corpus
    sentences.json, sentence_embeddings.npy
                       the answers' sentence units (their chunk and text
                       hash) and one float32 row each (``index.sentences``)
    neighbours.json, neighbour_embeddings.npy
                       questions of neighbouring subjects (subject, question,
                       text hash) and one float32 row each (``index.neighbours``)

No pickle.  The sentence files came after format version 1 and are
optional in it: an index without them (built before) loads, and search
then decides abstention on chunk evidence alone with the floors fitted for
that (``CHUNK_ONLY_FLOORS``); when the manifest lists them they are checked
like every other file.  ``qbank ingest`` adds them, reusing every chunk
vector of the old index.  ``save`` writes a fresh versioned directory beside the target and
atomically repoints the target (a symlink) at it, so a crash never leaves a
half-written index and readers see either the old or the new one.  The
neighbours files are optional the same way: an index without them (none
given to ingest, or built before) answers as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.calibration import Calibration, load_calibration, save_calibration
from index.dense import DenseIndex
from index.neighbours import NEIGHBOUR_FILES, Neighbours
from index.sparse import SparseIndex
from ingest.models import Chunk, Question, QuickRef

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DATA_FILES = (
    "records.json",
    "chunks.json",
    "embeddings.npy",
    "dense.faiss",
    "bm25.npz",
    "bm25_vocab.txt",
    "acronyms.json",
)
SENTENCE_FILES = ("sentences.json", "sentence_embeddings.npy")  # optional in format 1 (see above)
KEEP_VERSIONS = 2


class IndexLoadError(RuntimeError):
    """The index on disk is missing, damaged or built for something else."""


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    counts: dict[str, int]
    content_hash: str
    built_at: str
    dense_kind: str
    files: dict[str, str]
    encoder: dict[str, str] = field(default_factory=dict)  # what embedded the chunks (backend, file hash)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "model": self.model,
            "dimension": self.dimension,
            "counts": self.counts,
            "content_hash": self.content_hash,
            "built_at": self.built_at,
            "dense_kind": self.dense_kind,
            "files": self.files,
            "encoder": self.encoder,
        }


@dataclass(frozen=True)
class SentenceUnits:
    """The answers' sentence units: for each, the position of the chunk it
    comes from, the hash of its text (the embedding cache key) and its vector."""

    chunks: np.ndarray  # int64, one chunk position per unit
    hashes: tuple[str, ...]
    embeddings: np.ndarray  # float32, (units, dimension), L2-normalised

    def __len__(self) -> int:
        return len(self.hashes)


@dataclass(frozen=True)
class IndexArtifact:
    """Everything the searcher needs, loaded into memory."""

    manifest: Manifest
    questions: tuple[Question, ...]
    quick_refs: tuple[QuickRef, ...]
    chunks: tuple[Chunk, ...]
    chunk_hashes: tuple[str, ...]
    embeddings: np.ndarray
    dense: DenseIndex
    sparse: SparseIndex
    acronyms: dict[str, str]
    path: Path | None = None
    calibration: Calibration | None = None  # calibration.json, when fitted for this index's model
    sentences: SentenceUnits | None = None  # None: an index built before sentence units
    neighbours: Neighbours | None = None  # None: none given to ingest, or an index built before them

    @property
    def records(self) -> dict[str, Question | QuickRef]:
        records: list[Question | QuickRef] = [*self.questions, *self.quick_refs]
        return {r.id: r for r in records}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def content_hash(chunk_hashes: list[str] | tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(chunk_hashes).encode()).hexdigest()


def save_artifact(artifact: IndexArtifact, target: Path) -> Path:
    """Write ``artifact`` as a new version and point ``target`` at it atomically
    (its calibration, when it carries one, inside the version before the switch)."""
    target = Path(target)
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    version_dir = target.parent / f".{target.name}-{stamp}"
    tmp_dir = target.parent / f".{target.name}-{stamp}.tmp"
    tmp_dir.mkdir()
    try:
        records = {
            "questions": [q.to_dict() for q in artifact.questions],
            "quick_refs": [r.to_dict() for r in artifact.quick_refs],
        }
        (tmp_dir / "records.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        chunks = [dict(c.to_dict(), text_hash=h) for c, h in zip(artifact.chunks, artifact.chunk_hashes, strict=True)]
        (tmp_dir / "chunks.json").write_text(json.dumps(chunks, ensure_ascii=False), encoding="utf-8")
        np.save(tmp_dir / "embeddings.npy", artifact.embeddings, allow_pickle=False)
        artifact.dense.save(tmp_dir)
        artifact.sparse.save(tmp_dir)
        (tmp_dir / "acronyms.json").write_text(json.dumps(artifact.acronyms, ensure_ascii=False), encoding="utf-8")
        names: tuple[str, ...] = DATA_FILES
        if artifact.sentences is not None:
            units = artifact.sentences
            rows = [[int(c), h] for c, h in zip(units.chunks, units.hashes, strict=True)]
            (tmp_dir / "sentences.json").write_text(json.dumps(rows), encoding="utf-8")
            np.save(tmp_dir / "sentence_embeddings.npy", units.embeddings, allow_pickle=False)
            names = (*DATA_FILES, *SENTENCE_FILES)
        if artifact.neighbours is not None:
            near = artifact.neighbours
            rows = [list(r) for r in zip(near.subjects, near.questions, near.hashes, strict=True)]
            (tmp_dir / "neighbours.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
            np.save(tmp_dir / "neighbour_embeddings.npy", near.embeddings, allow_pickle=False)
            names = (*names, *NEIGHBOUR_FILES)
        files = {name: file_sha256(tmp_dir / name) for name in names}
        manifest = Manifest(**{**artifact.manifest.to_dict(), "files": files})
        (tmp_dir / "manifest.json").write_text(json.dumps(manifest.to_dict(), indent=2), encoding="utf-8")
        if artifact.calibration is not None:
            save_calibration(artifact.calibration, tmp_dir)
        for name in (*names, "manifest.json"):
            with (tmp_dir / name).open("rb") as f:
                os.fsync(f.fileno())
        os.rename(tmp_dir, version_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    _point(target, version_dir)
    _prune(target)
    return version_dir


def check_target(target: Path) -> None:
    """Refuse to build an index at ``target`` when something else is there.  An index
    folder is a link to its current version; a plain folder holding an index (the older
    layout) is moved aside and kept as a version, an empty one is taken over.  Any other
    folder or file was moved aside, then deleted with the old versions two builds later:
    a notes folder given as ``--index`` by mistake was lost (tester)."""
    target = Path(target)
    if target.is_symlink() or not target.exists():
        return
    if not target.is_dir():
        raise ValueError(f"{target} is a file, not an index folder: nothing was changed; build the index elsewhere")
    if _holds_index(target):
        return
    entries = sorted(p.name for p in target.iterdir())
    if entries:
        named = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
        raise ValueError(
            f"{target} is not a qbank index and holds other files ({named}): nothing was changed; "
            "build the index in a new or empty folder"
        )


def _holds_index(folder: Path) -> bool:
    """``folder`` holds a qbank index: a manifest qbank wrote (a web app's manifest.json is none)."""
    try:
        read_manifest(folder)
    except (IndexLoadError, OSError):
        return False
    return True


def _point(target: Path, version_dir: Path) -> None:
    """Point ``target`` at ``version_dir``; ``save_artifact`` checked the target first (``check_target``)."""
    if target.is_dir() and not target.is_symlink():
        if _holds_index(target):
            # An index of the older layout (a plain folder): move it aside, keep it as a version.
            os.rename(target, target.parent / f".{target.name}-legacy-{int(time.time())}")
        else:
            target.rmdir()  # empty (check_target); a file written since is an error, never removed
    link_tmp = target.parent / f".{target.name}.link-{os.getpid()}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(version_dir.name, link_tmp)
    os.replace(link_tmp, target)


def _prune(target: Path) -> None:
    current = target.resolve()
    versions = sorted(
        (p for p in target.parent.glob(f".{target.name}-*") if p.is_dir() and not p.name.endswith(".tmp")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in [v for v in versions if v.resolve() != current][KEEP_VERSIONS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in target.parent.glob(f".{target.name}-*.tmp"):
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)


_MANIFEST_TYPES: dict[str, type] = {
    "format_version": int,
    "model": str,
    "dimension": int,
    "counts": dict,
    "content_hash": str,
    "built_at": str,
    "dense_kind": str,
    "files": dict,
    "encoder": dict,
}
_OPTIONAL_FIELDS = frozenset(["encoder"])


def manifest_problems(data: object) -> list[str]:
    """What is wrong with a manifest's fields and types (an empty list when nothing):
    checked before anything is loaded or swapped in."""
    if not isinstance(data, dict):
        return ["the manifest is not a JSON object"]
    problems = [f"{k!r} is missing" for k in _MANIFEST_TYPES if k not in data and k not in _OPTIONAL_FIELDS]
    problems += [f"unknown field {k!r}" for k in data if k not in _MANIFEST_TYPES]
    for key, kind in _MANIFEST_TYPES.items():
        value = data.get(key)
        if key in data and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            problems.append(f"{key!r} must be {kind.__name__}, got {type(value).__name__}")
    for key, inner in (("counts", int), ("files", str), ("encoder", str)):
        mapping = data.get(key)
        if isinstance(mapping, dict):
            bad = [k for k, v in mapping.items() if not isinstance(v, inner) or isinstance(v, bool)]
            problems += [f"{key}[{k!r}] must be {inner.__name__}" for k in bad]
    return problems


def read_manifest(path: Path) -> Manifest:
    manifest_path = Path(path) / "manifest.json"
    if not manifest_path.is_file():
        raise IndexLoadError(
            f"no index at {path} (manifest.json missing): run `qbank ingest --index {path}` to build it"
        )
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
        problems = manifest_problems(data)
        if problems:
            raise ValueError("; ".join(problems))
        return Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise IndexLoadError(
            f"{manifest_path} is unreadable ({exc}): rebuild with `qbank ingest --index {path}`"
        ) from exc


def _encoder_name(encoder: dict[str, str]) -> str:
    backend, precision = encoder.get("backend", "sentence-transformers"), encoder.get("precision", "fp32")
    sha = encoder.get("sha256")
    return f"{backend} {precision}" + (f" (model file {sha[:12]})" if sha and precision != "fp32" else "")


def encoder_mismatch(built: dict[str, str], running: dict[str, str]) -> str | None:
    """Why vectors of the encoder ``running`` would not match an index embedded
    by ``built`` (manifests' ``encoder`` fields; empty: from before the field,
    sentence-transformers fp32), or None when they match.  Every fp32 encoder
    of a model gives the same vectors (torch and ONNX: cosine >= 0.9999996);
    a quantized one matches only the same quantized file."""
    precision = (built.get("precision", "fp32"), running.get("precision", "fp32"))
    if precision[0] == precision[1] and (precision[0] == "fp32" or built.get("sha256") == running.get("sha256")):
        return None
    return f"was embedded by {_encoder_name(built)}, the encoder now is {_encoder_name(running)}"


def read_rows(path: Path) -> tuple[QuickRef, ...]:
    """The quick-reference rows of the index at ``path``, whatever model or
    encoder built it (their practice-link articles and generated overviews
    outlive a change of model); none when there is no readable index there."""
    path = Path(path)
    try:
        manifest = read_manifest(path)
        records = path / "records.json"
        if manifest.files.get("records.json") != file_sha256(records):
            return ()
        data = json.loads(records.read_text(encoding="utf-8"))
        return tuple(QuickRef.from_dict(d) for d in data["quick_refs"])
    except (IndexLoadError, OSError, ValueError, KeyError, TypeError):
        return ()


def load_artifact(
    path: Path,
    expect_model: str | None = None,
    expect_dimension: int | None = None,
    expect_encoder: dict[str, str] | None = None,
) -> IndexArtifact:
    """Load and verify an index directory.  Any mismatch is an ``IndexLoadError``
    that says what is wrong and how to rebuild.  ``expect_encoder`` (an
    ``Embedder.describe()``) refuses an index whose vectors another encoder made."""
    path = Path(path)
    rebuild = f"rebuild it with `qbank ingest --index {path}`"
    manifest = read_manifest(path)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexLoadError(
            f"index at {path} has format version {manifest.format_version}, "
            f"this qbank reads {FORMAT_VERSION}: {rebuild}"
        )
    if expect_model and manifest.model != expect_model:
        raise IndexLoadError(
            f"index at {path} was built with model {manifest.model!r}, not {expect_model!r}: {rebuild}"
        )
    if expect_encoder is not None and (why := encoder_mismatch(manifest.encoder, expect_encoder)):
        raise IndexLoadError(
            f"index at {path} {why} (QBANK_ENCODER): queries would not match its vectors; "
            f"{rebuild}, or set QBANK_ENCODER to the encoder that built it"
        )
    if expect_dimension and manifest.dimension != expect_dimension:
        raise IndexLoadError(
            f"index at {path} has dimension {manifest.dimension}, the model gives {expect_dimension}: {rebuild}"
        )
    listed = [name for name in SENTENCE_FILES if name in manifest.files]
    if listed and len(listed) != len(SENTENCE_FILES):
        raise IndexLoadError(f"index at {path} lists {listed[0]} without the other sentence file: {rebuild}")
    near_listed = [name for name in NEIGHBOUR_FILES if name in manifest.files]
    if near_listed and len(near_listed) != len(NEIGHBOUR_FILES):
        raise IndexLoadError(f"index at {path} lists {near_listed[0]} without the other neighbours file: {rebuild}")
    for name in (*DATA_FILES, *listed, *near_listed):
        f = path / name
        if not f.is_file():
            raise IndexLoadError(f"index file {f} is missing: {rebuild}")
        if manifest.files.get(name) != file_sha256(f):
            raise IndexLoadError(f"index file {f} is damaged (checksum mismatch): {rebuild}")
    try:
        records = json.loads((path / "records.json").read_text(encoding="utf-8"))
        questions = tuple(Question.from_dict(d) for d in records["questions"])
        quick_refs = tuple(QuickRef.from_dict(d) for d in records["quick_refs"])
        raw_chunks = json.loads((path / "chunks.json").read_text(encoding="utf-8"))
        hashes = tuple(c.pop("text_hash") for c in raw_chunks)
        chunks = tuple(Chunk.from_dict(c) for c in raw_chunks)
        embeddings = np.load(path / "embeddings.npy", allow_pickle=False)
        dense = DenseIndex.load(path)
        sparse_index = SparseIndex.load(path)
        acronyms = json.loads((path / "acronyms.json").read_text(encoding="utf-8"))
        sentences = _load_sentences(path, manifest.dimension, len(raw_chunks)) if listed else None
        neighbours = _load_neighbours(path, manifest.dimension) if near_listed else None
    except (ValueError, KeyError, TypeError, RuntimeError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise IndexLoadError(f"index at {path} cannot be read ({exc}): {rebuild}") from exc
    n = len(chunks)
    if not (embeddings.shape == (n, manifest.dimension) and dense.size == n and sparse_index.size == n):
        raise IndexLoadError(
            f"index at {path} is inconsistent: {n} chunks, embeddings {embeddings.shape}, "
            f"FAISS {dense.size}, BM25 {sparse_index.size}: {rebuild}"
        )
    return IndexArtifact(
        manifest=manifest,
        questions=questions,
        quick_refs=quick_refs,
        chunks=chunks,
        chunk_hashes=hashes,
        embeddings=embeddings,
        dense=dense,
        sparse=sparse_index,
        acronyms=acronyms,
        path=path.resolve(),
        calibration=load_calibration(path, manifest.model, manifest.encoder),
        sentences=sentences,
        neighbours=neighbours,
    )


def _load_neighbours(path: Path, dimension: int) -> Neighbours:
    rows = json.loads((path / "neighbours.json").read_text(encoding="utf-8"))
    if not isinstance(rows, list) or not all(
        isinstance(r, list) and len(r) == 3 and all(isinstance(x, str) for x in r) for r in rows
    ):
        raise ValueError("neighbours.json must be a list of [subject, question, text hash]")
    embeddings = np.load(path / "neighbour_embeddings.npy", allow_pickle=False)
    if embeddings.shape != (len(rows), dimension) or embeddings.dtype != np.float32:
        raise ValueError(
            f"neighbour_embeddings.npy is {embeddings.dtype} {embeddings.shape}, not ({len(rows)}, {dimension})"
        )
    return Neighbours(tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows), embeddings)


def _load_sentences(path: Path, dimension: int, n_chunks: int) -> SentenceUnits:
    rows = json.loads((path / "sentences.json").read_text(encoding="utf-8"))
    if not isinstance(rows, list) or not all(
        isinstance(r, list) and len(r) == 2 and type(r[0]) is int and isinstance(r[1], str) for r in rows
    ):
        raise ValueError("sentences.json must be a list of [chunk position, text hash]")
    chunks = np.asarray([r[0] for r in rows], dtype=np.int64)
    embeddings = np.load(path / "sentence_embeddings.npy", allow_pickle=False)
    if embeddings.shape != (len(rows), dimension) or embeddings.dtype != np.float32:
        raise ValueError(
            f"sentence_embeddings.npy is {embeddings.dtype} {embeddings.shape}, not ({len(rows)}, {dimension})"
        )
    if len(chunks) and (chunks.min() < 0 or chunks.max() >= n_chunks):
        raise ValueError("sentences.json names a chunk the index does not have")
    return SentenceUnits(chunks, tuple(r[1] for r in rows), embeddings)
