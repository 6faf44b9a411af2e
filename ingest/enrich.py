"""Knowledge for quick-reference rows that no full answer covers.

Such a row's whole text is its title and topic words, so a candidate who
describes the topic without naming it rarely finds it.  Two optional sources
add text to the row, each as chunks of their own that score for the row
(``Chunker.row_knowledge``), so the row still ranks as itself and its title
chunk stays:

- its practice-link page (``LinkFetcher``), only when the operator allows
  the network;
- a short overview an LLM writes (``RowExpander``), only when one is
  configured and the operator asks; marked as generated.

Both are kept on the row in the index and reused from the previous index
(``RowEnricher(cached=previous.quick_refs)``): a later ingest, with or
without the network, takes a page again only when asked to refresh, and an
overview only when none was written for that row title, model and prompt
version.  A failure leaves the row as it was (its earlier knowledge kept,
else its title alone).  Rows linked to a full answer are left alone: that
answer is their text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest.chunker import Chunker
from ingest.expand import PROMPT_VERSION, RowExpander
from ingest.fetch import LinkFetcher
from ingest.models import Article, Chunk, Expansion, QuickRef
from ingest.pipeline import Corpus


@dataclass(frozen=True, slots=True)
class Knowledge:
    """What an ingest may do for the rows: fetch their practice links
    (``fetcher``), have an LLM write overviews (``expander``), do either again
    even where the previous index has it (``refresh``), and keep what the
    previous index has (``reuse``; False builds the rows without it)."""

    fetcher: LinkFetcher | None = None
    expander: RowExpander | None = None
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
    expansions_written: int
    expansions_reused: int
    expansion_problems: tuple[tuple[str, str], ...]  # (row title, why)
    article_chunks: int
    expansion_chunks: int

    @property
    def articles(self) -> int:
        return self.articles_fetched + self.articles_reused

    @property
    def expansions(self) -> int:
        return self.expansions_written + self.expansions_reused


def problem_kinds(problems: Sequence[tuple[str, str]]) -> list[tuple[str, int]]:
    """Problems by kind ("HTTP 404", "timed out", "not HTML"), most frequent first."""
    kinds = Counter(why.split(" (", 1)[0].split(":", 1)[0] for _, why in problems)
    return kinds.most_common()


class RowEnricher:
    """Adds the articles and expansions of the rows no full answer covers to a
    linked corpus (``run``).  ``fetcher`` and ``expander`` are what the
    operator allowed (None: nothing new is fetched or written); ``cached`` are
    the previous index's rows, whose knowledge is reused; ``refresh`` fetches
    and writes again even what is cached."""

    def __init__(
        self,
        fetcher: LinkFetcher | None = None,
        expander: RowExpander | None = None,
        cached: Sequence[QuickRef] = (),
        refresh: bool = False,
        chunker: Chunker | None = None,
        progress: bool = False,
    ) -> None:
        self.fetcher = fetcher
        self.expander = expander
        self.refresh = refresh
        self.chunker = chunker or Chunker()
        self.progress = progress
        self.articles: dict[str, Article] = {r.article.url: r.article for r in cached if r.article is not None}
        self.expansions: dict[str, Expansion] = {r.expansion.title: r.expansion for r in cached if r.expansion}

    @property
    def idle(self) -> bool:
        """Nothing to fetch, write or reuse: ``run`` would change nothing."""
        return self.fetcher is None and self.expander is None and not self.articles and not self.expansions

    def run(self, corpus: Corpus) -> tuple[Corpus, EnrichmentReport]:
        """The corpus with its uncovered rows enriched and their chunks added
        after each row's own chunk; ``corpus`` itself when nothing changed."""
        uncovered = [r for r in corpus.quick_refs if r.question_id is None]
        linked = [r for r in uncovered if r.practice_url]
        articles, fetched, article_problems = self._articles(linked)
        expansions, written, expansion_problems = self._expansions(uncovered)
        enriched: dict[str, QuickRef] = {}
        for row in uncovered:
            article = articles.get(row.practice_url or "")
            expansion = expansions.get(row.id)
            if article is not None or expansion is not None:
                enriched[row.id] = replace(row, article=article, expansion=expansion)
        with_article = [r for r in enriched.values() if r.article is not None]
        with_expansion = [r for r in enriched.values() if r.expansion is not None]
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
            expansions_written=sum(r.id in written for r in with_expansion),
            expansions_reused=sum(r.id not in written for r in with_expansion),
            expansion_problems=expansion_problems,
            article_chunks=sum(c.kind == "article" for c in chunks),
            expansion_chunks=sum(c.kind == "expansion" for c in chunks),
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

    def _expansions(
        self, rows: Sequence[QuickRef]
    ) -> tuple[dict[str, Expansion], set[str], tuple[tuple[str, str], ...]]:
        """By row id: the cached expansions of ``rows`` (asked to expand: those
        written by this model with this prompt), and those written now; the
        rows written now; the failures."""
        found = {r.id: self.expansions[r.title] for r in rows if r.title in self.expansions}
        if self.expander is None:
            return found, set(), ()
        model = self.expander.model

        def current(e: Expansion) -> bool:
            return e.generated_by == model and e.prompt_version == PROMPT_VERSION

        wanted = [r for r in rows if self.refresh or r.id not in found or not current(found[r.id])]
        outcomes = self.expander.expand_all(wanted, progress=self.progress) if wanted else {}
        fresh = {rid: o.expansion for rid, o in outcomes.items() if o.expansion is not None}
        titles = {r.id: r.title for r in rows}
        problems = tuple((titles[rid], o.problem) for rid, o in outcomes.items() if o.problem)
        return found | fresh, set(fresh), problems
