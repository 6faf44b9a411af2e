"""Small text helpers shared by the parser, chunker and index."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_len: int = 80) -> str:
    """Lowercase ASCII slug: 'What is PCA?' -> 'what-is-pca'.

    Truncated at a hyphen boundary to at most ``max_len`` characters so ids
    stay readable in URLs.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_ALNUM.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0]
    return slug or "untitled"


_COMPANY_SEP = re.compile(r",|\band\b|/|;")


# Names in brackets after a name: "HFT Firms (Citadel, Jane Street)", "Meta (Facebook, Instagram)".
_BRACKETED = re.compile(r"\(([^()]*)\)")


def split_companies(text: str) -> list[str]:
    """A list of names as the banks write it: 'Google, **Meta** and Uber/Lyft'
    -> ['Google', 'Meta', 'Uber', 'Lyft'] (bold markers and blanks dropped).  A name
    followed by a list of names in brackets is all of them: 'HFT Firms (Citadel, Jane
    Street)' -> ['HFT Firms', 'Citadel', 'Jane Street'] (it was split at the comma inside,
    into "HFT Firms (Citadel" and "Jane Street)"); one name in brackets stays as written."""
    text = _BRACKETED.sub(lambda m: f", {m.group(1)}" if _COMPANY_SEP.search(m.group(1)) else m.group(0), text)
    parts = _COMPANY_SEP.split(text)
    return [p.strip().strip("*").strip() for p in parts if p.strip().strip("*").strip()]


_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_IMAGE_OR_LINK = re.compile(r"!?\[(?P<label>[^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_STRONG = re.compile(r"(?<![\w*])(\*\*|__)(?=\S)(?P<text>.+?)(?<=\S)\1(?![\w*])")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=[^\s*_])(?P<text>[^*_]+?)(?<=[^\s*_])\1(?![\w*])")
_DIFFICULTY_TAG = re.compile(
    r"^\[(?P<a>easy|medium|hard)\]\s*(?:[:\-–—]\s+)?|(?:\s+[:\-–—])?\s*\[(?P<b>easy|medium|hard)\]$", re.I
)


def plain_title(text: str) -> str:
    """A title without inline markup: emphasis, links (their label kept),
    images (their alt text) and HTML tags removed, blanks collapsed.  Code
    spans are kept as written: the banks' own headings use them (`*args`,
    `__init__`), and they keep such names from reading as emphasis."""
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(text):
        out += [_without_markup(text[pos : m.start()]), m.group(0)]
        pos = m.end()
    out.append(_without_markup(text[pos:]))
    return " ".join("".join(out).split())


def _without_markup(text: str) -> str:
    text = _HTML_TAG.sub("", _IMAGE_OR_LINK.sub(r"\g<label>", text))
    for pattern in (_STRONG, _EMPHASIS):
        text = pattern.sub(r"\g<text>", text)
    return text


def title_difficulty(text: str) -> tuple[str, str | None]:
    """A title without inline markup, and the difficulty its tag gives:
    '**[HARD]** Explain Coroutines' -> ('Explain Coroutines', 'Hard'); a title
    without an [Easy]/[Medium]/[Hard] tag at either end gives None."""
    title = plain_title(text)
    m = _DIFFICULTY_TAG.search(title)
    if m is None:
        return title, None
    return (title[: m.start()] + title[m.end() :]).strip(), (m.group("a") or m.group("b")).capitalize()


def question_id(bank_slug: str, title: str) -> str:
    return f"{bank_slug}--{slugify(title)}"


def quick_ref_id(bank_slug: str, number: int | str) -> str:
    return f"{bank_slug}--qr-{number}"


_SUFFIXES = (
    ("izations", "iz"), ("ization", "iz"), ("isation", "iz"), ("ations", "at"), ("ation", "at"),
    ("ments", ""), ("ment", ""), ("ings", ""), ("ing", ""), ("ies", "y"), ("ions", ""), ("ion", ""),
    ("ed", ""), ("es", ""), ("e", ""), ("s", ""),
)  # fmt: skip


def stem(word: str) -> str:
    """A light, deterministic suffix stripper: 'handling'/'handle' -> 'handl',
    'evaluation'/'evaluate' -> 'evaluat', 'trees'/'tree' -> 'tre'."""
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) + len(repl) >= 3:
            return word[: -len(suffix)] + repl
    return word


_FENCED = re.compile(r"^([ \t]*)(`{3,}|~{3,})[ \t]*([\w+#.-]*)[ \t]*\n(.*?)\n[ \t]*\2[ \t]*$", re.M | re.S)


def without_code(markdown: str) -> str:
    """``markdown`` without its fenced code blocks: the prose, "" when there is none."""
    return re.sub(r"\n{3,}", "\n\n", _FENCED.sub("", markdown)).strip()
