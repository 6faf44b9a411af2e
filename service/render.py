"""The bank's markdown as HTML, shared by the chat answers and the question page.

markdown-it (tables on; raw HTML and images off, so any HTML in the text is escaped),
Pygments for fenced code (a header with the language and a copy button), and
``$$...$$`` / ``$...$`` LaTeX converted to MathML on the server, so the page
needs no math library and works offline.

Math is swapped for placeholders before markdown parsing (so ``_``, ``*`` and
``|`` inside formulas are not read as markdown) and put back as MathML only in
text positions; the MathML is rebuilt from an allowlist of elements and
attributes, because latex2mathml passes ``\\text{...}`` through unescaped.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import Any

from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

from qbank.answer import Answer, to_markdown
from qbank.answer.markdown import RETRY_LEAD, offered

_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.S)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)(?<!\\)\$(?![\d$])")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_LANG = re.compile(r"[^\w+#.-]")

_MATHML_TAGS = frozenset(
    """math semantics annotation mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot mover munder
    munderover mtable mtr mtd mlabeledtr mstyle mpadded mphantom menclose merror mmultiscripts mprescripts
    none mfenced maction""".split()  # noqa: SIM905
)
_MATHML_ATTRS = frozenset(
    """display stretchy fence separator separators lspace rspace mathvariant mathcolor mathbackground mathsize
    width height depth columnalign columnspacing columnlines rowalign rowspacing rowlines frame framespacing
    linethickness accent accentunder movablelimits largeop symmetric minsize maxsize notation displaystyle
    scriptlevel form open close bevelled numalign denomalign voffset encoding align equalrows equalcolumns
    columnspan rowspan""".split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class _Math:
    tex: str
    display: bool

    @property
    def source(self) -> str:
        return f"$${self.tex}$$" if self.display else f"${self.tex}$"


def _protect_math(md: str) -> tuple[str, list[_Math]]:
    """Replace math outside code with ``\\ue000N\\ue001`` placeholders."""
    found: list[_Math] = []

    def stash(tex: str, display: bool) -> str:
        found.append(_Math(tex.strip(), display))
        return f"\ue000{len(found) - 1}\ue001"

    def prose(text: str) -> str:
        out, last = [], 0
        for m in _INLINE_CODE.finditer(text):
            out.append(_math_in(text[last : m.start()]))
            out.append(m.group(0))
            last = m.end()
        out.append(_math_in(text[last:]))
        return "".join(out)

    def _math_in(text: str) -> str:
        text = _DISPLAY_MATH.sub(lambda m: stash(m.group(1), True), text)
        return _INLINE_MATH.sub(lambda m: stash(m.group(1), False), text)

    pieces: list[str] = []
    buffer: list[str] = []
    fence: str | None = None
    for line in md.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence is None and m:
            pieces.append(prose("".join(buffer)))
            buffer, fence = [], m.group(1)
            pieces.append(line)
        elif fence is not None:
            pieces.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end() :].strip():
                fence = None
        else:
            buffer.append(line)
    pieces.append(prose("".join(buffer)))
    return "".join(pieces), found


def _serialize(el: ET.Element) -> str:
    tag = el.tag.rsplit("}", 1)[-1]
    if tag not in _MATHML_TAGS:
        raise ValueError(f"unexpected element {tag!r} in MathML")
    attrs = "".join(
        f' {name}="{html.escape(value, quote=True)}"' for name, value in el.attrib.items() if name in _MATHML_ATTRS
    )
    inner = html.escape(el.text or "", quote=False) + "".join(
        _serialize(child) + html.escape(child.tail or "", quote=False) for child in el
    )
    return f"<{tag}{attrs}>{inner}</{tag}>"


@lru_cache(maxsize=2048)
def _mathml(tex: str, display: bool) -> str:
    """Safe MathML for one formula, or the escaped TeX in <code> if it cannot be converted."""
    try:
        raw = latex_to_mathml(tex, display="block" if display else "inline")
        raw = re.sub(r"&(?!#x?[0-9A-Fa-f]+;|[a-zA-Z]+;)", "&amp;", raw)
        return _serialize(ET.fromstring(raw))
    except Exception:  # latex2mathml raises many kinds on bad input; show the source instead
        source = f"$${tex}$$" if display else f"${tex}$"
        return f'<code class="math-source">{html.escape(source)}</code>'


@lru_cache(maxsize=512)  # an answer still being written is re-rendered as it grows
def _code_block(code: str, info: str) -> str:
    lang = _LANG.sub("", info.split()[0]) if info.strip() else ""
    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    body = highlight(code, lexer, HtmlFormatter(nowrap=True))
    label = html.escape(lang or "text")
    return (
        f'<div class="code"><div class="code-head"><span class="lang">{label}</span>'
        f'<button type="button" class="copy" aria-label="Copy {label} code">Copy</button></div>'
        f'<pre class="highlight"><code class="language-{label}">{body}</code></pre></div>\n'
    )


def _fence(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    return _code_block(token.content, token.info)


def _indented_code(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return _code_block(tokens[idx].content, "")


def _link_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    if href.startswith(("http://", "https://")):
        token.attrSet("rel", "noopener noreferrer")
        token.attrSet("target", "_blank")
    return str(self.renderToken(tokens, idx, options, env))


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(["table", "strikethrough"])
    md.disable("image")  # the banks have none, and a generated answer must not load from other hosts
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_block", _indented_code)
    md.add_render_rule("link_open", _link_open)
    return md


def _restore(text: str, maths: list[_Math]) -> str:
    return _PLACEHOLDER.sub(lambda m: maths[int(m.group(1))].source, text)


def _insert_math(tokens: list[Token], maths: list[_Math]) -> None:
    """Turn placeholders in text into MathML; anywhere else, back into the TeX source."""
    for token in tokens:
        if token.children is not None:
            token.children = [out for child in token.children for out in _math_tokens(child, maths)]
        _restore_token(token, maths)


def _math_tokens(token: Token, maths: list[_Math]) -> list[Token]:
    if token.type == "text" and _PLACEHOLDER.search(token.content):
        return _split_text(token, maths)
    _restore_token(token, maths)  # attributes, image alt text: the TeX as written
    return [token]


def _split_text(token: Token, maths: list[_Math]) -> list[Token]:
    out: list[Token] = []
    last = 0
    for m in _PLACEHOLDER.finditer(token.content):
        if m.start() > last:
            out.append(Token("text", "", 0, content=token.content[last : m.start()]))
        math = maths[int(m.group(1))]
        out.append(Token("html_inline", "", 0, content=_mathml(math.tex, math.display)))
        last = m.end()
    if last < len(token.content):
        out.append(Token("text", "", 0, content=token.content[last:]))
    return out


def _restore_token(token: Token, maths: list[_Math]) -> None:
    if "\ue000" in token.content:
        token.content = _restore(token.content, maths)
    if token.attrs:
        token.attrs = {k: _restore(v, maths) if isinstance(v, str) else v for k, v in token.attrs.items()}
    for child in token.children or ():
        _restore_token(child, maths)


def _top_level(tokens: list[Token]) -> list[list[Token]]:
    """The tokens of each top-level block (a paragraph, heading, list, table,
    quote, code block): an opening token at level 0 through its closing one,
    or a single level-0 token such as a fence."""
    groups: list[list[Token]] = []
    for token in tokens:
        if token.level == 0 and token.nesting >= 0 and (not groups or _closed(groups[-1])):
            groups.append([token])
        else:
            groups[-1].append(token)
    return groups


def _closed(group: list[Token]) -> bool:
    return group[0].nesting == 0 or (group[-1].level == 0 and group[-1].nesting == -1)


_UNFINISHED = (
    (re.compile(r"\[([^\[\]]*)\]\([^)]*\)?"), r"\1"),  # [text](url, the url still coming: the text
    (re.compile(r"\]\("), ""),
    (re.compile(r"\*+|~~+|`+|#{2,}"), ""),  # emphasis, strikethrough, code and heading marks
    (re.compile(r"(?<!\w)_+|_+(?!\w)"), ""),  # _emphasis_, not snake_case
    (re.compile(r"\$\$.*", re.S), ""),  # a display formula still coming
)


def _hide_syntax(group: list[Token]) -> None:
    """In a block still being written, drop the markdown marks that no pair has
    closed yet (``**bo``, ``[Full answer](/q/``), so none shows as text."""
    for token in group:
        for child in token.children or ():
            if child.type == "text":
                for pattern, repl in _UNFINISHED:
                    child.content = pattern.sub(repl, child.content)


def _tokens(md: str) -> tuple[list[Token], dict[str, Any]]:
    text, maths = _protect_math(md.replace("\ue000", "").replace("\ue001", ""))
    env: dict[str, Any] = {}
    tokens = _markdown().parse(text, env)
    _insert_math(tokens, maths)
    return tokens, env


def render_markdown(md: str) -> str:
    """HTML for the bank's markdown: tables, highlighted code, MathML formulas; raw HTML escaped."""
    tokens, env = _tokens(md)
    parser = _markdown()
    return str(parser.renderer.render(tokens, parser.options, env))


def render_blocks(md: str, unfinished: bool = False) -> list[str]:
    """``render_markdown(md)`` cut into its top-level blocks (a paragraph, a
    heading, a list, a table, a code block, a quote): joined, they are the
    same HTML.  With ``unfinished`` (text still being written), the last block
    hides the markdown marks that are not closed yet."""
    tokens, env = _tokens(md)
    parser = _markdown()
    groups = _top_level(tokens)
    if unfinished and groups:
        _hide_syntax(groups[-1])
    return [str(parser.renderer.render(group, parser.options, env)) for group in groups]


@cache
def code_css() -> str:
    """Pygments colours for ``.highlight``: a light theme, and a dark one under prefers-color-scheme."""
    light, dark = (_scoped_style(name) for name in ("default", "github-dark"))
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def _scoped_style(name: str) -> str:
    css = HtmlFormatter(style=name).get_style_defs(".highlight")
    return "\n".join(line for line in css.splitlines() if line.startswith(".highlight "))


def answer_blocks(answer: Answer, text: str, generated_by: str = "extractive") -> list[str]:
    """The chat answer as the web UI shows it, block by block: ``text`` (the
    answer's markdown, or what the LLM wrote) as HTML; the questions an abstention
    or a reply to courtesy offers, as buttons that ask them (they submit the chat
    page's form).  A company list offers its narrowing and first questions the same way (its
    titles link to the full answers, a page of their own; the chat showed no way to ask them)."""
    if answer.kind == "company_list" and answer.suggestions:
        return [*render_blocks(text), *render_blocks(LIST_LEAD), _chips(answer.suggestions)]
    if answer.kind in ("question", "quick_reference") and generated_by == "extractive" and answer.related:
        # the related questions are among the sources the page lists under the answer: the
        # "Related:" line named them a second time (tester finding); the API's markdown keeps it
        text = to_markdown(replace(answer, related=()))
    if not (answer.kind == "reply" or (answer.abstained and generated_by == "extractive")):
        return render_blocks(text)
    heading, asks = offered(answer)
    retry = [*render_blocks(RETRY_LEAD), _chips((answer.retry,))] if answer.retry else []
    if not asks:
        return [*render_blocks(answer.message or ""), *retry]
    return [*render_blocks(answer.message or ""), *retry, *render_blocks(heading), _chips(asks)]


LIST_LEAD = "Ask in the chat:"


def _chips(asks: Sequence[str]) -> str:
    """Questions as buttons that ask them: they submit the chat page's form, with JavaScript or without."""
    chips = "".join(
        f'<li><button type="submit" form="composer" name="ask" value="{html.escape(q)}" class="chip example">'
        f"{html.escape(q)}</button></li>\n"
        for q in asks
    )
    return f'<ul class="asks">\n{chips}</ul>\n'


def answer_html(answer: Answer, text: str, generated_by: str = "extractive") -> str:
    """``answer_blocks`` joined: the ``answer_html`` of the chat's ``done`` event."""
    return "".join(answer_blocks(answer, text, generated_by))
