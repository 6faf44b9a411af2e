"""LaTeX as Unicode text for Slack: chosen formulas of the bank, the fallback
to inline LaTeX, and every formula of the real bank in every answer."""

from __future__ import annotations

import dataclasses
import re

import pytest
from test_slack import blocks_of

from index.search import Searcher
from ingest.pipeline import Corpus
from qbank.answer import AnswerComposer
from service.slack.blocks import answer_blocks
from service.slack.formula import formula_text
from service.slack.mrkdwn import to_mrkdwn

BASE = "https://qbank.example.com"
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
_COMMAND = re.compile(r"\\[A-Za-z]+")


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\frac{1}{1-p}", "1/(1 − p)"),
        (r"\text{Precision} = \frac{TP}{TP + FP}", "Precision = TP/(TP + FP)"),
        (r"\text{Gini} = 1 - \sum_{i=1}^{C} p_i^2", "Gini = 1 − ∑ᵢ₌₁^C pᵢ²"),
        (r"\text{Variance} = \frac{1}{n} \sum_{i=1}^{n} (y_i - \bar{y})^2", "Variance = 1/n ∑ᵢ₌₁ⁿ (yᵢ − ȳ)²"),
        (r"\hat{x} = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}", "x̂ = (x − μ_B)/√(σ_B² + ε)"),
        (r"\text{Attention}(Q, K, V) = \text{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V",
         "Attention(Q, K, V) = softmax(QKᵀ/√dₖ)V"),
        (r"L = -\frac{1}{N}\sum_{i=1}^{N}[y_i \log(\hat{y}_i) + (1-y_i)\log(1-\hat{y}_i)]",
         "L = −1/N ∑ᵢ₌₁ᴺ [yᵢ log(ŷᵢ) + (1 − yᵢ) log(1 − ŷᵢ)]"),
        (r"z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]}", "z^[l] = W^[l] a^[l−1] + b^[l]"),
        (r"\lim_{d \to \infty} \frac{dist_{max} - dist_{min}}{dist_{min}} = 0",
         "lim_(d→∞) (distₘₐₓ − distₘᵢₙ)/distₘᵢₙ = 0"),
        (r"P(y=1|x) = \frac{1}{1 + e^{-(\beta_0 + \beta_1 x_1)}}", "P(y = 1|x) = 1/(1 + e^(−(β₀ + β₁x₁)))"),
        (r"\operatorname{sgn}(x) \cdot \|w\|_2^2", "sgn(x) · ‖w‖₂²"),
    ],
)  # fmt: skip
def test_formulas_become_unicode_text(latex: str, text: str) -> None:
    assert formula_text(latex) == text


@pytest.mark.parametrize(
    "latex",
    [r"\begin{pmatrix} a & b \end{pmatrix}", r"\binom{n}{k}", r"\hat{xy}", r"\frac{1}{", r"\unknowncommand{x}",
     r"\sqrt[3]{x}", ""],
    ids=["environment", "binom", "accent over two letters", "unbalanced", "unknown command", "cube root", "empty"],
)  # fmt: skip
def test_what_cannot_be_written_as_text_falls_back(latex: str) -> None:
    assert formula_text(latex) is None


def test_every_formula_of_the_bank_is_text(corpus: Corpus) -> None:
    formulas = [f for q in corpus.questions for f in q.formulas]
    assert len(formulas) > 50
    fallbacks = [f for f in formulas if formula_text(f) is None]
    assert fallbacks == [], f"{len(fallbacks)} of {len(formulas)} formulas fall back to LaTeX"
    for f in formulas:
        text = formula_text(f)
        assert text is not None and not _COMMAND.search(text) and not re.search(r"[{}]", text), (f, text)


def test_no_answer_of_the_bank_shows_latex(searcher: Searcher, corpus: Corpus) -> None:
    """Every question's full card with all its sections: no backslash command
    outside code, and no formula left as inline LaTeX (the fallback, counted)."""
    composer = AnswerComposer(searcher)
    shown_as_latex, with_formulas = [], 0
    for q in corpus.questions:
        composed = composer.compose([("user", q.title)])
        blocks = answer_blocks(dataclasses.replace(composed, sections=q.sections), BASE)
        texts = [b["text"]["text"] for b in blocks_of("section", blocks)]
        texts += [e["text"] for b in blocks_of("context", blocks) for e in b["elements"]]
        with_formulas += bool(q.formulas)
        for text in texts:
            assert not _COMMAND.search(_CODE.sub("", text)), (q.title, text)
            shown_as_latex += [c for c in re.findall(r"`([^`\n]+)`", text) if _COMMAND.search(c)]
    assert with_formulas >= 20
    assert shown_as_latex == []


def test_a_formula_that_falls_back_is_inline_latex_escaped() -> None:
    assert to_mrkdwn(r"count $\binom{n}{k} < 2^n$ ways", BASE) == r"count `\binom{n}{k} &lt; 2^n` ways"
    assert to_mrkdwn(r"clip $a < \frac{1}{2}$", BASE) == "clip a &lt; 1/2"
