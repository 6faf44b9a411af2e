"""Parse a question-bank markdown page into ``Question`` and ``QuickRef`` records.

The page format is the mkdocs-material one of the dsprep.com banks::

    ### <Title> - <Companies> Interview Question
    **Difficulty:** 🟡 Medium | **Tags:** `A`, `B` | **Asked by:** X, Y
    ??? success "View Answer"
        <indented answer markdown, with a nested !!! tip "Interviewer's Insight">

followed by a "Quick Reference" table and "Questions asked in X interview"
lists.  A page with none of that structure falls back to one record per
heading.  A malformed entry is skipped with a ``ParseWarning`` naming the file
and line; everything else in the file is kept.  A malformed answer that can be
mended is kept whole, with a warning: a code fence left open is closed at the
end of the answer, and a block written on one line with literal ``\n``
escapes is unescaped.  Company names go through ``ingest.companies`` (one
name per company).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ingest.answer import ParsedAnswer, parse_answer
from ingest.companies import canonical_companies, canonical_company
from ingest.models import ParsedBank, ParseWarning, Question, QuickRef, SourceRef
from ingest.textutil import plain_title, question_id, quick_ref_id, slugify, split_companies, title_difficulty

H2 = re.compile(r"^##\s+(?P<text>.+?)\s*$")
H3 = re.compile(r"^###\s+(?P<text>.+?)\s*$")
ANY_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
ADMONITION = re.compile(r'^(?:\?\?\?\+?|!!!)\s+(?P<type>[\w-]+)(?:\s+"(?P<title>[^"]*)")?\s*$')
TITLE_TAIL = re.compile(r"^(?P<title>.+?)\s+[-–—]\s+(?P<companies>[^-–—]+?)\s+Interview Questions?\s*$", re.I)
META_FIELD = re.compile(r"\*\*(?P<key>[^*]+?):?\*\*:?\s*(?P<value>[^|]*)")
DIFFICULTY = re.compile(r"\b(easy|medium|hard)\b", re.I)
BACKTICKED = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\[(?P<label>[^\]]*)\]\((?P<url>[^)\s]+)\)")
# A list item ("- Feature Engineering"): a marker and a space; "*Note:* …" is emphasis, "---" a rule
LIST_ITEM = re.compile(r"^[-*+]\s+(?P<text>\S.*)$")
THEMATIC_BREAK = re.compile(r"^(?:-[ \t]*){3,}$|^(?:\*[ \t]*){3,}$|^(?:_[ \t]*){3,}$")
COMPANY_LIST = re.compile(r"^Questions asked in (?P<company>.+?) interview$", re.I)
NUMBERED = re.compile(r"^\d+[.)]\s+")
FRONT_MATTER = re.compile(r"\A---\n(?P<body>.*?)\n---\n", re.DOTALL)
# A fence opened on a line that goes on with literal "\n" escapes: a block
# pasted as one escaped string ("```python\n    import copy\n    ...").
ESCAPED_BLOCK = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[\w+#.-]*\\n")
ESCAPE = re.compile(r"\\([\\nt\"'])")
_UNESCAPED = {"n": "\n", "t": "\t", '"': '"', "'": "'", "\\": "\\"}


def normalise_difficulty(text: str) -> str | None:
    m = DIFFICULTY.search(text)
    return m.group(1).capitalize() if m else None


@dataclass
class _Entry:
    heading: str
    line: int
    meta_lines: list[str] = field(default_factory=list)
    answer_line: int | None = None
    answer_lines: list[str] = field(default_factory=list)


def _question(
    qid: str,
    bank: str,
    bank_slug: str,
    title: str,
    answer: ParsedAnswer,
    source: SourceRef,
    difficulty: str | None = None,
    companies: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
) -> Question:
    return Question(
        id=qid,
        bank=bank,
        bank_slug=bank_slug,
        title=title,
        difficulty=difficulty,
        companies=companies,
        tags=tags,
        answer_markdown=answer.markdown,
        sections=answer.sections,
        code_blocks=answer.code_blocks,
        tables=answer.tables,
        formulas=answer.formulas,
        insight=answer.insight,
        source=source,
    )


def _closed_fences(lines: list[str]) -> set[int]:
    """The indexes of the lines inside code fences that close (fences included).
    A fence never closed is not one: the headings after it still count."""
    inside: set[int] = set()
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*(`{3,}|~{3,})", lines[i])
        if m:
            fence = m.group(1)
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(fence)), None)
            if end is not None:
                inside.update(range(i, end + 1))
                i = end
        i += 1
    return inside


def _unescape_blocks(lines: list[str]) -> tuple[list[str], list[int], list[int]]:
    """Expand each line that is a fenced block written as one escaped string
    into the lines it stands for.  Returns the lines, the index in ``lines``
    each came from, and the indexes of the lines expanded."""
    out: list[str] = []
    origin: list[int] = []
    expanded: list[int] = []
    for k, line in enumerate(lines):
        if ESCAPED_BLOCK.match(line):
            parts = ESCAPE.sub(lambda m: _UNESCAPED[m.group(1)], line).split("\n")
            out += parts
            origin += [k] * len(parts)
            expanded.append(k)
        else:
            out.append(line)
            origin.append(k)
    return out, origin, expanded


def _dedent_body(lines: list[str]) -> str:
    """Remove the admonition's indentation (the common prefix, at most 4 columns)."""
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip() and ln[:1] == " "]
    width = min([*indents, 4]) if indents else 0
    # Not textwrap.dedent: it would also blank whitespace-only lines inside code.
    return "\n".join(ln[width:] if ln[:width].isspace() else ln.lstrip(" ") for ln in lines)


def _front_matter(text: str) -> dict[str, str]:
    """The page's front matter as ``key: value`` lines (keys lowercased, values
    unquoted; empty values and other lines left out)."""
    m = FRONT_MATTER.match(text)
    if not m:
        return {}
    fields: dict[str, str] = {}
    for line in m.group("body").splitlines():
        key, sep, value = line.partition(":")
        value = value.strip().strip("'\"")
        if sep and key.strip() and not key[:1].isspace() and value:
            fields.setdefault(key.strip().lower(), value)
    return fields


def _bank_title(text: str, path: str) -> str:
    if title := _front_matter(text).get("title"):
        return title
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem.replace("-", " ").replace("_", " ").title()


class BankParser:
    """Parses one page.  ``parse(path, text)`` returns a ``ParsedBank``."""

    def parse(self, path: str, text: str) -> ParsedBank:
        bank = _bank_title(text, path)
        bank_slug = slugify(path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        warnings: list[ParseWarning] = []
        lines = text.split("\n")
        entries, qr_rows, company_lists = self._scan(lines)

        questions: list[Question] = []
        seen: dict[str, int] = {}
        for entry in entries:
            question = self._question(entry, path, bank, bank_slug, warnings)
            if question is None:
                continue
            if question.id in seen:
                seen[question.id] += 1
                question = replace(question, id=f"{question.id}-{seen[question.id]}")
            else:
                seen[question.id] = 1
            questions.append(question)

        quick_refs = self._quick_refs(qr_rows, path, bank, bank_slug, warnings)
        if not entries and not quick_refs:
            questions = self._fallback(lines, path, bank, bank_slug, warnings)
        front = _front_matter(text)
        return ParsedBank(
            path=path,
            bank=bank,
            bank_slug=bank_slug,
            questions=tuple(questions),
            quick_refs=tuple(quick_refs),
            warnings=tuple(warnings),
            company_lists={k: tuple(v) for k, v in company_lists.items()},
            updated=front.get("updated") or front.get("date"),
        )

    # -- scanning ---------------------------------------------------------------

    def _scan(self, lines: list[str]) -> tuple[list[_Entry], list[tuple[int, str]], dict[str, list[str]]]:
        entries: list[_Entry] = []
        qr_rows: list[tuple[int, str]] = []
        company_lists: dict[str, list[str]] = {}
        h2 = ""
        entry: _Entry | None = None
        in_fence = False
        i = 0
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if stripped.startswith(("```", "~~~")) and not line.startswith(" "):
                in_fence = not in_fence
            if not in_fence and (m := H2.match(line)):
                h2, entry = m.group("text"), None
            elif not in_fence and (m := H3.match(line)):
                entry = _Entry(heading=m.group("text"), line=i + 1)
                entries.append(entry)
            elif not in_fence and entry is not None and entry.answer_line is None and (m := ADMONITION.match(line)):
                entry.answer_line = i + 1
                j = self._body_end(lines, i + 1)
                entry.answer_lines = lines[i + 1 : j]
                i = j
                continue
            elif entry is not None and entry.answer_line is None and stripped:
                entry.meta_lines.append(line)
            elif "quick reference" in h2.lower() and stripped.startswith("|"):
                qr_rows.append((i + 1, stripped))
            elif COMPANY_LIST.match(h2) and THEMATIC_BREAK.match(stripped):
                h2 = ""  # "---" ends the list: the page's closing note after it is no item of it
            elif (m := COMPANY_LIST.match(h2)) and (item := LIST_ITEM.match(stripped)):
                company = canonical_company(m.group("company").strip())
                company_lists.setdefault(company, []).append(item.group("text").strip())
            i += 1
        return entries, qr_rows, company_lists

    @staticmethod
    def _body_end(lines: list[str], start: int) -> int:
        """Index after the last line of an indented admonition body.

        The body ends at the first unindented line, except inside a code fence:
        code may legitimately hold column-0 lines (a triple-quoted string), so
        a fence opened in the body runs to its closing fence, provided that
        comes before the next heading.
        """
        j, fence = start, None
        while j < len(lines):
            line = lines[j]
            indented = not line.strip() or line[:1] in (" ", "\t")
            if fence is None and not indented:
                break
            m = re.match(r"^\s*(`{3,}|~{3,})", line)
            if m:
                if fence is None:
                    fence = m.group(1)
                elif m.group(1).startswith(fence) and not line.strip()[len(m.group(1)) :].strip():
                    fence = None
            elif fence is not None and not indented and line.startswith("#"):
                # No closing fence before the next heading: fall back to indentation.
                k = start
                while k < len(lines) and (not lines[k].strip() or lines[k][:1] in (" ", "\t")):
                    k += 1
                return k
            j += 1
        return j

    # -- records ----------------------------------------------------------------

    def _question(
        self, entry: _Entry, path: str, bank: str, bank_slug: str, warnings: list[ParseWarning]
    ) -> Question | None:
        if entry.answer_line is None:
            warnings.append(ParseWarning(path, entry.line, f"no answer block under heading {entry.heading!r}; skipped"))
            return None
        heading_companies: list[str] = []
        if m := TITLE_TAIL.match(entry.heading):
            title = m.group("title").strip()
            heading_companies = split_companies(m.group("companies"))
        else:
            title = NUMBERED.sub("", entry.heading).strip()
        title, difficulty = title_difficulty(title)  # the metadata line's difficulty, if any, wins
        tags: list[str] = []
        asked_by: list[str] = []
        meta_text = " ".join(entry.meta_lines)
        for fm in META_FIELD.finditer(meta_text):
            key, value = fm.group("key").strip().lower(), fm.group("value").strip()
            if key.startswith("difficulty"):
                difficulty = normalise_difficulty(value) or difficulty
            elif key.startswith("tag"):
                tags = BACKTICKED.findall(value) or split_companies(value)
            elif key.startswith("asked"):
                asked_by = split_companies(value)
        if not entry.meta_lines or difficulty is None:
            warnings.append(
                ParseWarning(path, entry.line, f"missing or unreadable metadata line for {title!r}; kept without it")
            )
        lines, origin, expanded = _unescape_blocks(entry.answer_lines)
        answer = parse_answer(_dedent_body(lines))
        first = entry.answer_line + 1  # the file's line number of the body's first line
        mended = [(k, "code block written on one line with literal \\n escapes", "unescaped it") for k in expanded]
        mended += [(origin[r.line], r.problem, r.fix) for r in answer.repairs]
        for k, problem, fix in mended:
            message = f"{problem} in answer to {title!r}; {fix}, answer kept"
            warnings.append(ParseWarning(path, first + k, message))
        if not answer.markdown.strip():
            warnings.append(ParseWarning(path, entry.answer_line, f"empty answer block for {title!r}; skipped"))
            return None
        return _question(
            question_id(bank_slug, title),
            bank,
            bank_slug,
            title,
            answer,
            SourceRef(path=path, line=entry.line),
            difficulty=difficulty,
            companies=canonical_companies(heading_companies + asked_by),
            tags=tuple(dict.fromkeys(t.strip() for t in tags if t.strip())),
        )

    def _quick_refs(
        self, rows: list[tuple[int, str]], path: str, bank: str, bank_slug: str, warnings: list[ParseWarning]
    ) -> list[QuickRef]:
        if len(rows) < 2:
            return []
        header_line, header = rows[0]
        columns = [c.strip().lower() for c in header.strip("|").split("|")]

        def col(*names: str) -> int | None:
            for k, c in enumerate(columns):
                if any(n in c for n in names):
                    return k
            return None

        idx = {
            "number": col("sno", "no", "#"),
            "title": col("title", "question"),
            "link": col("link", "practice"),
            "companies": col("compan"),
            "difficulty": col("difficult", "level"),
            "topics": col("topic", "tag"),
        }
        if idx["title"] is None:
            warnings.append(ParseWarning(path, header_line, "quick-reference table has no title column; skipped"))
            return []
        out: list[QuickRef] = []
        seen: set[str] = set()
        for line_no, row in rows[1:]:
            if re.match(r"^\|?[\s:|-]+\|?$", row):
                continue
            cells = [c.strip() for c in row.strip().strip("|").split("|")]
            if len(cells) != len(columns):
                warnings.append(
                    ParseWarning(
                        path, line_no, f"quick-reference row has {len(cells)} cells, expected {len(columns)}; skipped"
                    )
                )
                continue

            def cell(key: str, cells: list[str] = cells) -> str:
                k = idx[key]
                return cells[k] if k is not None else ""

            number_text = re.sub(r"\D", "", cell("number"))
            number = int(number_text) if number_text else len(out) + 1
            title, tagged = title_difficulty(cell("title"))  # a row's [HARD]-style tag gives its difficulty
            if not title:
                warnings.append(ParseWarning(path, line_no, "quick-reference row without a title; skipped"))
                continue
            link = LINK.search(cell("link"))
            record_id = quick_ref_id(bank_slug, number)
            if record_id in seen:
                warnings.append(ParseWarning(path, line_no, f"duplicate quick-reference number {number}; skipped"))
                continue
            seen.add(record_id)
            out.append(
                QuickRef(
                    id=record_id,
                    bank=bank,
                    bank_slug=bank_slug,
                    number=number,
                    title=title,
                    practice_url=link.group("url") if link else None,
                    practice_label=link.group("label") if link else None,
                    companies=canonical_companies(split_companies(cell("companies"))),
                    difficulty=tagged or normalise_difficulty(cell("difficulty")),
                    topics=tuple(dict.fromkeys(split_companies(cell("topics")))),
                    source=SourceRef(path=path, line=line_no),
                )
            )
        return out

    def _fallback(
        self, lines: list[str], path: str, bank: str, bank_slug: str, warnings: list[ParseWarning]
    ) -> list[Question]:
        """A plain markdown page: one record per heading, its text as the answer."""
        # heading, its line number, the line number of the first line under it, the lines under it
        spans: list[tuple[str, int, int, list[str]]] = []
        current: tuple[str, int, int, list[str]] | None = None
        in_code = _closed_fences(lines)
        for i, line in enumerate(lines):
            m = None if i in in_code else ANY_HEADING.match(line)
            if m and len(m.group("hashes")) >= 2:
                current = (plain_title(m.group("text")), i + 1, i + 2, [])
                spans.append(current)
            elif current is not None:
                current[3].append(line)
        if not spans and any(line.strip() for line in lines):
            spans = [(bank, 1, 1, lines)]
        out: list[Question] = []
        seen: set[str] = set()
        for heading, line_no, body_line, body in spans:
            if not any(line.strip() for line in body):
                continue
            lead = next(k for k, line in enumerate(body) if line.strip())
            answer = parse_answer("\n".join(body).strip())
            for repair in answer.repairs:
                message = f"{repair.problem} under heading {heading!r}; {repair.fix}"
                warnings.append(ParseWarning(path, body_line + lead + repair.line, message))
            qid = question_id(bank_slug, heading)
            if qid in seen:
                qid = f"{qid}-{line_no}"
            seen.add(qid)
            out.append(_question(qid, bank, bank_slug, heading, answer, SourceRef(path=path, line=line_no)))
        return out
