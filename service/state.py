"""The loaded, swappable service state.

``ServiceState`` holds the immutable ``Engine`` (index + searcher + composer).
A reload builds a complete new ``Engine`` and swaps one reference, so every
request sees either the old index or the new one, never a mix.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass
from pathlib import Path

from index.components.boost import BoostConfig
from index.dense import set_search_threads
from index.embed import Embedder
from index.engine import load_or_build
from index.search import Searcher
from index.store import IndexArtifact, load_artifact
from qbank.answer import AnswerComposer
from qbank.answer.generate import AnswerWriter
from qbank.answer.llm import LLMClient
from qbank.settings import Settings, settings_embedder
from service import preload
from service.boost import FeedbackBoost
from service.feedback import FeedbackStore
from service.gaps import GapClusterer
from service.insights import InsightsReport
from service.learner import KEY_NAME
from service.metrics import Metrics
from service.querylog import QueryLog
from service.store import Store
from service.store.practice import PracticeStore

log = logging.getLogger(__name__)
RERANK_TIMEOUT_S = 4.0


def settle_heap() -> None:
    """Take what is loaded (the model, the index: ~0.5M objects) out of the
    cyclic GC's reach.  Otherwise every full collection walks all of it, about
    180 ms on a 2-core machine, stalling each request in flight: the p99 spikes
    in BENCHMARKS.md.  Frozen objects are still freed by reference counting."""
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class Engine:
    artifact: IndexArtifact
    searcher: Searcher
    composer: AnswerComposer


class ServiceState:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.embedder = embedder or settings_embedder(settings)
        self.store = Store(settings.store_url, legacy_feedback=settings.feedback_file)
        self.feedback = FeedbackStore(self.store)
        self.boost = (
            FeedbackBoost(
                self.feedback, self.embedder, settings.feedback_boost_refresh_s, settings.feedback_boost_voters
            )
            if settings.feedback_boost
            else None
        )
        self.practice = PracticeStore(self.store)
        self.query_log = QueryLog(self.store, settings.query_log, settings.query_log_days)
        self.insights = InsightsReport(self.query_log.rows, self.feedback, GapClusterer(self.embedder))
        self.learner_key: bytes | None = None  # signs learner ids; set once the store is open
        self.engine: Engine | None = None
        self.error: str | None = None
        self.writer = AnswerWriter(LLMClient.from_settings(settings))
        # Ordering results is worth a few seconds at most: past that the fused order is shown.
        self.rerank_llm = LLMClient.from_settings(settings, max_timeout_s=RERANK_TIMEOUT_S)
        self._reload_lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return self.engine is not None

    def _make_engine(self, artifact: IndexArtifact) -> Engine:
        searcher = Searcher(
            artifact,
            self.embedder,
            llm=self.rerank_llm,
            llm_rerank=self.settings.llm_rerank and self.rerank_llm is not None,
            votes=self.boost.book if self.boost else None,
            boost=BoostConfig(
                self.settings.feedback_boost_min_learners,
                self.settings.feedback_boost_cap,
                self.settings.feedback_boost_neighbourhood,
            ),
        )
        return Engine(artifact=artifact, searcher=searcher, composer=AnswerComposer(searcher))

    def _publish(self, engine: Engine) -> None:
        """Swap ``engine`` in, its figures first: nothing that can fail comes after the swap."""
        m = engine.artifact.manifest
        self.metrics.index_chunks.set(m.counts.get("chunks", 0))
        self.metrics.index_records.set(m.counts.get("questions", 0) + m.counts.get("quick_refs", 0))
        self.metrics.model.info({"model": m.model, "dimension": str(m.dimension), "built_at": m.built_at})
        self.engine = engine
        self.error = None
        self.metrics.ready.set(1)

    def load(self) -> None:
        """Open the store, load the model and the index (building it first if there is none)."""
        self.store.open()
        key = self.settings.secret_key
        self.learner_key = (key.get_secret_value() if key else self.practice.secret(KEY_NAME)).encode()
        log.info("store ready: %s", self.store.describe())
        self.query_log.start()
        preload.wait(self.embedder)  # qbank serve may have started loading it during the app's import
        self.embedder.load()
        set_search_threads(self.settings.query_threads)
        if self.boost is not None:
            self.boost.start()
        artifact = load_or_build(
            Path(self.settings.index_dir),
            Path(self.settings.content_dir),
            self.embedder,
            self.settings.dense_index,
            neighbours_dir=Path(self.settings.neighbours_dir),
        )
        engine = self._make_engine(artifact)
        # First-query costs paid before /readyz says yes; a pipeline without the LLM rerank, so a slow
        # or failing LLM never holds readiness up.
        engine.searcher.search("warm up", k=1, mode="hybrid-rrf")
        self.embedder.clear_cache()
        settle_heap()
        self._publish(engine)
        log.info("index ready: %s", artifact.manifest.counts)

    async def reload(self) -> dict[str, object]:
        """Load the index currently at ``index_dir`` and swap it in atomically.

        A bad index is refused and the old one keeps serving."""
        async with self._reload_lock:
            try:
                artifact = await asyncio.to_thread(
                    load_artifact,
                    Path(self.settings.index_dir),
                    self.embedder.model_name,
                    self.embedder.dimension,
                    self.embedder.describe(),
                )
                engine = await asyncio.to_thread(self._make_engine, artifact)
            except Exception:
                self.metrics.reloads.labels("failed").inc()
                raise
            self.embedder.clear_cache()
            settle_heap()
            self._publish(engine)
            self.metrics.reloads.labels("ok").inc()
            return {"reloaded": True, "counts": artifact.manifest.counts, "built_at": artifact.manifest.built_at}

    def close(self) -> None:
        if self.boost is not None:
            self.boost.close()
        self.embedder.close()
        self.query_log.close()
        self.store.close()
