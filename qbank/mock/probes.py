"""Follow-up probes, the way an interviewer digs after an answer, made from the
curated answer's own section headings (no model writes them).

A heading becomes a question by its shape: "Why L1 Creates Sparsity" ->
"Can you explain why L1 creates sparsity?", "How Convolution Works" -> "Can
you walk me through how convolution works?", "GRU vs LSTM" -> "How do GRU
and LSTM compare?", "Update Rule" -> "Can you write down the update rule?",
"Pros and Cons" -> "What are the pros and cons?".  A heading that only
restates the question is skipped.  Headings whose words the candidate used
come first, opened with what they said: "You mentioned L1: can you explain
why L1 creates sparsity (geometric intuition)?"
"""

from __future__ import annotations

import re
from collections import Counter

from index.tokenize import tokenize
from ingest.models import Question

_FORMULA = re.compile(r"\b(formula|formulation|update rule|objective function|calculations?|equation)\b", re.I)
_DOWNSIDES = re.compile(r"\b(limitations?|pros and cons|pitfalls?|disadvantages?|drawbacks?)\b", re.I)
_EXAMPLE = re.compile(r"\bexample\b", re.I)
_EXAMPLES = re.compile(r"\bexamples\b", re.I)
_WORD = re.compile(r"[A-Za-z][\w'’]*")
_HEADING_WORD = re.compile(r"[A-Za-z0-9][\w+'’-]*")
_NOT_PROSE = re.compile(r"^\s*(?:#.*|\|.*|```[\s\S]*?```)$|\*\*[^*\n]+\*\*", re.M)
# Heading words too plain to say "you mentioned" about.
_PLAIN = frozenset(tokenize("core idea concept key common basic method methods approach approaches types modern works"))


def _casing(question: Question) -> Counter[str]:
    """How the answer's running text writes each word in mid-sentence
    (headings, bold labels, tables and code left out)."""
    text = _NOT_PROSE.sub(" ", re.sub(r"```[\s\S]*?```", " ", question.answer_markdown))
    return Counter(m.group(1) for m in re.finditer(r"[a-z0-9,;)] ([A-Za-z][\w'’]*)", text))


def _sentence_case(text: str, casing: Counter[str]) -> str:
    """``text`` in running prose: a Capitalised word is lowercased unless the
    answer writes it so in mid-sentence more often than not; names and
    acronyms (L1, LSTM, XGBoost) and single letters stay as they are."""

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        if len(w) == 1 or not w[0].isupper() or any(c.isupper() or c.isdigit() for c in w[1:]):
            return w
        return w if casing[w] > casing[w.lower()] else w.lower()

    return _WORD.sub(word, text)


def _ask(heading: str, casing: Counter[str]) -> str:
    text = heading.strip().rstrip("?:.").strip()
    if ":" in text:  # "The Problem: Vanishing Gradients" asks about vanishing gradients
        text = text.split(":", 1)[1].strip() or text
    lowered = _sentence_case(text, casing)
    first = lowered.split(" ", 1)[0].lower()
    bare = re.sub(r"^(?:the|a|an) ", "", lowered, flags=re.I)
    if first == "why":
        return f"Can you explain {lowered}?"
    if first == "how" or first.endswith("ing"):  # "How XGBoost Works", "Choosing K", "Handling Concept Drift"
        return f"Can you walk me through {lowered}?"
    if first in ("what", "when", "which", "where"):
        return f"{lowered[:1].upper()}{lowered[1:]}?"
    vs = re.split(r"\s+vs\.?\s+", lowered, flags=re.I)
    if len(vs) == 2:
        return f"How do {vs[0]} and {vs[1]} compare?"
    if _FORMULA.search(text):
        return f"Can you write down the {bare}?"
    if _DOWNSIDES.search(text):
        return f"What are the {bare}?"
    if _EXAMPLES.search(text):
        return f"Can you give some {bare}?"
    if _EXAMPLE.search(text):
        return f"Can you give {'an' if bare[:1].lower() in 'aeiou' else 'a'} {bare}?"
    return f"Can you tell me more about the {bare}?"


def _notable(word: str, key: set[str]) -> bool:
    """A name (L1, LSTM, XGBoost) or one of the answer's key terms: worth saying "you mentioned" about."""
    named = any(c.isdigit() for c in word) or (len(word) > 1 and word.isupper()) or any(c.isupper() for c in word[1:])
    terms = tokenize(word)
    return bool(terms) and (named or all(t in key for t in terms)) and not set(terms) & _PLAIN


def _mentioned(heading: str, answer_terms: set[str], title: set[str], key: set[str]) -> str | None:
    """The words of ``heading`` (a run of them, as written there) that the
    answer used and that are worth naming; a run the title does not hold first."""
    runs: list[list[str]] = [[]]
    for raw in _HEADING_WORD.findall(heading):
        if _notable(raw, key) and all(t in answer_terms for t in tokenize(raw)):
            runs[-1].append(raw)
        elif runs[-1]:
            runs.append([])
    phrases = [" ".join(run) for run in runs if run]
    return min(phrases, key=lambda p: set(tokenize(p)) <= title, default=None)


def probes(question: Question, answer: str, key: set[str], limit: int = 3) -> tuple[str, ...]:
    """Up to ``limit`` follow-up questions: first on the sections whose words
    the answer used ("You mentioned …"), then on the others, in answer order.
    ``key``: the answer's key terms (stemmed), the words besides names that a
    probe may say the candidate mentioned."""
    title = set(tokenize(question.title))
    casing = _casing(question)
    answer_terms = set(tokenize(answer))
    touched: list[str] = []
    untouched: list[str] = []
    named: set[str] = set()
    for section in question.sections:
        heading = section.heading
        own = set(tokenize(heading or ""))
        if not heading or not own or own <= title:  # "What is Dropout?" under "What is Dropout and Why Does It Work?"
            continue
        asked = _ask(heading, casing)
        said = _mentioned(heading, answer_terms, title, key)
        if said is None:
            untouched.append(asked)
        elif said.lower() in named:  # said once already: no second "You mentioned LSTM"
            touched.append(asked)
        else:
            named.add(said.lower())
            touched.append(f"You mentioned {_sentence_case(said, casing)}: {asked[:1].lower()}{asked[1:]}")
    return tuple(dict.fromkeys(touched + untouched))[:limit]
