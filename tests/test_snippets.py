"""Snippets are remembered per chunk text: the same answer, and never another chunk's."""

from __future__ import annotations

from index.results import _snippet, body_of, cut_snippet, make_snippet
from index.search import Searcher
from ingest.models import Chunk
from service.snippet import _plain_snippet, plain_snippet, plain_text

TEXT = "Precision and recall\nFormulas\n| metric | formula |\n|---|---|\n| precision | $\\frac{TP}{TP + FP}$ |"


def _chunk(kind: str, heading: str | None) -> Chunk:
    title = "Precision and recall"
    return Chunk(id=f"r#{kind}", doc_id="r", record_id="r", kind=kind, title=title, heading=heading, text=TEXT)  # type: ignore[arg-type]


def test_chunks_with_the_same_text_but_another_shape_get_their_own_snippets() -> None:
    _snippet.cache_clear()
    _plain_snippet.cache_clear()
    section, row = _chunk("section", "Formulas"), _chunk("quick_reference", "Formulas")
    for _ in range(2):  # the second round is answered from the caches
        assert make_snippet(section).startswith("| metric | formula |")
        assert make_snippet(row).startswith("Formulas | metric")  # a row's text has no heading line to drop
        assert plain_snippet(section) == "metric · formula; precision · TP/(TP + FP);"
        assert plain_snippet(row) == "Formulas metric · formula; precision · TP/(TP + FP);"
        assert plain_snippet(section, limit=12) == "metric · …"
    assert _snippet.cache_info().hits == 2 and _plain_snippet.cache_info().hits == 3
    assert make_snippet(None) == plain_snippet(None) == ""


def test_a_repeated_search_reuses_the_snippets_it_wrote(searcher: Searcher) -> None:
    first = searcher.search("how does dropout prevent overfitting", k=10)
    plain = [plain_snippet(h.chunk) for h in first.hits]
    hits_before = (_snippet.cache_info().hits, _plain_snippet.cache_info().hits)
    again = searcher.search("how does dropout prevent overfitting", k=10)
    assert [h.snippet for h in again.hits] == [h.snippet for h in first.hits]
    assert [plain_snippet(h.chunk) for h in again.hits] == plain
    chunks = [h.chunk for h in again.hits if h.chunk is not None]
    assert len(chunks) == 10
    assert _snippet.cache_info().hits - hits_before[0] == 10
    assert _plain_snippet.cache_info().hits - hits_before[1] == 10
    for c in chunks:  # what the cache gave is what writing it afresh gives
        below = bool(c.heading) and c.kind != "quick_reference"
        assert plain_snippet(c) == cut_snippet(plain_text(body_of(c.text, below)))
