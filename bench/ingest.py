"""Ingest benchmark: parse + chunk, embed, index build, save and load, size on disk.

The product's own stages are timed one by one: ``ingest_dir`` (parse and
chunk), ``build_artifact`` from nothing (embed every chunk, then FAISS + BM25),
``build_artifact`` again with the first build as its embedding cache (index
building alone: what a rebuild after an unchanged corpus costs), then
``save_artifact`` and ``load_artifact``.  Embedding time is the difference of
the two builds.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stats import dir_bytes, timed
from index.build import build_artifact
from index.embed import Embedder
from index.store import IndexArtifact, load_artifact, save_artifact
from ingest.pipeline import Corpus, ingest_dir


@dataclass(frozen=True, slots=True)
class IngestRun:
    name: str
    corpus: Corpus
    artifact: IndexArtifact
    index_dir: Path
    figures: dict[str, Any]


def combined_content(content_dir: Path, extra_dir: Path, into: Path) -> Path:
    """A content folder holding the shipped banks and the extra banks."""
    into.mkdir(parents=True, exist_ok=True)
    for folder in (content_dir, extra_dir):
        for path in sorted(folder.glob("*.md")):
            if path.name.lower() != "readme.md":
                (into / path.name).symlink_to(path.resolve())
    return into


def run_ingest(name: str, content_dir: Path, index_dir: Path, embedder: Embedder, shown: str = "") -> IngestRun:
    corpus, parse_ms = timed(lambda: ingest_dir(content_dir))
    (artifact, stats), full_ms = timed(lambda: build_artifact(corpus, embedder))
    (_, rebuild_stats), index_ms = timed(lambda: build_artifact(corpus, embedder, previous=artifact))
    assert rebuild_stats.embedded == 0, "the rebuild should have reused every embedding"
    version, save_ms = timed(lambda: save_artifact(artifact, index_dir))
    loaded, load_ms = timed(lambda: load_artifact(index_dir, expect_model=embedder.model_name))
    files = {p.name: p.stat().st_size for p in sorted(version.iterdir())}
    embed_ms = max(full_ms - index_ms, 0.0)
    figures = {
        "content": shown or str(content_dir),
        "banks": len(corpus.banks),
        "questions": len(corpus.questions),
        "quick_refs": len(corpus.quick_refs),
        "chunks": len(corpus.chunks),
        "embedded": stats.embedded,
        "dense_kind": artifact.manifest.dense_kind,
        "parse_chunk_s": round(parse_ms / 1000, 3),
        "embed_s": round(embed_ms / 1000, 3),
        "embed_chunks_per_s": round(stats.embedded / (embed_ms / 1000), 1) if embed_ms else None,
        "index_build_s": round(index_ms / 1000, 3),
        "save_s": round(save_ms / 1000, 3),
        "total_s": round((parse_ms + full_ms + save_ms) / 1000, 3),
        "load_s": round(load_ms / 1000, 3),
        "index_bytes": dir_bytes(version),
        "files_bytes": files,
    }
    return IngestRun(name=name, corpus=corpus, artifact=loaded, index_dir=index_dir, figures=figures)


def ingest_section(content_dir: Path, extra_dir: Path | None, work: Path, embedder: Embedder) -> dict[str, IngestRun]:
    """The shipped banks, and the shipped banks + ``extra_dir``'s when it is given."""
    runs = {"shipped": run_ingest("shipped", content_dir, work / "shipped" / "index", embedder)}
    if extra_dir is not None:
        tmp = Path(tempfile.mkdtemp(prefix="qbank-bench-content-", dir=work))
        try:
            combined = combined_content(content_dir, extra_dir, tmp / "content")
            shown = f"{content_dir} + {extra_dir}"
            runs["shipped+extra"] = run_ingest("shipped+extra", combined, work / "extra" / "index", embedder, shown)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return runs
