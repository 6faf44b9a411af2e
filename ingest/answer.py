"""Parse one answer body (already dedented markdown) into its parts.

An answer is split into sections at its ``**Bold header:**`` lines (and
``####``-style headings); code fences are kept whole and byte-identical;
tables, ``$$`` formulas and the nested ``!!! tip "Interviewer's Insight"``
admonition are pulled out as their own fields.  A fence left open is closed
at the end of the answer (``ParsedAnswer.repairs`` says where), so a
malformed answer is kept whole.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from ingest.models import CodeBlock, Section, Table

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
BOLD_HEADER = re.compile(r"^\*\*(?P<text>[^*]+?)\*\*:?\s*$")
MD_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*\s*$")
NESTED_ADMONITION = re.compile(r'^(?:!!!|\?\?\?\+?)\s+(?P<type>[\w-]+)(?:\s+"(?P<title>[^"]*)")?\s*$')
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?!\s)([^$\n]{1,200}?)(?<!\s)\$(?![\w$])")


@dataclass(frozen=True, slots=True)
class Repair:
    """Something malformed in the body, at ``line`` (0-based, a line of the
    body as given), and how parsing mended it."""

    line: int
    problem: str
    fix: str


@dataclass(frozen=True, slots=True)
class ParsedAnswer:
    markdown: str
    sections: tuple[Section, ...]
    code_blocks: tuple[CodeBlock, ...]
    tables: tuple[Table, ...]
    formulas: tuple[str, ...]
    insight: str | None
    repairs: tuple[Repair, ...] = ()


def _is_insight(title: str | None, kind: str) -> bool:
    return bool(title and "insight" in title.lower()) or (kind == "tip" and not title)


def _split_insight(lines: list[str]) -> tuple[list[str], list[int], str | None]:
    """Remove a nested insight admonition (outside code): the lines kept, the
    index in ``lines`` of each, and the insight's text."""
    kept: list[str] = []
    origin: list[int] = []
    insight_parts: list[str] = []
    in_fence: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence and (in_fence is None or fence.group("fence").startswith(in_fence)):
            in_fence = None if in_fence else fence.group("fence")[0] * 3
        m = NESTED_ADMONITION.match(line) if in_fence is None else None
        if m and _is_insight(m.group("title"), m.group("type")):
            body: list[str] = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
                body.append(lines[i])
                i += 1
            insight_parts.append(textwrap.dedent("\n".join(body)).strip())
            continue
        kept.append(line)
        origin.append(i)
        i += 1
    insight = "\n\n".join(p for p in insight_parts if p) or None
    return kept, origin, insight


def _code_blocks(lines: list[str]) -> tuple[list[tuple[int, int, CodeBlock]], int | None]:
    """Find fenced code blocks: (start, end, block); also an unclosed fence's line."""
    blocks: list[tuple[int, int, CodeBlock]] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = len(m.group("indent")), m.group("fence")
        language = m.group("info").strip().split(" ")[0] if m.group("info").strip() else ""
        j = i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if close and close.group("fence").startswith(fence) and not close.group("info").strip():
                break
            j += 1
        if j >= len(lines):
            return blocks, i
        code = "\n".join(_strip_indent(line, indent) for line in lines[i + 1 : j])
        blocks.append((i, j, CodeBlock(language=language or "text", code=code)))
        i = j + 1
    return blocks, None


def _strip_indent(line: str, width: int) -> str:
    """Remove at most ``width`` leading blanks (the fence's own indentation)."""
    i = 0
    while i < width and i < len(line) and line[i] in " \t":
        i += 1
    return line[i:]


def _tables(lines: list[str], in_code: set[int]) -> list[Table]:
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        if i in in_code or not lines[i].lstrip().startswith("|"):
            i += 1
            continue
        j = i
        while j < len(lines) and j not in in_code and lines[j].lstrip().startswith("|"):
            j += 1
        block = [ln.strip() for ln in lines[i:j]]
        if len(block) >= 2 and re.match(r"^\|?[\s:|-]+\|?$", block[1]):
            header = tuple(_cells(block[0]))
            rows = tuple(tuple(_cells(r)) for r in block[2:])
            tables.append(Table(header=header, rows=rows, markdown="\n".join(block)))
        i = j
    return tables


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def parse_answer(body: str) -> ParsedAnswer:
    """Parse a dedented answer body.  A code fence left open is closed at the
    end of the body (nothing after it is lost: it becomes part of the code),
    and said in ``repairs``."""
    lines, origin, insight = _split_insight(body.split("\n"))
    repairs: list[Repair] = []
    blocks, unclosed = _code_blocks(lines)
    if unclosed is not None:
        m = FENCE.match(lines[unclosed])
        assert m is not None
        lines = [*lines, m.group("indent") + m.group("fence")]
        blocks, _ = _code_blocks(lines)
        repairs.append(Repair(origin[unclosed], "unclosed code fence", "closed it at the end of the answer"))
    in_code = {k for start, end, _ in blocks for k in range(start, end + 1)}
    block_at = {start: block for start, _, block in blocks}

    sections: list[Section] = []
    heading: str | None = None
    current: list[str] = []
    current_code: list[CodeBlock] = []

    def flush() -> None:
        text = "\n".join(current).strip()
        if text or current_code:
            sections.append(Section(heading=heading, markdown=text, code_blocks=tuple(current_code)))

    for idx, line in enumerate(lines):
        if idx in block_at:
            current_code.append(block_at[idx])
        if idx not in in_code:
            header = BOLD_HEADER.match(line.strip()) or MD_HEADING.match(line.strip())
            if header and not line.startswith((" ", "\t")):
                flush()
                heading = header.group("text").strip().rstrip(":").strip()
                current, current_code = [], []
                continue
        current.append(line)
    flush()

    prose = "\n".join(line for k, line in enumerate(lines) if k not in in_code)
    formulas = [f.strip() for f in DISPLAY_MATH.findall(prose)]
    formulas += [f.strip() for f in INLINE_MATH.findall(DISPLAY_MATH.sub(" ", prose))]
    return ParsedAnswer(
        markdown="\n".join(lines).strip(),
        sections=tuple(sections),
        code_blocks=tuple(block for _, _, block in blocks),
        tables=tuple(_tables(lines, in_code)),
        formulas=tuple(dict.fromkeys(formulas)),
        insight=insight,
        repairs=tuple(repairs),
    )
