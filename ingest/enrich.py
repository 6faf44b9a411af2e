"""Knowledge for quick-reference rows that no full answer covers.

Such a row's whole text is its title and topic words, so a candidate who
describes the topic without naming it rarely finds it.  Its practice-link
page (``LinkFetcher``, only when the operator allows the network) adds text
to the row as chunks of their own that score for the row
(``Chunker.row_knowledge``), so the row still ranks as itself and its title
chunk stays.

The article is kept on the row in the index and reused from the previous
index (``RowEnricher(cached=previous.quick_refs)``): a later ingest, with or
without the network, fetches a page again only when asked to refresh.  A
failure leaves the row as it was (its earlier article kept, else its title
alone).  Rows linked to a full answer are left alone: that answer is their
text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest.chunker import Chunker
from ingest.fetch import LinkFetcher
from ingest.models import Article, Chunk, QuickRef
from ingest.pipeline import Corpus


@dataclass(frozen=True, slots=True)
class Knowledge:
    """What an ingest may do for the rows: fetch their practice links
    (``fetcher``), again even where the previous index has them
    (``refresh``), and keep what the previous index has (``reuse``; False
    builds the rows without it)."""

    fetcher: LinkFetcher | None = None
    refresh: bool = False
    reuse: bool = True


@dataclass(frozen=True, slots=True)
class EnrichmentReport:
    """What the step did, for ``qbank ingest`` to print."""

    rows: int  # rows no full answer covers
    with_link: int  # of them, with a practice link
    articles_fetched: int  # rows whose article was fetched now
    articles_reused: int  # rows whose article came from the previous index
    article_problems: tuple[tuple[str, str], ...]  # (url, why)
    chunks_added: int

    @property
    def articles(self) -> int:
        return self.articles_fetched + self.articles_reused


def problem_kinds(problems: Sequence[tuple[str, str]]) -> list[tuple[str, int]]:
    """Problems by kind ("HTTP 404", "timed out", "not HTML"), most frequent first."""
    kinds = Counter(why.split(" (", 1)[0].split(":", 1)[0] for _, why in problems)
    return kinds.most_common()


class RowEnricher:
    """Adds the articles of the rows no full answer covers to a linked corpus
    (``run``).  ``fetcher`` is what the operator allowed (None: nothing new
    is fetched); ``cached`` are the previous index's rows, whose articles are
    reused; ``refresh`` fetches again even what is cached."""

    def __init__(
        self,
        fetcher: LinkFetcher | None = None,
        cached: Sequence[QuickRef] = (),
        refresh: bool = False,
        chunker: Chunker | None = None,
        progress: bool = False,
    ) -> None:
        self.fetcher = fetcher
        self.refresh = refresh
        self.chunker = chunker or Chunker()
        self.progress = progress
        self.articles: dict[str, Article] = {r.article.url: r.article for r in cached if r.article is not None}

    @property
    def idle(self) -> bool:
        """Nothing to fetch or reuse: ``run`` would change nothing."""
        return self.fetcher is None and not self.articles

    def run(self, corpus: Corpus) -> tuple[Corpus, EnrichmentReport]:
        """The corpus with its uncovered rows enriched and their chunks added
        after each row's own chunk; ``corpus`` itself when nothing changed."""
        uncovered = [r for r in corpus.quick_refs if r.question_id is None]
        linked = [r for r in uncovered if r.practice_url]
        articles, fetched, article_problems = self._articles(linked)
        enriched: dict[str, QuickRef] = {}
        for row in uncovered:
            article = articles.get(row.practice_url or "")
            if article is not None:
                enriched[row.id] = replace(row, article=article)
        with_article = [r for r in enriched.values() if r.article is not None]
        chunks: list[Chunk] = []
        for chunk in corpus.chunks:
            chunks.append(chunk)
            if chunk.kind == "quick_reference" and chunk.record_id in enriched:
                chunks += self.chunker.row_knowledge(enriched[chunk.record_id])
        report = EnrichmentReport(
            rows=len(uncovered),
            with_link=len(linked),
            articles_fetched=sum(r.practice_url in fetched for r in with_article),
            articles_reused=sum(r.practice_url not in fetched for r in with_article),
            article_problems=article_problems,
            chunks_added=len(chunks) - len(corpus.chunks),
        )
        if not enriched:
            return corpus, report
        rows = tuple(enriched.get(r.id, r) for r in corpus.quick_refs)
        return replace(corpus, quick_refs=rows, chunks=tuple(chunks)), report

    def _articles(self, rows: Sequence[QuickRef]) -> tuple[dict[str, Article], set[str], tuple[tuple[str, str], ...]]:
        """By URL: the cached articles of ``rows``, and those fetched now
        (the missing ones, or all with ``refresh``); the URLs fetched now; the failures."""
        urls = list(dict.fromkeys(r.practice_url for r in rows if r.practice_url))
        found = {u: self.articles[u] for u in urls if u in self.articles}
        if self.fetcher is None:
            return found, set(), ()
        wanted = [u for u in urls if self.refresh or u not in found]
        outcomes = self.fetcher.fetch_all(wanted, progress=self.progress) if wanted else {}
        fresh = {u: o.article for u, o in outcomes.items() if o.article is not None}
        problems = tuple((u, o.problem) for u, o in outcomes.items() if o.problem)
        return found | fresh, set(fresh), problems
