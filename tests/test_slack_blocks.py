"""The Slack reply's pieces without Slack: markdown → mrkdwn, Block Kit within
Slack's limits (on real answers from the session index, and on copies made huge
with ``dataclasses.replace``), thread history, and the dedup/job helpers."""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

import pytest
from test_slack import DROPOUT_ID, DROPOUT_TITLE, block_problems, blocks_of, unescaped

from index.search import Searcher
from ingest.models import CodeBlock, Section
from ingest.pipeline import Corpus
from ingest.textutil import without_code
from qbank.answer import Answer, AnswerComposer
from qbank.answer.markdown import to_markdown
from service.slack import short
from service.slack.blocks import answer_blocks, fallback_text
from service.slack.bot import thread_history
from service.slack.buttons import EXPAND_ACTION, FEEDBACK_DOWN, FEEDBACK_UP, OPEN_ACTION, AnswerRef, asked_query
from service.slack.jobs import JobPool, Seen
from service.slack.kit import CODE_CHARS, MAX_BLOCKS, MESSAGE_CHARS, SECTION_CHARS, is_heading, size
from service.slack.mrkdwn import from_slack, split_mrkdwn, to_mrkdwn
from service.slack.short import short_blocks

BASE = "https://qbank.example.com"
BOT_USER, BOT_ID = "UQBANK0001", "BQBANK0001"


@pytest.fixture(scope="module")
def composer(searcher: Searcher) -> AnswerComposer:
    return AnswerComposer(searcher)


@pytest.fixture(scope="module")
def dropout(composer: AnswerComposer) -> Answer:
    return composer.compose([("user", "how does dropout work")])


# -- markdown → mrkdwn ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("### Bias and Variance", "*Bias and Variance*"),
        ("## **Bold** header", "*Bold header*"),
        ("**Definition:** a *rebase* replays ~~merges~~", "*Definition:* a _rebase_ replays ~merges~"),
        ("see [the answer](/q/abc) and [docs](https://x.org/a?b=1&c=2)",
         f"see <{BASE}/q/abc|the answer> and <https://x.org/a?b=1&amp;c=2|docs>"),
        ("[anchor](#top) and [js](javascript:alert(1))", "anchor and js"),
        ("if a < b && c > d", "if a &lt; b &amp;&amp; c &gt; d"),
        ("use `x<y` and $\\frac{1}{1-p}$", "use `x&lt;y` and 1/(1 − p)"),
        ("$$\\binom{n}{k} < 2^n$$ counts", "`\\binom{n}{k} &lt; 2^n` counts"),
        ("| Norm | Formula |\n|---|---|\n| L1 | $\\lambda \\sum |w_i|$ |", "• *L1* — λ ∑ |wᵢ|"),
        ("- one\n    - nested\n* two", "• one\n    ◦ nested\n• two"),
        ("> **Testing:** depth\n>\n> - a", "> *Testing:* depth\n> \n> • a"),
        ("| Level | Technique |\n|---|---|\n| Data | SMOTE |\n| **Algo** | Class <weights> |",
         "• *Data* — SMOTE\n• *Algo* — Class &lt;weights&gt;"),
        ("| A | B | C |\n|:-|:-:|-:|\n| x | y | z |", "• *x* — B: y; C: z"),
        ("    ```python\n    def f(x):\n        return x < 1\n    ```", "```\ndef f(x):\n    return x &lt; 1\n```"),
        ("text\n\n\n\nmore\n---", "text\n\nmore\n──────────"),
    ],
    ids=["header", "bold header", "emphasis", "links", "unsafe links", "escaping", "code and math", "math fallback",
         "math in a table", "bullets",
         "quote", "table", "wide table", "indented fence", "blank lines and rule"],
)  # fmt: skip
def test_markdown_becomes_slack_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown, BASE + "/") == mrkdwn


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        (f"<@{BOT_USER}> how does dropout work", "how does dropout work"),
        (f"<@{BOT_USER}|qbank> what is &lt;p&gt; &amp; why", "what is <p> & why"),
        ("see <https://x.org/a|this page> in <#C01|ml> <!here>", "see this page in #ml"),
        ("<mailto:a@b.c>", "mailto:a@b.c"),
    ],
)
def test_slack_text_becomes_the_plain_question(text: str, plain: str) -> None:
    assert from_slack(text, BOT_USER) == plain


def test_split_keeps_every_line_and_reopens_cut_code_blocks() -> None:
    code = "\n".join(f"x_{i} = {i}  # {'pad ' * 8}" for i in range(300))
    text = f"*Intro*\n{'word ' * 700}\n```\n{code}\n```\nafter"
    pieces = split_mrkdwn(text, 3000)
    assert len(pieces) > 3
    assert all(len(p) <= 3000 for p in pieces)
    assert all(p.count("```") % 2 == 0 for p in pieces)
    joined = "\n".join(pieces)
    assert all(f"x_{i} = {i}" in joined for i in range(300))
    assert pieces[-1].endswith("after")
    assert split_mrkdwn("short", 3000) == ["short"] and split_mrkdwn("  ", 3000) == []
    with pytest.raises(ValueError, match="at least 40"):
        split_mrkdwn(text, 10)


# -- Block Kit ---------------------------------------------------------------------------


def test_dropout_full_answer_blocks(dropout: Answer) -> None:
    blocks = answer_blocks(dropout, BASE)
    assert block_problems(blocks) == [] and unescaped(blocks) == []
    assert [b["type"] for b in blocks] == ["header", "context", "section", "section", "section", "context", "actions"]
    assert blocks[0]["text"]["text"] == DROPOUT_TITLE
    assert blocks[1]["elements"][0]["text"].startswith("*Difficulty:* Medium · *Asked at:* Amazon, Meta")
    prose, code, insight = (b["text"]["text"] for b in blocks[2:5])
    assert prose.startswith("*How Dropout Works*\nDuring training") and "```" not in prose
    assert "by 1/(1 − p) to maintain" in prose  # the formula as text, not LaTeX
    assert "• *Ensemble* — Training many sub-networks" in prose  # the table, as rows
    assert code.startswith("*Code* (`python`)\n```\nimport torch.nn as nn")
    assert "    def __init__(self):" in code  # indentation kept
    assert insight.startswith("*Interviewer's insight*\n> *What they're testing:*")
    assert f"<{BASE}/q/machine-learning--what-is-regularization" in blocks[5]["elements"][0]["text"]
    buttons = blocks[-1]["elements"]
    assert [e["action_id"] for e in buttons] == [OPEN_ACTION, FEEDBACK_UP, FEEDBACK_DOWN]
    assert AnswerRef.parse(buttons[1]["value"]) == AnswerRef(
        DROPOUT_ID, "how does dropout work", ("how does dropout work",)
    )
    assert asked_query(blocks) == "how does dropout work"
    assert fallback_text(dropout) == DROPOUT_TITLE


def test_dropout_short_answer_is_one_screen(dropout: Answer) -> None:
    ref = AnswerRef(DROPOUT_ID, "how does dropout work", ("how does dropout work",))
    blocks = short_blocks(dropout, BASE, ref)
    assert block_problems(blocks) == [] and unescaped(blocks) == []
    assert [b["type"] for b in blocks] == ["header", "section", "section", "context", "actions"]
    assert blocks[0]["text"]["text"] == DROPOUT_TITLE
    prose, code = (b["text"]["text"] for b in blocks[1:3])
    assert prose.startswith("*How Dropout Works*\nDuring training") and prose.endswith(" …")
    assert prose.count("\n") < short.PROSE_LINES and "Why It Works" not in prose  # one section, a few lines
    assert code.startswith("*Code* (`python`)\n```\nimport torch.nn as nn") and "model.eval()" not in code
    assert code.endswith(f"…\n```\n_Code shortened for Slack: <{BASE}/q/{DROPOUT_ID}|see the full answer>_")
    sources = blocks[3]["elements"][0]["text"].split("\n")
    assert sources[0] == f"1. <{BASE}/q/{DROPOUT_ID}|{DROPOUT_TITLE}>"
    assert sources[1].startswith(f"2. <{BASE}/q/machine-learning--what-is-regularization")
    buttons = blocks[-1]["elements"]
    assert [e["action_id"] for e in buttons] == [EXPAND_ACTION, OPEN_ACTION, FEEDBACK_UP, FEEDBACK_DOWN]
    assert buttons[0]["text"]["text"] == "Show full answer" and buttons[1]["text"]["text"] == "Open"
    assert buttons[1]["url"] == f"{BASE}/q/{DROPOUT_ID}"
    assert {e["value"] for e in buttons if "value" in e} == {ref.value()}
    assert asked_query(blocks) == "how does dropout work"  # what a thread's history reads back
    # a follow-up's answer reads back the person's words, not the query searched for them
    follow = AnswerRef(DROPOUT_ID, "how does dropout work go on", ("how does dropout work", "go on"))
    assert asked_query(short_blocks(dropout, BASE, follow)) == "go on"
    full = answer_blocks(dropout, BASE, ref)
    assert size(blocks) < 3000 and len(blocks) < len(full)
    assert "Interviewer's insight" not in json.dumps(blocks) and "Interviewer's insight" in json.dumps(full)


def test_every_short_answer_of_the_bank_is_short(composer: AnswerComposer, corpus: Corpus) -> None:
    sizes = {}
    for q in corpus.questions:
        composed = composer.compose([("user", q.title)])
        assert composed.record is not None
        blocks = short_blocks(composed, BASE)
        assert block_problems(blocks) == [] and unescaped(blocks) == [], q.title
        assert len(blocks) <= 5 and blocks[0]["type"] == "header" and blocks[-1]["type"] == "actions", q.title
        lines = sum(b["text"]["text"].count("\n") + 1 for b in blocks_of("section", blocks))
        assert lines <= short.PROSE_LINES + short.CODE_LINES + 6, q.title  # about one phone screen
        sizes[q.title] = size(blocks)
    assert max(sizes.values()) <= 4000, max(sizes.items(), key=lambda kv: kv[1])


def bare_headings(blocks: list[dict[str, Any]]) -> list[str]:
    """Section lines that are only a bold heading and head nothing: the last
    line of their block, or followed by another heading."""
    found = []
    for b in blocks_of("section", blocks):
        lines = [line for line in b["text"]["text"].split("\n") if line.strip()]
        for line, following in zip(lines, [*lines[1:], None], strict=True):
            if is_heading(line) and (following is None or is_heading(following)):
                found.append(line)
    return found


def test_no_heading_stands_alone_in_any_answer_of_the_bank(composer: AnswerComposer, corpus: Corpus) -> None:
    """Every question of the bank, with the sections chosen for its title and
    with all its sections (so every section of the bank is shown), short and full."""
    assert len(corpus.questions) == 49
    code_only = 0
    for q in corpus.questions:
        composed = composer.compose([("user", q.title)])
        code_only += sum(1 for s in q.sections if s.code_blocks and not without_code(s.markdown))
        for answer in (composed, dataclasses.replace(composed, sections=q.sections)):
            for blocks in (short_blocks(answer, BASE), answer_blocks(answer, BASE)):
                assert bare_headings(blocks) == [], q.title
    assert code_only > 40  # sections that are all code: the case this guards


def test_a_section_of_only_code_lends_its_heading_to_the_code(composer: AnswerComposer) -> None:
    composed = composer.compose([("user", "explain bagging")])
    bagging = composed.sections[0]
    assert bagging.heading == "Bagging (Bootstrap Aggregating)" and not without_code(bagging.markdown)
    for blocks in (short_blocks(composed, BASE), answer_blocks(composed, BASE)):
        texts = [b["text"]["text"] for b in blocks_of("section", blocks)]
        assert not any(t.rstrip().endswith("*Bagging (Bootstrap Aggregating)*") for t in texts)
        (code,) = [t for t in texts if "```" in t]
        assert code.startswith("*Bagging (Bootstrap Aggregating)* (`python`)\n```\nfrom sklearn.ensemble import")


def test_code_from_a_section_not_shown_keeps_that_sections_heading(composer: AnswerComposer) -> None:
    """ "how does k-means pick k": the bank's "Choosing K (Elbow Method)" section is all code
    and not among the chosen ones; its code, shown after them, goes under that heading, in
    the markdown and in Slack, not under "Code"."""
    composed = composer.compose([("user", "how does k-means pick k")])
    assert "Choosing K (Elbow Method)" not in {s.heading for s in composed.sections}
    assert composed.code and composed.code_heading(composed.code[0]) == "Choosing K (Elbow Method)"
    lines = to_markdown(composed).split("\n")
    label = lines.index("**Choosing K (Elbow Method):**")
    assert lines[label + 2] == "```python" and "**Code:**" not in lines
    (code,) = [
        b["text"]["text"] for b in blocks_of("section", answer_blocks(composed, BASE)) if "```" in b["text"]["text"]
    ]
    assert code.startswith("*Choosing K (Elbow Method)* (`python`)")


def test_code_from_a_section_with_prose_not_shown_is_just_code(composer: AnswerComposer) -> None:
    """A block from a section whose prose is not shown is "Code": that heading would head
    text that is not there."""
    composed = composer.compose([("user", "show me pytorch code for dropout")])
    (block,) = composed.code
    holder = next(s for s in composed.record.sections if block in s.code_blocks)  # type: ignore[union-attr]
    assert without_code(holder.markdown) and composed.code_heading(block) is None


def test_code_comes_first_when_code_is_asked_for(composer: AnswerComposer) -> None:
    composed = composer.compose([("user", "show me pytorch code for dropout")])
    blocks = answer_blocks(composed, BASE)
    assert blocks[0]["text"]["text"] == DROPOUT_TITLE
    assert blocks[2]["text"]["text"].startswith("*Code*")


def test_huge_answer_is_split_and_cut_within_slack_limits(dropout: Answer) -> None:
    long_code = "\n".join(f"weights_{i} = layer_{i}(inputs) < threshold" for i in range(400))
    huge = dataclasses.replace(
        dropout,
        code=(CodeBlock("python", long_code),),
        sections=tuple(Section(f"Part {i}", "A long paragraph & more. " * 400) for i in range(30)),
    )
    blocks = answer_blocks(huge, BASE)
    assert block_problems(blocks) == [] and unescaped(blocks) == []
    assert len(blocks) <= MAX_BLOCKS and MESSAGE_CHARS - 1500 < size(blocks) <= MESSAGE_CHARS
    assert blocks[0]["type"] == "header" and blocks[-1]["type"] == "actions"
    note = f"_Answer shortened for Slack: <{BASE}/q/{DROPOUT_ID}|open the full answer>_"
    texts = [b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in blocks[2:-1]]
    cut = texts.index(note)  # the prose is cut; code, insight and related questions stay
    assert cut >= 2 and texts[0].startswith("*Part 0*\nA long paragraph &amp; more.")
    last = texts[cut - 1]  # the last prose block is cut at a word, and says so
    assert last.endswith(" …") and f"{last.removesuffix(' …')} " in "*Part 1*\n" + "A long paragraph &amp; more. " * 400
    assert texts[cut + 1].startswith("*Code*") and texts[cut + 2].startswith("*Interviewer's insight*")
    assert texts[cut + 3].startswith("*Related:*") and cut + 4 == len(texts)
    (code,) = [b["text"]["text"] for b in blocks_of("section", blocks) if b["text"]["text"].startswith("*Code*")]
    assert "weights_0 = layer_0(inputs) &lt; threshold" in code and "weights_399" not in code
    assert code.endswith(f"…\n```\n_Code shortened for Slack: <{BASE}/q/{DROPOUT_ID}|see the full answer>_")
    assert len(code) <= SECTION_CHARS and CODE_CHARS < SECTION_CHARS


def test_off_topic_answer_has_no_title_or_buttons(composer: AnswerComposer) -> None:
    composed = composer.compose([("user", "what is the best pizza in naples")])
    assert composed.abstained
    blocks = answer_blocks(composed, BASE)
    assert block_problems(blocks) == []
    assert [b["type"] for b in blocks] == ["section", "context"]
    assert all(f"• {example}" in blocks[0]["text"]["text"] for example in composer.catalog.examples)
    assert asked_query(blocks) is None


@pytest.mark.parametrize("render", [answer_blocks, short_blocks])
def test_a_company_that_asks_nothing_on_the_topic_is_said_under_the_title(composer: AnswerComposer, render) -> None:  # type: ignore[no-untyped-def]
    composed = composer.compose([("user", "does uber ask about dropout")])
    blocks = render(composed, BASE)
    assert block_problems(blocks) == []
    assert blocks[0]["text"]["text"] == DROPOUT_TITLE
    notes = [b["elements"][0]["text"] for b in blocks_of("context", blocks)]
    assert "None of Uber's questions in the bank is close to this; this is the bank's answer." in notes


def test_thanks_is_a_reply_without_title_or_buttons(composer: AnswerComposer) -> None:
    composed = composer.compose([("user", "what is dropout"), ("user", "thanks!")])
    blocks = short_blocks(composed, BASE)
    assert block_problems(blocks) == [] and not blocks_of("header", blocks) and not blocks_of("actions", blocks)
    assert blocks[0]["text"]["text"].startswith("You're welcome. Ask a follow-up on “What is Dropout")
    assert fallback_text(composed).startswith("You're welcome.")


def test_a_notification_shows_a_links_label_not_its_markdown(composer: AnswerComposer) -> None:
    """The practice reply's fallback text carried "[Practice](/practice?company=Google)" (tester finding)."""
    composed = composer.compose([("user", "im prepping for a google interview")])
    text = fallback_text(composed)
    assert text.startswith("To practise, open Practice: ") and "](" not in text and "/practice" not in text


def test_quick_reference_answer(composer: AnswerComposer) -> None:
    composed = composer.compose([("user", "explain word2vec")])
    record = composed.record
    assert record is not None and record.kind == "quick_reference" and not composed.passages
    blocks = answer_blocks(composed, BASE)
    assert block_problems(blocks) == []
    assert blocks[0]["text"]["text"] == record.title
    assert "The bank has no curated answer for this topic" in blocks_of("section", blocks)[0]["text"]["text"]
    assert blocks[-1]["elements"][0]["url"] == f"{BASE}/q/{record.id}"
    brief = short_blocks(composed, BASE)
    assert block_problems(brief) == []
    assert "None of the bank's full answers discusses it either." in brief[1]["text"]["text"]
    assert EXPAND_ACTION not in json.dumps(brief)  # nothing more to show


def test_quick_reference_short_answer_shows_where_the_bank_discusses_it(composer: AnswerComposer) -> None:
    composed = composer.compose([("user", "Concept Drift in Machine Learning")])
    record = composed.record
    assert record is not None and composed.kind == "quick_reference" and len(composed.passages) >= 2
    blocks = short_blocks(composed, BASE)
    assert block_problems(blocks) == [] and [b["type"] for b in blocks] == ["header", "section", "context", "actions"]
    first = composed.passages[0]
    assert f"*{first.heading}*, from <{BASE}/q/{first.record.id}|" in blocks[1]["text"]["text"]
    assert composed.passages[1].heading not in blocks[1]["text"]["text"]  # one passage; the rest when expanded
    sources = blocks[2]["elements"][0]["text"]
    assert sources.startswith(f"1. <{BASE}/q/{record.id}|") and f"/q/{first.record.id}|" in sources
    assert blocks[-1]["elements"][0]["action_id"] == EXPAND_ACTION


def test_button_value_fits_and_keeps_the_latest_turns() -> None:
    ref = AnswerRef("q-" * 900, "why " * 1000, ("why " * 1000,))
    parsed = AnswerRef.parse(ref.value())
    assert len(ref.value()) <= 2000
    assert parsed is not None and parsed.question_id == "q-" * 900 and parsed.query.startswith("why why")
    assert len(AnswerRef.parse(AnswerRef("q", "why " * 1000).value()).query) == 500  # type: ignore[union-attr]
    turns = tuple(f"turn {i} " + "x" * 600 for i in range(5))
    kept = AnswerRef.parse(AnswerRef("q", "query", turns).value())
    assert kept is not None and kept.turns == tuple(t[:500] for t in turns[-3:])  # each cut, the oldest dropped
    assert AnswerRef.parse(json.dumps({"question_id": "q", "query": "old button"})) == AnswerRef(
        "q", "old button", ("old button",)
    )  # a value from before turns were carried stands for its query
    assert AnswerRef.parse("not json") is None
    assert AnswerRef.parse(json.dumps({"query": "no id"})) is None


# -- thread history ------------------------------------------------------------------------


def test_thread_history_turns(dropout: Answer) -> None:
    """Our answers are short cards: the question is read back from their buttons."""
    ours = {
        "ts": "3.0",
        "user": BOT_USER,
        "bot_id": BOT_ID,
        "text": DROPOUT_TITLE,
        "blocks": short_blocks(dropout, BASE),
    }
    messages = [
        {"ts": "5.0", "user": "U1", "text": "and the code?"},  # the current message: left out
        ours,
        {"ts": "1.0", "user": "U1", "text": f"<@{BOT_USER}> how does dropout work"},
        {"ts": "4.0", "bot_id": "BOTHER", "subtype": "bot_message", "text": "beep"},
        {"ts": "4.5", "user": "U2", "text": "nice &amp; clear"},
    ]
    assert thread_history(messages, "5.0", BOT_USER, BOT_ID) == [
        ("user", "how does dropout work"),
        ("assistant", DROPOUT_TITLE),
        ("user", "nice & clear"),
    ]
    # an /ask answer at the top of a thread: its question is read back from its buttons
    assert thread_history([ours], "9.0", BOT_USER, BOT_ID) == [
        ("user", "how does dropout work"),
        ("assistant", DROPOUT_TITLE),
    ]


# -- jobs ---------------------------------------------------------------------------------------


def test_seen_is_once_per_key_within_its_ttl_and_bounded() -> None:
    now = [0.0]
    seen = Seen(ttl_s=60, max_items=3, clock=lambda: now[0])
    assert seen.first("Ev1") and not seen.first("Ev1") and seen.first("Ev2")
    now[0] = 61.0
    assert seen.first("Ev1")  # expired
    for key in ("a", "b", "c", "d"):
        assert seen.first(key)
    assert seen.first("a")  # the oldest was dropped to stay within max_items
    with pytest.raises(ValueError, match="positive"):
        Seen(ttl_s=0)


def test_job_pool_waits_for_jobs_started_by_jobs() -> None:
    pool = JobPool(2)
    gate, done = threading.Event(), []

    def child() -> None:
        gate.wait(5)
        done.append("child")

    pool.submit(lambda: pool.submit(child))
    assert not pool.wait_idle(0.1)
    gate.set()
    assert pool.wait_idle(5) and done == ["child"] and pool.in_flight == 0
    with pytest.raises(ValueError, match="positive"):
        JobPool(0)
    pool.shutdown()
