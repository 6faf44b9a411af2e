"""The bank's markdown as Slack mrkdwn, and Slack's message text back as plain text.

Slack's mrkdwn is not markdown: ``*bold*``, ``_italic_``, ``~strike~``,
``<url|text>`` links, no headers, no tables, and ``&``, ``<`` and ``>`` must be
sent as ``&amp;``, ``&lt;`` and ``&gt;`` everywhere, code included.  So headers
become bold lines, tables become bullet rows, relative links (``/q/...``) are
made absolute with the public URL, and ``$math$`` is written as Unicode text
(``formula.formula_text``), or shown as inline LaTeX where that fails.
"""

from __future__ import annotations

import re

from service.slack.formula import formula_text

_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})[ \t]*([\w+#.-]*)[ \t]*$")
_INLINE_CODE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)(?<!\\)\$(?![\d$])")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)[\s#]*$")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_STASHED = re.compile("\x00(\\d+)\x00")

_SLACK_MENTION = re.compile(r"<[@!][^>]*>")
_SLACK_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^>|]*)(?:\|([^>]*))?>")


def escape(text: str) -> str:
    """Slack's three control characters as entities (the only escaping Slack wants)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def absolute_url(url: str, base_url: str) -> str | None:
    """``url`` made absolute against the public URL; None for anchors and unsafe schemes."""
    if url.startswith(("https://", "http://", "mailto:")):
        return url
    if url.startswith("/") and not url.startswith("//"):
        return base_url.rstrip("/") + url
    return None


def link(url: str, label: str) -> str:
    """A Slack link; ``label`` is mrkdwn already (escaped), ``url`` a plain URL."""
    return f"<{escape(url).replace('|', '%7C')}|{label.replace('|', '/')}>"


def inline(text: str, base_url: str) -> str:
    """One line of markdown inline syntax as mrkdwn."""
    stash: list[str] = []

    def keep(value: str) -> str:
        stash.append(value)
        return f"\x00{len(stash) - 1}\x00"

    def code(value: str) -> str:
        return keep(f"`{escape(value.strip())}`") if value.strip() else ""

    def math(latex: str) -> str:
        text = formula_text(latex)
        return keep(escape(text)) if text is not None else code(latex)

    def markdown_link(m: re.Match[str]) -> str:
        label, url = m.group(1).strip() or m.group(2), absolute_url(m.group(2), base_url)
        return keep(link(url, inline(label, base_url))) if url else label

    text = _INLINE_CODE.sub(lambda m: code(m.group(2)), text)
    text = _MATH.sub(lambda m: math(m.group(1) or m.group(2)), text)
    text = _LINK.sub(markdown_link, text)
    text = _AUTOLINK.sub(lambda m: keep(link(m.group(1), escape(m.group(1)))), text)
    text = escape(text)
    text = _BOLD.sub(lambda m: f"\x01{m.group(2)}\x01", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _STRIKE.sub(r"~\1~", text).replace("\x01", "*")
    while _STASHED.search(text):
        text = _STASHED.sub(lambda m: stash[int(m.group(1))], text)
    return text


def code_block(code: str) -> str:
    return f"```\n{escape(code)}\n```"


def _cells(row: str) -> list[str]:
    """A table row's cells; a ``|`` inside ``$math$`` or `code` (|w|, a || b) divides no cells."""
    row = _INLINE_CODE.sub(lambda m: m.group(0).replace("|", "\x02"), row.strip())
    row = _MATH.sub(lambda m: m.group(0).replace("|", "\x02"), row)
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") else row
    return [c.strip().replace("\x02", "|") for c in row.split("|")]


def _table(header: list[str], rows: list[list[str]], base_url: str) -> list[str]:
    """A markdown table as bullet rows: narrow screens wrap a monospace table badly."""
    out = []
    for row in rows:
        first, rest = inline(re.sub(r"\*\*|__", "", row[0]), base_url) if row else "", row[1:]
        if len(header) == 2:
            detail = inline(rest[0], base_url) if rest else ""
        else:
            detail = "; ".join(
                f"{inline(h, base_url)}: {inline(c, base_url)}" for h, c in zip(header[1:], rest, strict=False) if c
            )
        out.append(f"• *{first}* — {detail}" if first and detail else f"• {first or detail}")
    return out


def _line(line: str, base_url: str) -> str:
    if _QUOTE.match(line):
        return "> " + _line(_QUOTE.sub("", line, count=1), base_url)
    if _RULE.match(line):
        return "──────────"
    header = _HEADER.match(line)
    if header:
        title = inline(re.sub(r"\*\*|__", "", header.group(1)), base_url)
        return f"*{title}*" if title else ""
    bullet = _BULLET.match(line)
    if bullet:
        depth = len(bullet.group(1).expandtabs(4)) // 2
        return "    " * min(depth // 2, 3) + ("◦ " if depth >= 2 else "• ") + inline(line[bullet.end() :], base_url)
    return inline(line, base_url)


def to_mrkdwn(markdown: str, base_url: str) -> str:
    """Block-level conversion: fences, tables, quotes, headers, lists, rules."""
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            indent, marker = fence.group(1), fence.group(2)
            body, i = [], i + 1
            while i < len(lines) and not (lines[i].strip().startswith(marker) and set(lines[i].strip()) == {marker[0]}):
                body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            out.append(code_block("\n".join(body)))
            i += 1
            continue
        if "|" in line and i + 1 < len(lines) and "|" in lines[i + 1] and _TABLE_SEP.match(lines[i + 1]):
            header, rows, i = _cells(line), [], i + 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_cells(lines[i]))
                i += 1
            out.extend(_table(header, rows, base_url))
            continue
        out.append(_line(line, base_url))
        i += 1
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_mrkdwn(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut between lines (a line longer
    than a piece is cut at a space); a code block that is cut is closed at the
    end of one piece and reopened in the next."""
    if limit < 40:
        raise ValueError(f"limit must be at least 40 characters, got {limit}")
    if len(text) <= limit:
        return [text] if text.strip() else []
    fence, reserve = "```", len("\n```")
    chunks: list[str] = []
    current: list[str] = []
    in_code = False

    def flush() -> None:
        nonlocal current
        if in_code and len(current) > 1 and current[-1] == fence:
            current.pop()  # a block that has only just opened moves whole to the next piece
            chunks.append("\n".join(current))
        else:
            chunks.append("\n".join(current) + ("\n" + fence if in_code else ""))
        current = [fence] if in_code else []

    for line in text.split("\n"):
        while True:
            room = limit - reserve - len("\n".join(current)) - (1 if current else 0)
            if len(line) <= room:
                current.append(line)
                in_code = in_code != (line.strip() == fence)
                break
            fresh = limit - reserve - (len(fence) + 1 if in_code else 0)
            if len(line) <= fresh or room < 20:
                flush()
                continue
            cut = line.rfind(" ", room // 2, room)
            cut = cut if cut > 0 else room
            current.append(line[:cut])
            line = line[cut:].lstrip(" ")
            flush()
    if current:
        chunks.append("\n".join(current))
    return [c for c in chunks if c.strip() and c.strip() != f"{fence}\n{fence}"]


def from_slack(text: str, bot_user_id: str | None = None) -> str:
    """A Slack message's text as the plain question: mentions dropped, links
    shown as their label, entities decoded."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    text = _SLACK_MENTION.sub(" ", text)
    text = _SLACK_CHANNEL.sub(r"#\1", text)
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()
