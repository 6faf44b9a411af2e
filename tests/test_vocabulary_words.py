"""The word list the spell corrector leaves alone: the whole words of the embedding
model's tokenizer, read from its tokenizer.json (the packaged model's, or an ONNX
export's copy), whatever the tokenizer's kind."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from index.embed import Embedder, vocabulary_words


def test_the_packaged_models_vocabulary_has_words_not_pieces() -> None:
    words = Embedder().words()
    assert {"later", "decent", "beat", "chance", "neighbours"} <= words
    assert "bais" not in words and "lsos" not in words  # typos are not words
    assert not any(w.startswith("##") or not w.isalpha() for w in words)


def test_a_searcher_leaves_real_words_of_a_query_alone(searcher) -> None:  # type: ignore[no-untyped-def]
    analyzed = searcher.analyzer.run("my loss stalls later in training, what is bais")
    assert "later" in analyzed.text.split() and "bias" in analyzed.text.split()


def test_bpe_and_unigram_vocabularies_give_the_words_that_start_a_token(tmp_path: Path) -> None:
    bpe = tmp_path / "bpe.json"
    bpe.write_text(json.dumps({"model": {"type": "BPE", "vocab": {"Ġbeat": 0, "ing": 1, "ĠLater": 2, "Ġ42": 3}}}))
    assert vocabulary_words(bpe) == {"beat", "later"}
    unigram = tmp_path / "unigram.json"
    unigram.write_text(json.dumps({"model": {"type": "Unigram", "vocab": [["▁chance", -1.0], ["s", -2.0]]}}))
    assert vocabulary_words(unigram) == {"chance"}


@pytest.mark.parametrize("text", [None, "{not json", '{"model": {"type": "WordPiece"}}', '["a list"]'])
def test_no_readable_vocabulary_is_an_empty_list_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str | None
) -> None:
    path = tmp_path / "tokenizer.json"
    if text is not None:
        path.write_text(text)
    with caplog.at_level(logging.WARNING, logger="index.embed"):
        assert vocabulary_words(path) == frozenset()
    assert "no word list" in caplog.text


def test_a_model_without_a_tokenizer_gives_no_words_and_search_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    """The test suite's hash embedder names no package: its searcher corrects as before."""
    with caplog.at_level(logging.WARNING, logger="index.embed"):
        assert Embedder(model="no-such-model-package").words() == frozenset()
    assert "no word list for model 'no-such-model-package'" in caplog.text
