"""Ingest-and-build, and load-or-build: the two entry points the CLI and the
service share."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from index.build import BuildStats, build_artifact
from index.components.rerank import ChatCompleter
from index.embed import Embedder
from index.neighbours import read_neighbours
from index.search import Searcher
from index.store import (
    IndexArtifact,
    IndexLoadError,
    check_target,
    load_artifact,
    read_manifest,
    read_rows,
    save_artifact,
)
from ingest.enrich import Knowledge, RowEnricher
from ingest.models import ParseWarning, QuickRef
from ingest.pipeline import Corpus, ingest_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestReport:
    corpus: Corpus
    artifact: IndexArtifact
    stats: BuildStats
    path: Path


def ingest(
    content_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    dense_kind: str = "auto",
    progress: bool = False,
    knowledge: Knowledge | None = None,
    neighbours_dir: Path | None = None,
) -> IngestReport:
    """Parse ``content_dir`` and write a new index version at ``index_dir``.

    The previous index (if readable and built with the same model and an
    encoder giving the same vectors) serves as the embedding cache, so only
    changed chunks are embedded again; otherwise every chunk is.  The
    practice-link articles and generated overviews its rows carry are kept
    (``knowledge.reuse``, whatever model built it), and ``knowledge`` says
    whether to fetch or write new ones (``ingest.enrich``; by default nothing
    goes to the network).
    """
    check_target(index_dir)  # before any work: nothing but an index is replaced
    knowledge = knowledge or Knowledge()
    corpus = ingest_dir(content_dir)
    previous = None
    if (index_dir / "manifest.json").exists():
        try:
            previous = load_artifact(index_dir, expect_model=embedder.model_name, expect_encoder=embedder.describe())
        except IndexLoadError as exc:
            log.warning("previous index not reused: %s", exc)
    if previous is not None:
        corpus = replace(corpus, notices=(*corpus.notices, *_renamed_banks(previous, corpus)))
    cached: tuple[QuickRef, ...] = ()
    if knowledge.reuse:  # the rows of the previous index, even one another model built
        cached = previous.quick_refs if previous is not None else read_rows(index_dir)
    enricher = RowEnricher(knowledge.fetcher, knowledge.expander, cached, knowledge.refresh, progress=progress)
    artifact, stats = build_artifact(
        corpus,
        embedder,
        previous=previous,
        dense_kind=dense_kind,
        progress=progress,
        enricher=None if enricher.idle else enricher,
        neighbours=read_neighbours(neighbours_dir, {b.bank for b in corpus.banks}),
    )
    if previous is not None and previous.calibration is not None:
        # The weights were fitted for the model, not for one version of the content: keep them,
        # written into the new version before it goes live (load_artifact drops them again if
        # this build's model or precision differs).
        artifact = replace(artifact, calibration=previous.calibration)
    save_artifact(artifact, index_dir)
    return IngestReport(corpus=corpus, artifact=load_artifact(index_dir), stats=stats, path=index_dir)


def _renamed_banks(previous: IndexArtifact, corpus: Corpus) -> list[ParseWarning]:
    """A notice for each bank whose record ids change prefix from the index before: its seed
    (the file with the shortest name) is another file now, as when a newer page is saved
    under a shorter name, and what was saved under the old ids (links, votes, practice
    progress) no longer finds its records (tester: ids changed without a word of warning)."""
    before = {r.bank: r.bank_slug for r in previous.records.values()}
    notices = []
    for bank in corpus.banks:
        old = before.get(bank.bank)
        if old is not None and old != bank.bank_slug:
            notices.append(
                ParseWarning(
                    bank.path,
                    0,
                    f"“{bank.bank}” now gives its records ids that start {bank.bank_slug}-- (they started "
                    f"{old}--): this file has the shortest name among the bank's files; links, votes and "
                    "practice progress saved under the old ids no longer match. Keep the old ids by giving "
                    "the newer page a longer file name than the older page's",
                )
            )
    return notices


def load_or_build(
    index_dir: Path,
    content_dir: Path,
    embedder: Embedder,
    dense_kind: str = "auto",
    progress: bool = False,
    neighbours_dir: Path | None = None,
) -> IndexArtifact:
    """Load the index; build it from ``content_dir`` (and ``neighbours_dir``) first if there is none.

    An index that exists but is damaged or built for another model or
    encoder is an error (never silently rebuilt over, never served).
    """
    try:
        read_manifest(index_dir)
    except IndexLoadError:
        if (index_dir / "manifest.json").exists():
            raise
        log.info("no index at %s: building it from %s", index_dir, content_dir)
        return ingest(
            content_dir, index_dir, embedder, dense_kind=dense_kind, progress=progress, neighbours_dir=neighbours_dir
        ).artifact
    return load_artifact(
        index_dir,
        expect_model=embedder.model_name,
        expect_dimension=embedder.dimension,
        expect_encoder=embedder.describe(),
    )


def make_searcher(artifact: IndexArtifact, embedder: Embedder, llm: ChatCompleter | None = None) -> Searcher:
    return Searcher(artifact, embedder, llm=llm)
