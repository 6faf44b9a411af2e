"""LaTeX formulas as Unicode text, for Slack, which shows no math.

``formula_text(r"\\frac{TP}{TP + FP}")`` is ``"TP/(TP + FP)"``; ``\\sum_{i=1}^{n}
w_i^2`` is ``"∑ᵢ₌₁ⁿ wᵢ²"``.  The formula is parsed with latex2mathml's walker (the
web page's converter, so both read the same LaTeX) and written back as text:
symbols as their Unicode characters, sub- and superscripts as Unicode
sub/superscript letters where every character has one (else ``x_(...)`` and
``x^(...)``), fractions as ``a/b`` with parentheses round compound parts,
``\\hat`` and ``\\bar`` as combining accents.

Anything it does not know (an environment, an unknown command, an accent on
more than one letter) gives None: the caller then shows the LaTeX source as
inline code rather than a formula that says something else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from latex2mathml import commands
from latex2mathml.symbols_parser import convert_symbol
from latex2mathml.walker import Node, walk

Kind = Literal["atom", "op", "word", "big", "open", "close", "comma", "space"]

SUBSCRIPTS = dict(zip("0123456789+-−=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ", strict=True))
SUPERSCRIPTS = dict(
    zip(
        "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWβγδθφχ",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵝᵞᵟᶿᵠᵡ",
        strict=True,
    )
)
ACCENTS = {r"\hat": "\u0302", r"\bar": "\u0304", r"\overline": "\u0305", r"\tilde": "\u0303",
           r"\dot": "\u0307", r"\ddot": "\u0308", r"\vec": "\u20d7"}  # fmt: skip
TEXT_COMMANDS = frozenset({commands.TEXT, commands.TEXTRM, commands.TEXTIT, commands.TEXTBF, commands.TEXTSF,
                           commands.TEXTNORMAL, commands.TEXTUP, commands.TEXTMD, commands.TEXTTT})  # fmt: skip
WORDS = frozenset({*commands.FUNCTIONS, *commands.LIMIT, r"\det", r"\gcd", r"\argmax", r"\argmin", r"\Pr"})
SPACES = frozenset({r"\,", r"\:", r"\;", r"\ ", r"\quad", r"\qquad", "~"})
# Symbols that read as plain text, never \epsilon's lunate ϵ (U+03F5) or latex2mathml's choice.
SYMBOLS = {r"\epsilon": "ε", r"\cdot": "·", r"\ldots": "…", r"\dots": "…", r"\cdots": "⋯", r"\|": "‖",
           r"\Vert": "‖", r"\{": "{", r"\}": "}", r"\lbrace": "{", r"\rbrace": "}", r"\langle": "⟨",
           r"\rangle": "⟩", "-": "−", "*": "∗"}  # fmt: skip
BIG = frozenset("∑∏∫∬∮⋃⋂")
ATOMS = frozenset("∞∂∇′…⋯‖|")
OPS = frozenset("=+−·×÷±∓<>≤≥≠≈∼∝→←↔⇒⇔∈∉⊂⊆∪∩∣:")
COMPOUND = frozenset(" +−·×/=,<>≤≥≈±")  # a fraction's part with one of these at its top level is grouped
SHORT_SCRIPT = 6  # an ASCII sub/superscript this short is written without spaces: x_(i,c), lim_(d→∞)
OPENING, CLOSING = frozenset("([⟨{"), frozenset(")]⟩}")
_ENTITY = re.compile(r"&#x([0-9A-Fa-f]+);")
_ASCII_SCRIPT = re.compile(r"[_^]\S*$")


class Unconvertible(ValueError):
    """A formula this module cannot write as text without changing what it says."""


@dataclass(frozen=True, slots=True)
class Piece:
    kind: Kind
    text: str


def formula_text(latex: str) -> str | None:
    """``latex`` as Unicode text, or None where it cannot be shown faithfully."""
    try:
        text = _join(_row(walk(latex)))
    except Exception:  # latex2mathml raises many kinds on what it cannot parse
        return None
    if not text or "\\" in text or _ENTITY.search(text):
        return None
    return text


def _row(nodes: Sequence[Node]) -> list[Piece]:
    pieces: list[Piece] = []
    for node in nodes:
        pieces.extend(_node(node))
    return pieces


def _node(node: Node) -> list[Piece]:
    token, children = node.token, node.children or ()
    if token == commands.BRACES:
        return _row(children)
    if token in (commands.SUBSCRIPT, commands.SUPERSCRIPT, commands.SUBSUP):
        return _scripts(token, children)
    if token == commands.FRAC:
        numerator, denominator = (_join(_node(child)) for child in children)
        return [Piece("atom", f"{_grouped(numerator)}/{_grouped(denominator)}")]
    if token == commands.SQRT:
        return [Piece("atom", "√" + _grouped(_join(_node(children[0]))))]
    if token in ACCENTS:
        base = _join(_node(children[0]))
        if len(base) != 1:
            raise Unconvertible(f"{token} over {base!r}")
        return [Piece("atom", unicodedata.normalize("NFC", base + ACCENTS[token]))]
    if token in TEXT_COMMANDS:
        return [Piece("atom", node.text or "")]
    if token == commands.LEFT:
        *inside, right = children
        return [Piece("open", _delimiter(node.delimiter)), *_row(inside), Piece("close", _delimiter(right.delimiter))]
    if children:
        raise Unconvertible(token)
    return [_leaf(token)]


def _leaf(token: str) -> Piece:
    if token in SPACES:
        return Piece("space", " ")
    if token in WORDS:
        return Piece("word", token[1:])
    if token.startswith(r"\operatorname{") and token.endswith("}"):
        return Piece("word", token[len(r"\operatorname{") : -1])
    entity = _ENTITY.fullmatch(token)
    text = chr(int(entity.group(1), 16)) if entity else _symbol(token)
    if text in BIG:
        return Piece("big", text)
    if text == ",":
        return Piece("comma", ",")
    if text in OPENING:
        return Piece("open", text)
    if text in CLOSING:
        return Piece("close", text)
    if text in OPS or (text not in ATOMS and len(text) == 1 and unicodedata.category(text) == "Sm"):
        return Piece("op", text)
    return Piece("atom", text)


def _symbol(token: str) -> str:
    if token in SYMBOLS:
        return SYMBOLS[token]
    if not token.startswith("\\"):
        return token
    code = convert_symbol(token)
    if code is None:
        raise Unconvertible(token)
    return chr(int(code, 16))


def _delimiter(delimiter: str | None) -> str:
    return "" if delimiter in (None, ".") else _symbol(delimiter or "")


def _scripts(token: str, children: Sequence[Node]) -> list[Piece]:
    base = _node(children[0])
    sub = _node(children[1]) if token != commands.SUPERSCRIPT else None
    sup = _node(children[-1]) if token != commands.SUBSCRIPT else None
    text = _join(base)
    for pieces, table, mark in ((sub, SUBSCRIPTS, "_"), (sup, SUPERSCRIPTS, "^")):
        if pieces is None:
            continue
        compact = "".join(p.text.strip() for p in pieces)
        if compact and all(ch in table for ch in compact):
            text += "".join(table[ch] for ch in compact)
        else:
            script = compact if len(compact) <= SHORT_SCRIPT else _join(pieces)
            text += mark + (script if len(script) == 1 or _bracketed(script) else f"({script})")
    kind = base[0].kind if len(base) == 1 and base[0].kind in ("big", "word") else "atom"
    return [Piece(kind, text)]


def _grouped(text: str) -> str:
    """``text`` in parentheses when it has more than one term outside brackets."""
    depth = 0
    for ch in text:
        depth += 1 if ch in "([⟨" else -1 if ch in ")]⟩" else 0
        if depth == 0 and ch in COMPOUND:
            return f"({text})"
    return text or "()"


def _bracketed(text: str) -> bool:
    """True when ``text`` is one bracketed group: its first bracket closes at its end."""
    depth = 0
    for i, ch in enumerate(text):
        depth += 1 if ch in "([" else -1 if ch in ")]" else 0
        if depth == 0:
            return i == len(text) - 1
    return False


def _join(pieces: Sequence[Piece]) -> str:
    """Pieces as one line: spaces round binary operators and after big
    operators and commas, none inside brackets or between letters."""
    out: list[str] = []
    previous: Piece | None = None
    for i, piece in enumerate(pieces):
        after = pieces[i + 1] if i + 1 < len(pieces) else None
        if piece.kind == "op":
            unary = piece.text in "−+±" and (previous is None or previous.kind in ("op", "open", "comma", "big"))
            out.append(piece.text if unary or after is None else f" {piece.text} ")
        elif piece.kind == "comma":
            out.append(", ")
        elif piece.kind in ("word", "big"):
            if previous is not None and previous.kind in ("atom", "close"):
                out.append(" ")
            out.append(piece.text)
            if after is not None and (piece.kind == "big" or after.kind == "atom"):
                out.append(" ")
        else:
            if (
                piece.kind == "atom"
                and previous is not None
                and previous.kind == "atom"
                and _ASCII_SCRIPT.search(previous.text)
            ):
                out.append(" ")  # W^[l] a^[l−1]: an ASCII script would run into the next letter
            out.append(piece.text)
        previous = piece
    return re.sub(r" {2,}", " ", "".join(out)).strip()
