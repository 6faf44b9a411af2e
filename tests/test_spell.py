"""The query spell corrector: corpus words within edit distance 1 (2 for
long words), transpositions counting one edit, the most frequent word on a tie;
a four-letter word only by a swap of neighbouring letters."""

from __future__ import annotations

import pytest

from index.query import SpellCorrector

CORPUS = [
    "overfitting overfitting regularization regularization gradient gradient",
    "dropout dropout boosting boosting bagging bagging posting",
    "network network networks",
    "bias bias loss loss",
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
        ("bag", "bag"),  # under four letters: never corrected
        ("bais", "bias"),  # four letters: two neighbouring letters swapped
        ("lsos", "loss"),
        ("bios", "bios"),  # four letters, one other edit: left alone
        ("lost", "lost"),
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


def test_real_words_of_the_lexicon_are_never_corrected() -> None:
    """A word the banks do not use is not a typo when it is a word: "later" stays later,
    though one edit makes it the banks' "layer"."""
    corpus = ["layer layer descent descent"]
    assert SpellCorrector(corpus).correct("later decent") == "layer descent"  # no word list: both "fixed"
    kept = SpellCorrector(corpus, lexicon=frozenset({"later", "decent"}))
    assert kept.correct("later decent descnet") == "later decent descent"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("neighbours", "neighbors"),  # a real (British) word, spelled the banks' way
        ("labelled", "labeled"),
        ("normalisation", "normalization"),
        ("analyse", "analyze"),
        ("four", "four"),  # "for" is a stop word, and "our" needs two letters before it
        ("colour", "colour"),  # nothing in the banks spells it "color"
    ],
)
def test_british_spellings_become_the_banks_american_ones(word: str, expected: str) -> None:
    corpus = ["neighbors neighbors labeled labeled normalization normalization analyze analyze for for"]
    lexicon = frozenset({"neighbours", "labelled", "four", "colour", "analyse"})
    assert SpellCorrector(corpus, lexicon=lexicon).correct_word(word) == expected
