"""The readable text of an HTML page: what a reader of the article sees.

Stdlib ``html.parser`` only (the pages are read once, at ingest): scripts,
styles, navigation, headers, footers, asides, forms and hidden elements are
dropped; the text of block elements becomes paragraphs; when the page marks
its content (``<article>`` or ``<main>``) with enough text in it, only that
is kept.  Paragraphs of fewer than four words that are not headings (menu
entries, "Share", bylines) are dropped.  The result is cut to a bound at a
paragraph, else a sentence, else a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

# Elements whose whole content is not the article.
SKIPPED = frozenset(
    """script style noscript template svg canvas iframe object embed nav header footer aside form button select
    textarea dialog menu""".split()  # noqa: SIM905
)
SKIPPED_ROLES = frozenset(["navigation", "banner", "contentinfo", "complementary", "dialog", "menu", "search"])
BLOCKS = frozenset(
    """p div section article main h1 h2 h3 h4 h5 h6 li ul ol dl dt dd pre blockquote table tr td th caption
    figcaption br hr details summary""".split()  # noqa: SIM905
)
HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
CONTENT = frozenset(["article", "main"])
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())  # noqa: SIM905
MIN_WORDS = 4
MIN_CONTENT_CHARS = 400  # an <article> or <main> with less text than this is not the page's content


@dataclass(frozen=True, slots=True)
class Readable:
    title: str | None
    text: str  # paragraphs separated by blank lines


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping: list[str] = []  # open skipped elements, innermost last
        self.in_content = 0
        self.in_title = False
        self.in_heading = 0
        self.title_parts: list[str] = []
        self.og_title: str | None = None
        self.buffer: list[str] = []
        self.buffer_heading = False
        self.paragraphs: list[tuple[str, bool, bool]] = []  # text, is a heading, inside <article>/<main>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            found = dict(attrs)
            if found.get("property") == "og:title" and found.get("content"):
                self.og_title = found["content"]
            return
        if tag in VOID:
            if tag in ("br", "hr"):
                self._flush()
            return
        if self.skipping:
            self.skipping.append(tag)
            return
        found = dict(attrs)
        hidden = "hidden" in found or found.get("aria-hidden") == "true"
        if tag in SKIPPED or hidden or (found.get("role") or "") in SKIPPED_ROLES:
            self.skipping.append(tag)
            return
        if tag == "title":
            self.in_title = True
        if tag in BLOCKS:
            self._flush()
        if tag in HEADINGS:
            self.in_heading += 1
        if tag in CONTENT:
            self.in_content += 1

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag in self.skipping:  # close it and anything left open inside it
                del self.skipping[len(self.skipping) - 1 - self.skipping[::-1].index(tag) :]
            return
        if tag == "title":
            self.in_title = False
        if tag in BLOCKS:
            self._flush()
        if tag in HEADINGS and self.in_heading:
            self.in_heading -= 1
        if tag in CONTENT and self.in_content:
            self.in_content -= 1

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.in_title:
            self.title_parts.append(data)
            return
        if data.strip():
            self.buffer.append(data)
            self.buffer_heading = self.buffer_heading or bool(self.in_heading)

    def _flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        if text:
            self.paragraphs.append((text, self.buffer_heading, bool(self.in_content)))
        self.buffer, self.buffer_heading = [], False

    def result(self) -> Readable:
        self._flush()
        paragraphs = self.paragraphs
        kept = [(text, inside) for text, heading, inside in paragraphs if heading or len(text.split()) >= MIN_WORDS]
        content = [text for text, inside in kept if inside]
        chosen = content if sum(map(len, content)) >= MIN_CONTENT_CHARS else [text for text, _ in kept]
        title = " ".join("".join(self.title_parts).split()) or " ".join((self.og_title or "").split()) or None
        return Readable(title=title[:200] if title else None, text="\n\n".join(chosen))


def readable_text(html: str) -> Readable:
    """The page's title and readable text, paragraphs apart."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return collector.result()


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def excerpt(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters: at the last paragraph end
    that fits, else the last sentence end, else the last word."""
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    for cut in (head.rfind("\n\n"), max((m.start() for m in _SENTENCE_END.finditer(head)), default=-1)):
        if cut > limit // 2:
            return head[:cut].rstrip()
    return head[:limit].rsplit(None, 1)[0] if " " in head[:limit] else head[:limit]
