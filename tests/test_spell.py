"""The query spell corrector: corpus words within edit distance 1 (2 for
long words), transpositions counting one edit, the most frequent word on a tie."""

from __future__ import annotations

import pytest

from index.query import SpellCorrector

CORPUS = [
    "overfitting overfitting regularization regularization gradient gradient",
    "dropout dropout boosting boosting bagging bagging posting",
    "network network networks",
]


@pytest.fixture(scope="module")
def corrector() -> SpellCorrector:
    return SpellCorrector(CORPUS)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("overfiting", "overfitting"),  # one deletion
        ("regularizaiton", "regularization"),  # a transposition is one edit (optimal string alignment)
        ("gradeint", "gradient"),
        ("dropuot", "dropout"),  # a transposition in a short word
        ("drpuot", "drpuot"),  # two edits in a 6-letter word: left alone
        ("bossting", "boosting"),  # boosting (2 uses) over posting (1): frequency breaks the tie
        ("bag", "bag"),  # under five letters: never corrected
        ("network", "network"),  # known words untouched
        ("xgboost", "xgboost"),  # nothing near it
    ],
)
def test_words_are_corrected_to_the_nearest_frequent_corpus_word(
    corrector: SpellCorrector, word: str, expected: str
) -> None:
    assert corrector.correct_word(word) == expected


def test_text_is_corrected_word_by_word(corrector: SpellCorrector) -> None:
    assert corrector.correct("Overfiting with dropuot?") == "overfitting with dropout?"
