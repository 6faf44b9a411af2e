"""Sentence units of the answers (index/sentences.py): the splitter on
markdown, which chunks give units, and the units of the shipped bank."""

from __future__ import annotations

from index.sentences import MIN_WORDS, chunk_body, chunk_sentences, split_sentences
from index.store import IndexArtifact
from ingest.models import Chunk


def test_prose_is_split_at_sentence_ends_and_markup_is_stripped() -> None:
    body = (
        "The **bias** of a model is its error from *wrong assumptions*. High bias means underfitting! "
        "Is variance the opposite? Yes.\n"
        "> A `quoted` line about the tradeoff in practice.\n"
        "## A heading of several words here"
    )
    assert split_sentences(body) == [
        "The bias of a model is its error from wrong assumptions .",  # markup becomes a space
        "High bias means underfitting!",
        "Is variance the opposite?",  # "Yes." is under four words: dropped
        "A quoted line about the tradeoff in practice.",
        "A heading of several words here",
    ]


def test_a_decimal_or_lowercase_continuation_does_not_end_a_sentence() -> None:
    assert split_sentences("Set the rate to 0.01 and decay it. e.g. halve it every ten epochs of training.") == [
        "Set the rate to 0.01 and decay it. e.g. halve it every ten epochs of training."
    ]


def test_list_items_are_units_of_their_own() -> None:
    body = (
        "Key points:\n\n- **Bias**: error from simple models\n* Variance: error from noise in data\n"
        "1. Regularize the weights early\n2) Use more data if you can"
    )
    assert split_sentences(body) == [
        "Bias : error from simple models",
        "Variance: error from noise in data",
        "Regularize the weights early",
        "Use more data if you can",
    ]


def test_code_blocks_and_display_math_are_dropped() -> None:
    body = (
        "Fit the model first and check it.\n"
        "```python\nmodel.fit(X, y)  # This is a long comment line in code.\nprint('Done with it now.')\n```\n"
        "$$\nE[(y - f(x))^2] = Bias^2 + Var + sigma^2 over all the samples\n$$\n"
        "$$\\text{Expected Error} = \\text{Bias}^2$$\n"
        "$x$ inline maths at the start of a line is skipped\n"
        "Then read the validation curve carefully."
    )
    assert split_sentences(body) == ["Fit the model first and check it.", "Then read the validation curve carefully."]


def test_an_unclosed_code_fence_drops_the_rest() -> None:
    assert split_sentences("Run this snippet to see it.\n```bash\npip install something big and slow here") == [
        "Run this snippet to see it."
    ]


def test_each_table_row_is_one_unit_with_its_headers() -> None:
    body = (
        "| Model Complexity | Bias | Variance |\n"
        "|------------------|:----:|---------:|\n"
        "| Low (Linear) | **High** | Low |\n"
        "| High (Deep NN) | Low | |\n"
        "| Tiny | | |\n"
        "\n"
        "| A | B |\n|---|---|\n| x | y |"
    )
    assert split_sentences(body) == [
        "Low (Linear): Bias High; Variance Low",
        "High (Deep NN): Bias Low",
        # "Tiny" alone and "x: B y" are under four words
    ]


def test_units_come_from_answer_sections_and_insights_only() -> None:
    def chunk(kind: str, text: str, heading: str | None = None) -> Chunk:
        return Chunk(f"q#{kind}", "q", "q", kind, "Title", heading, text)  # type: ignore[arg-type]

    section = chunk(
        "section", "What is X?\nThe Core Concept\nX is a thing that does many things well.", "The Core Concept"
    )
    assert chunk_body(section) == "X is a thing that does many things well."
    chunks = [
        chunk("title", "What is X?\nTags of the question here"),
        section,
        chunk("insight", "What is X?\nKey insight: always scale features before fitting."),
        chunk("quick_reference", "What is X? a row title with several words"),
        chunk("article", "What is X?\nA fetched page sentence with words."),
        chunk("expansion", "What is X?\nA generated overview sentence with words."),
    ]
    assert chunk_sentences(chunks) == [
        (1, "X is a thing that does many things well."),
        (2, "Key insight: always scale features before fitting."),
    ]


def test_the_shipped_bank_has_units_for_every_answer(artifact: IndexArtifact) -> None:
    units = artifact.sentences
    assert units is not None and len(units) == 657
    owners = {artifact.chunks[int(i)].doc_id for i in units.chunks}
    assert owners == {q.id for q in artifact.questions}  # every full answer, no quick-reference row
    found = chunk_sentences(artifact.chunks)
    assert [p for p, _ in found] == units.chunks.tolist()
    assert all(len(text.split()) >= MIN_WORDS and "```" not in text and "$$" not in text for _, text in found)
