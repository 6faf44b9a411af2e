"""The UI without a browser: markdown rendering (whole, block by block, and
while it is written), the conversation link, and the pages through TestClient."""

from __future__ import annotations

import base64
import html as html_lib
import json
import re
from collections.abc import Iterator
from html import escape as html_escape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import CONTENT, ENSEMBLE_ID, FAKE_MARKDOWN, MARKDOWN_MARKS, parse_sse, service_settings

from index.embed import Embedder
from index.engine import IngestReport
from service import share
from service.app import create_app
from service.live import Block, LiveBlocks, LiveEvent, Tail
from service.render import code_css, render_blocks, render_markdown
from service.schemas import FiltersIn

PRF1 = "machine-learning--explain-precision-recall-and-f1-score"
BIAS_VARIANCE = "machine-learning--what-is-the-bias-variance-tradeoff-in-machine-learning"
XSS = "<img src=x onerror=alert(1)>"


# -- render_markdown ----------------------------------------------------------------


def test_table_becomes_an_html_table() -> None:
    out = render_markdown("| Technique | When |\n|---|---|\n| SMOTE | Moderate imbalance |\n")
    assert "<table>" in out
    assert "<th>Technique</th>" in out and "<td>SMOTE</td>" in out


def test_code_is_highlighted_with_its_language_and_a_copy_button() -> None:
    out = render_markdown("```python\nfrom imblearn.over_sampling import SMOTE\nx = 1\n```\n")
    assert '<span class="lang">python</span>' in out
    assert '<button type="button" class="copy"' in out
    assert '<pre class="highlight"><code class="language-python">' in out
    assert '<span class="kn">from</span>' in out  # a Pygments keyword token
    assert '<span class="n">SMOTE</span>' in out


@pytest.mark.parametrize(
    ("info", "label"),
    [("", "text"), ("not-a-language", "not-a-language"), ('py"><script>', "pyscript")],
)
def test_code_without_a_known_language_is_plain_and_its_label_escaped(info: str, label: str) -> None:
    out = render_markdown(f"```{info}\na < b\n```\n")
    assert f'<span class="lang">{label}</span>' in out
    assert "a &lt; b" in out and "<script>" not in out


@pytest.mark.parametrize(
    ("md", "display", "element"),
    [
        ("$$x^2$$", "block", "<msup><mi>x</mi><mn>2</mn></msup>"),
        ("where $w_t$ is the weight", "inline", "<msub><mi>w</mi><mi>t</mi></msub>"),
        (r"$$\text{Precision} = \frac{TP}{TP + FP}$$", "block", "<mfrac>"),
    ],
)
def test_latex_becomes_mathml(md: str, display: str, element: str) -> None:
    out = render_markdown(md)
    assert f'<math display="{display}">' in out
    assert element in out
    assert "$" not in out


def test_markdown_syntax_inside_formulas_is_left_to_the_math() -> None:
    out = render_markdown(r"$a_1 * b_2 * c_3$ and $x_i$ then $y_i$")
    assert "<em>" not in out and out.count("<math") == 3


def test_pipes_inside_a_formula_do_not_split_a_table_cell() -> None:
    out = render_markdown("| Name | Formula |\n|---|---|\n| Penalty | $\\lambda \\sum |w_i|$ |\n")
    row = re.search(r"<tr>\s*<td>Penalty</td>\s*<td>(.*?)</td>\s*</tr>", out, re.S)
    assert row is not None and row.group(1).startswith("<math") and "<mo stretchy" in row.group(1)


@pytest.mark.parametrize(
    "md",
    ["Costs $5 and $10 today.", "`echo $HOME $PATH`", "```bash\necho $HOME and $PATH\n```", r"A \$5 note and $ alone"],
)
def test_dollars_that_are_not_math_stay_dollars(md: str) -> None:
    out = render_markdown(md)
    assert "<math" not in out and "$" in out


def test_raw_html_in_markdown_is_escaped() -> None:
    out = render_markdown(f"Before {XSS} after\n\n<script>alert(1)</script>\n")
    assert "<img" not in out and "<script" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out


def test_html_smuggled_through_latex_text_is_not_rendered() -> None:
    """latex2mathml copies \\text{...} through unescaped; the renderer must not."""
    for tex in (r"$\text{<img src=x onerror=alert(1)>}$", r"$$\text{<b onmouseover=alert(1)>x</b>}$$"):
        out = render_markdown(tex)
        assert "<img" not in out and "<b " not in out and "onerror=alert(1)>" not in out.replace("&gt;", "")


def test_unconvertible_latex_falls_back_to_the_escaped_source() -> None:
    out = render_markdown(r"$$\frac{1}{$$")
    assert out.strip() == r'<p><code class="math-source">$$\frac{1}{$$</code></p>'


def test_links_relative_kept_external_new_tab_javascript_dropped() -> None:
    out = render_markdown("[Full answer](/q/abc) [Practice](https://example.com/p) [x](javascript:alert(1))")
    assert '<a href="/q/abc">Full answer</a>' in out
    assert '<a href="https://example.com/p" rel="noopener noreferrer" target="_blank">Practice</a>' in out
    assert 'href="javascript' not in out


def test_code_css_has_light_and_dark_token_colours() -> None:
    css = code_css()
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    assert ".highlight .k {" in light and ".highlight .k {" in dark


# -- block by block, and while it is written -------------------------------------------


def _bank_entries() -> list[str]:
    """Every entry of every shipped bank page, as markdown."""
    return [e for page in sorted(CONTENT.glob("*.md")) for e in page.read_text().split("\n### ") if e.strip()]


def test_the_blocks_of_every_bank_entry_add_up_to_its_whole_rendering() -> None:
    entries = _bank_entries()
    assert len(entries) > 40
    for entry in entries:
        blocks = render_blocks(entry)
        assert "".join(blocks) == render_markdown(entry)
        assert all(b.startswith("<") and b.endswith("\n") for b in blocks)


def test_blocks_are_the_top_level_parts() -> None:
    md = "### Title\n\npara with **bold**\n\n- a\n- b\n\n```python\nx = 1\n```\n\n> quote\n\n| a |\n|---|\n| 1 |\n"
    blocks = render_blocks(md)
    assert [re.match(r"<(\w+)", b).group(1) for b in blocks] == ["h3", "p", "ul", "div", "blockquote", "table"]


@pytest.mark.parametrize(
    ("unfinished", "shown"),
    [
        ("**Bagging** trains *in par", "<strong>Bagging</strong> trains in par"),
        ("see [the full answer](/q/mach", "see the full answer"),
        ("see [the full", "see [the full"),
        ("use `max_dep", "use max_dep"),
        ("keep snake_case and __init", "keep snake_case and init"),
        ("the ratio $$\\frac{TP}{TP", "the ratio "),
    ],
)
def test_an_unfinished_block_hides_its_open_marks(unfinished: str, shown: str) -> None:
    (block,) = render_blocks(unfinished, unfinished=True)
    assert block == f"<p>{shown}</p>\n"


def _replay(events: list[LiveEvent], blocks: list[str], tail: str) -> tuple[list[str], str]:
    for e in events:
        blocks = [*blocks[: e.index], e.html] if isinstance(e, Block) else blocks[: e.index]
        tail = "" if isinstance(e, Block) else e.html
    return blocks, tail


def _visible(html: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<(pre|code|math)\b.*?</\1>", "", html, flags=re.S)))


def test_text_written_one_character_at_a_time_never_shows_markdown() -> None:
    table = "| Method | Lowers |\n|---|---|\n| **Bagging** | variance |\n"
    md = f"{FAKE_MARKDOWN}\n{table}\nWhere $x_i^2$ and $$a_1 * b_2$$ hold.\n"
    live = LiveBlocks(min_interval_s=0)
    blocks: list[str] = []
    tail = ""
    for ch in md:
        blocks, tail = _replay(live.feed(ch), blocks, tail)
        text = _visible("".join(blocks) + tail)
        assert not [m for m in MARKDOWN_MARKS if m in text], text
    blocks, tail = _replay(live.finish(), blocks, tail)
    assert "".join(blocks) == render_markdown(md) and tail == ""


def test_a_finished_block_is_sent_once_and_the_tail_as_it_grows() -> None:
    live = LiveBlocks(min_interval_s=0)
    assert live.feed("### Ti") == [Tail(0, "<h3>Ti</h3>\n")]
    assert live.feed("tle\n\nSo") == [Block(0, "<h3>Title</h3>\n"), Tail(1, "<p>So</p>\n")]
    assert live.feed("me **te") == [Tail(1, "<p>Some te</p>\n")]
    assert live.finish() == [Block(1, "<p>Some **te</p>\n")]  # finished: shown as written, as the final page does


def test_a_block_that_later_text_changes_is_sent_again() -> None:
    live = LiveBlocks(min_interval_s=0)
    _replay(live.feed("Intro\n\n$$\nx\n\ny\n"), [], "")  # a blank line inside a display formula: two paragraphs
    assert live.sent == ["<p>Intro</p>\n", "<p>$$\nx</p>\n"]
    events = live.feed("$$\n")  # closed: one formula, which replaces the paragraph sent as finished
    assert events[0] == Tail(1, render_blocks("Intro\n\n$$\nx\n\ny\n$$\n", unfinished=True)[1])
    assert "<math" in events[0].html


def test_rendering_waits_min_interval_between_pieces() -> None:
    now = [0.0]
    live = LiveBlocks(min_interval_s=0.05, clock=lambda: now[0])
    assert live.feed("Hel") == [Tail(0, "<p>Hel</p>\n")]
    assert live.feed("lo") == []  # too soon: only added
    now[0] = 0.06
    assert live.feed("!") == [Tail(0, "<p>Hello!</p>\n")]
    with pytest.raises(ValueError, match="min_interval_s must be >= 0"):
        LiveBlocks(min_interval_s=-1)


def test_reset_starts_over() -> None:
    live = LiveBlocks(min_interval_s=0)
    live.feed("para\n\nnext")
    live.reset()
    assert live.feed("Other") == [Tail(0, "<p>Other</p>\n")]


# -- the conversation link ------------------------------------------------------------


def test_a_link_round_trips_questions_and_filters() -> None:
    turns = [
        share.SharedTurn(q="what does Uber ask? — ünïcode ✓"),
        share.SharedTurn(q="which of those are hard?", f=FiltersIn(difficulty="Hard")),
    ]
    token = share.encode(turns)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert share.decode(token) == turns
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert raw == [{"q": turns[0].q}, {"q": "which of those are hard?", "f": {"difficulty": "Hard"}}]


def test_a_long_conversation_keeps_its_last_turns_that_fit() -> None:
    turns = [share.SharedTurn(q=f"{i} " + "x" * 1500) for i in range(20)]
    kept = share.decode(share.encode(turns))
    assert kept == turns[-len(kept) :] and 1 < len(kept) < share.MAX_TURNS


def _token(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


BAD_LINKS = {
    "not base64": "%%%",
    "not JSON": base64.urlsafe_b64encode(b"not json").decode(),
    "JSON, not a list": _token({"q": "explain bagging"}),
    "no questions": _token([]),
    "an empty question": _token([{"q": ""}]),
    "an unknown field": _token([{"q": "explain bagging", "answer": "<b>made up</b>"}]),
    "an unknown filter": _token([{"q": "explain bagging", "f": {"salary": "high"}}]),
    "too many questions": _token([{"q": "explain bagging"}] * (share.MAX_TURNS + 1)),
    "too long": "A" * (share.MAX_LINK_CHARS + 4),
    "not UTF-8": base64.urlsafe_b64encode(b"\xff\xfe[]").decode(),
    # json.loads raised RecursionError: a 500 (attack run)
    "nested too deep": base64.urlsafe_b64encode(b"[" * 2990 + b"]" * 2990).decode().rstrip("="),
}


@pytest.mark.parametrize("token", BAD_LINKS.values(), ids=BAD_LINKS.keys())
def test_a_damaged_link_is_refused_with_a_reason(token: str) -> None:
    with pytest.raises(share.Invalid, match="link"):
        share.decode(token)


# -- the pages ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(embedder: Embedder, built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = service_settings(built.path, tmp_path_factory.mktemp("ui-pages"))
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as c:
        yield c


def test_chat_page_is_served_with_its_assets(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<textarea id="message"' in html
    examples = client.app.state.qbank.engine.composer.catalog.examples  # type: ignore[attr-defined]
    assert all(f">{html_escape(e)}</button>" in html for e in examples)  # the banks' own examples
    for asset in re.findall(r'(?:href|src)="(/[^"]+)"', html):
        got = client.get(asset)
        assert got.status_code == 200, asset
    assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", html)  # nothing from elsewhere
    assert client.get("/favicon.ico").headers["content-type"] == "image/svg+xml"


def test_question_page_renders_the_whole_curated_answer(client: TestClient) -> None:
    api = client.get(f"/api/questions/{BIAS_VARIANCE}").json()
    r = client.get(f"/q/{BIAS_VARIANCE}")
    assert r.status_code == 200
    html = r.text
    assert f"<h1>{api['title']}</h1>" in html
    assert html.count('<math display="block">') >= len(api["formulas"]) == 2
    assert html.count('<div class="code">') == len(api["code"])
    assert "<table>" in html
    assert '<h2 id="insight-title">Interviewer\'s insight</h2>' in html
    assert render_markdown(api["insight"]) in html
    assert render_markdown(api["answer_markdown"]) in html
    for related in api["related"]:
        assert f'href="/q/{related["id"]}"' in html
    # the bank's outside article is named so, not "Practice" like the site's own practice page
    link = re.search(r'<a class="button secondary" href="https?://[^"]+"[^>]*>(.*?)</a>', html)
    assert link and link.group(1).startswith("Practice article") and "new tab" in link.group(1)


def test_quick_reference_page_links_to_its_full_answer(client: TestClient) -> None:
    ref = client.get(f"/api/questions/{PRF1}").json()["quick_reference"][0]
    html = client.get(f"/q/{ref['id']}").text
    assert f'href="/q/{PRF1}"' in html and "quick-reference entry" in html


def test_unknown_question_is_a_404_page(client: TestClient) -> None:
    r = client.get("/q/no-such-question")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Question not found" in r.text


@pytest.mark.parametrize("params", [{}, {"difficulty": "Hard"}, {"company": "Netflix", "tag": "Classification"}])
def test_browse_lists_what_the_questions_api_lists(client: TestClient, params: dict[str, str]) -> None:
    api = client.get("/api/questions", params=params | {"limit": 50}).json()
    html = client.get("/browse", params=params).text
    assert f"{api['total']} question" in html
    ids = re.findall(r'<a class="title" href="/q/([^"]+)"', html)
    assert ids == [item["id"] for item in api["items"]]


@pytest.mark.parametrize(
    ("query", "address"),
    [
        ("google", "/browse?company=Google"),
        ("amazon hard questions", "/browse?company=Amazon&difficulty=Hard"),
        ("what does gogle ask", "/browse?company=Google"),
    ],
)
def test_a_browse_search_for_a_company_list_browses_the_whole_list(
    client: TestClient, query: str, address: str
) -> None:
    """The search ranked Google's 102 records and stopped at a page of 50 with no "Next";
    "amazon hard questions" found nothing.  The list is browsed instead, paged."""
    r = client.get("/browse", params={"q": query}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == address
    page = client.get(address)
    api = client.get("/api/questions", params=dict(re.findall(r"(\w+)=(\w+)", address)) | {"limit": 50}).json()
    assert f"{api['total']} question" in page.text and api["total"] > 0
    assert client.get("/browse", params={"q": "dropout"}, follow_redirects=False).status_code == 200  # a topic
    # another company already chosen: the search runs, the typed company is not swapped for it
    other = client.get("/browse", params={"q": "google", "company": "Amazon"}, follow_redirects=False)
    assert other.status_code == 200
    same = client.get("/browse", params={"q": "google hard questions", "company": "Google"}, follow_redirects=False)
    assert same.status_code == 303 and same.headers["location"] == "/browse?company=Google&difficulty=Hard"


def test_a_browse_search_refused_within_the_filters_says_the_bank_has_it(client: TestClient) -> None:
    """ "dropout" among Uber's questions: refused within the filter, and the page said "No
    question in the bank matches", though the bank's dropout answer is one search away."""
    _, status, html = _browse(client, q="dropout", company="Uber")
    assert status == "No question matches “dropout” with these filters."
    assert "search again without the filters" in html
    _, status, _ = _browse(client, q="how do i center a div in css", company="Uber")
    assert status == "No question in the bank matches “how do i center a div in css”."


def test_a_browse_page_past_the_end_goes_to_the_last_page(client: TestClient) -> None:
    total = client.get("/api/questions", params={"company": "Google", "limit": 1}).json()["total"]
    r = client.get("/browse", params={"company": "Google", "offset": 500}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/browse?company=Google&offset={(total - 1) // 50 * 50}"


@pytest.mark.parametrize("path", ["/browse", "/practice"])
def test_the_bank_menu_shows_the_banks_title(client: TestClient, path: str) -> None:
    """The menu read "machine-learning (102)", the bank's slug; the filter's value stays the slug."""
    (menu,) = re.findall(r'<select name="bank">(.*?)</select>', client.get(path).text, re.S)
    assert re.search(r'<option value="machine-learning">Machine Learning Interview Questions \(\d+\)</option>', menu)


def test_the_practice_menus_count_what_practice_can_deal(client: TestClient) -> None:
    """The menus counted browse's records, quick-reference rows included: "Reinforcement
    Learning (4)" led to an empty deck.  Each option's count is its deck's size now, and a
    topic of rows only is not offered."""
    html = client.get("/practice").text
    (menu,) = re.findall(r'<select name="tag">(.*?)</select>', html, re.S)
    tags = dict(re.findall(r'<option value="([^"]+)"[^>]*>[^<]*\((\d+)\)</option>', menu))
    browse = client.get("/api/facets").json()["tags"]
    rows_only = [f["value"] for f in browse if f["value"] not in tags]
    assert rows_only, "every topic has a full answer: nothing to check"
    for tag in [*list(tags)[:3], rows_only[0]]:
        deck = client.get("/api/practice/next", params={"tag": tag}).json()["questions"]
        assert deck == int(tags.get(tag, 0)), tag
    hard = re.search(r'<option value="Hard"[^>]*>Hard \((\d+)\)</option>', html)
    assert (
        hard
        and int(hard.group(1)) == client.get("/api/practice/next", params={"difficulty": "Hard"}).json()["questions"]
    )


def _browse(client: TestClient, **params: str) -> tuple[list[str], str, str]:
    """The ids a browse search lists, its status line and the page."""
    html = client.get("/browse", params=params).text
    ids = re.findall(r'<a class="title" href="/q/([^"]+)"', html)
    status = re.search(r'<p class="count[^"]*" role="status">(.*?)</p>', html, re.S)
    assert status is not None
    return ids, html_lib.unescape(status.group(1)), html


def test_browse_search_shows_the_matches_of_the_search_api_ranking(client: TestClient) -> None:
    api = client.get("/api/search", params={"q": "gradient descent", "k": 50}).json()
    ids, status, _ = _browse(client, q="gradient descent")
    assert ids[0] == "machine-learning--how-does-gradient-descent-work"
    assert 1 <= len(ids) < 10  # the questions about it, not the 50 least bad
    assert ids == [h["id"] for h in api["hits"]][: len(ids)]  # in the API's order
    assert status == f"{len(ids)} results for “gradient descent”"


@pytest.mark.parametrize("query", ["xyzzy quux", "what's the best pizza in naples?"])
def test_browse_search_for_nonsense_lists_nothing_and_says_so(client: TestClient, query: str) -> None:
    assert client.get("/api/search", params={"q": query}).json()["answerable"] is False
    ids, status, _ = _browse(client, q=query)
    assert ids == []
    assert status == f"No question in the bank matches “{query}”."


@pytest.mark.parametrize(
    ("query", "narrowing"),
    [
        ("gradient descent", {"difficulty": "Medium"}),
        ("gradient descent", {"difficulty": "Hard"}),
        ("gradient descent", {"company": "Google"}),
        ("precision recall", {"difficulty": "Hard"}),
        ("precision recall", {"company": "Meta"}),
        ("regularization", {"difficulty": "Easy"}),
        ("what does Uber ask", {"difficulty": "Medium"}),  # a company's list, narrowed
    ],
)
def test_browse_filters_narrow_the_matches(client: TestClient, query: str, narrowing: dict[str, str]) -> None:
    everything, _, _ = _browse(client, q=query)
    narrowed, status, _ = _browse(client, q=query, **narrowing)
    ((name, value),) = narrowing.items()

    def passes(record_id: str) -> bool:
        record = client.get(f"/api/questions/{record_id}").json()
        return value in (record["companies"] if name == "company" else [record["difficulty"]])

    assert narrowed == [i for i in everything if passes(i)]  # exactly the matches the filter allows, in order
    if not narrowed:
        assert status == f"No question matches “{query}” with these filters."


def test_browse_search_snippets_are_plain_text(client: TestClient) -> None:
    queries = ["precision recall", "bias variance formula", "precision formula true positives", "naive bayes",
               "curse of dimensionality", "bagging vs boosting", "regularization lasso ridge", "roc curve"]  # fmt: skip
    snippets = []
    for q in queries:
        _, _, html = _browse(client, q=q)
        snippets += [
            html_lib.unescape(re.sub(r"<[^>]+>", "", s))
            for s in re.findall(r'<p class="snippet">(.*?)</p>', html, re.S)
        ]
        snippets += [h["snippet"] for h in client.get("/api/search", params={"q": q}).json()["hits"]]
    assert len(snippets) > 30
    markup = [s for s in snippets if re.search(r"\|\s*:?-{3}|\s\|\s|\$|\\[A-Za-z]+|\*\*|`", s)]
    assert markup == []
    assert any("TPR = TP/(TP + FN)" in s for s in snippets)  # formulas written as text, not dropped
    assert any("Expected Error = Bias² + Variance" in s for s in snippets)
    assert any("·" in s for s in snippets)  # a table's cells as text


def test_browse_section_labels_get_no_doubled_punctuation(client: TestClient) -> None:
    _, _, html = _browse(client, q="class imbalance where one class outnumbers the other")
    labels = re.findall(r'<p class="snippet"><strong>(.*?)</strong>', html)
    assert "What is Imbalanced Data?" in labels
    assert not [label for label in labels if re.search(r"[?!.:]:$", label)]


def test_browse_escapes_the_query_and_explains_a_bad_one(client: TestClient) -> None:
    html = client.get("/browse", params={"q": XSS}).text
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    bad = client.get("/browse", params={"q": "a\x01b"}).text
    assert "query contains control characters" in bad
    nul = client.get("/browse", params={"q": "drop\x00out"}).text  # it went back into <title> and the box
    assert "query contains control characters" in nul and "\x00" not in nul and 'value="dropout"' in nul
    # nor into the filter menus and chips of the browse, chat and practice pages (second reader)
    for path in ("/browse", "/", "/practice"):
        page = client.get(path, params={"company": "Goo\x00gle", "tag": "a\x07b"})
        assert "\x00" not in page.text and "\x07" not in page.text, path
    asked = client.get("/", params={"q": "drop\x00out", "company": "Goo\x00gle"})
    assert asked.status_code == 422 and "\x00" not in asked.text  # refused, and shown back without it


def test_done_event_carries_the_rendered_answer(client: TestClient) -> None:
    body = {"messages": [{"role": "user", "content": "explain precision recall and f1"}]}
    events = parse_sse(client.post("/api/chat/stream", json=body).text)
    done = events[-1]
    assert done.event == "done"
    # the page lists the related questions under "Sources": the markdown's "Related:" line is not rendered
    assert "**Related:**" in done.data["answer"]
    shown = re.sub(r"\n\n\*\*Related:\*\*[^\n]*", "", done.data["answer"])
    assert done.data["answer_html"] == render_markdown(shown)
    assert "<math" in done.data["answer_html"] and '<div class="code">' in done.data["answer_html"]
    json.dumps(done.data)  # still plain JSON


def test_pages_say_not_ready_while_the_index_is_missing(embedder: Embedder, tmp_path: Path) -> None:
    empty = tmp_path / "content"
    empty.mkdir()
    settings = service_settings(tmp_path / "index", tmp_path, content_dir=empty)
    with TestClient(create_app(settings, background_load=False, embedder=embedder)) as c:
        assert c.get("/").status_code == 200  # the chat page itself needs no index
        assert c.get("/", params={"q": "explain bagging"}).status_code == 503  # answering one does
        for path in ("/q/anything", "/browse"):
            r = c.get(path)
            assert r.status_code == 503 and "Not ready yet" in r.text


# -- the chat page, answered on the server (a shared link, or no JavaScript) ----------


def _conversation(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="conversation-data">(.*?)</script>', page, re.S)
    assert m is not None, "the page carries no conversation"
    return json.loads(m.group(1))


def _link(page: str) -> str:
    m = re.search(r'<input type="hidden" name="c" value="([^"]+)">', page)
    assert m is not None
    return m.group(1)


PHISH = "Google\n\n## Your session expired\n\n[Sign in again](https://evil.example/login)"


@pytest.mark.parametrize("company", [PHISH, "Google [Sign in again](https://evil.example/login) **now**"])
@pytest.mark.parametrize("asked", ["explain dropout", "what does google ask"])
def test_a_filter_value_cannot_put_markup_into_the_answer(client: TestClient, company: str, asked: str) -> None:
    """The filter was pasted into the answer as markdown: a shared link or a form showed a
    heading and a live link inside the answer card (attack run)."""
    r = client.get("/", params={"q": asked, "company": company})
    if "\n" in company:  # refused, with the reason, on the page
        assert r.status_code == 422 and "a filter is a name on one line" in r.text
    else:
        assert r.status_code == 200
        answer = r.text[r.text.index('<div class="answer markdown">') :]
        assert "evil.example" in answer  # the words are shown, as words
    assert 'href="https://evil.example' not in r.text and "<h2>Your session" not in r.text
    assert "<strong>now</strong>" not in r.text
    token = _token([{"q": asked, "f": {"company": company}}])
    if "\n" in company:  # a link can't carry a line break in a filter: damaged
        assert client.get("/", params={"c": token}).status_code == 400
    else:
        assert 'href="https://evil.example' not in client.get("/", params={"c": token}).text


def test_a_question_asked_without_javascript_is_answered_on_the_page(client: TestClient) -> None:
    r = client.get("/", params={"q": "explain precision recall and f1", "company": "", "difficulty": ""})
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]  # no inline script can run
    body = {"messages": [{"role": "user", "content": "explain precision recall and f1"}]}
    streamed = parse_sse(client.post("/api/chat/stream", json=body).text)[-1].data
    (turn,) = _conversation(r.text)["turns"]
    assert turn["question"] == "explain precision recall and f1" and turn["filters"] == {}
    assert turn["final"]["answer_html"] == streamed["answer_html"]  # the same answer as the streamed page
    assert f'<div class="answer markdown">{streamed["answer_html"]}</div>' in r.text
    assert turn["final"]["answer"] == streamed["answer"]
    assert [s["id"] for s in turn["final"]["sources"]] == [s["id"] for s in streamed["sources"]]
    assert share.decode(_link(r.text)) == [share.SharedTurn(q="explain precision recall and f1")]
    assert f'href="/?c={_link(r.text)}">Link to this conversation</a>' in r.text


def test_a_follow_up_posted_with_the_turns_so_far_continues_them(client: TestClient) -> None:
    first = client.get("/", params={"q": "explain bagging"}).text
    r = client.get("/", params={"c": _link(first), "q": "and how is boosting different?"})
    assert r.status_code == 200
    turns = _conversation(r.text)["turns"]
    assert [t["question"] for t in turns] == ["explain bagging", "and how is boosting different?"]
    second = turns[1]["final"]
    assert second["sources"][0]["id"] == ENSEMBLE_ID
    assert "bagging" in second["rewritten_query"] and "boosting" in second["rewritten_query"]
    assert f"Searched for: {html_lib.escape(second['rewritten_query'])}" in r.text
    assert len(share.decode(_link(r.text))) == 2


def test_a_shared_link_answers_each_turn_with_its_own_filters(client: TestClient) -> None:
    token = share.encode(
        [share.SharedTurn(q="explain bagging", f=FiltersIn(company="Netflix")), share.SharedTurn(q="explain GANs")]
    )
    r = client.get("/", params={"c": token})
    assert r.status_code == 200
    first, second = _conversation(r.text)["turns"]
    assert first["filters"] == {"company": "Netflix"} and second["filters"] == {}
    assert all("Netflix" in s["companies"] for s in first["final"]["sources"])
    assert "Filtered to: Company Netflix" in r.text
    assert '<span class="chip filter-chip">' not in r.text  # the last turn had none: nothing narrows the next


def test_an_example_button_asks_its_question_without_javascript(client: TestClient) -> None:
    example = client.app.state.qbank.engine.composer.catalog.examples[0]  # type: ignore[attr-defined]
    page = client.get("/").text
    assert f'type="submit" form="composer" name="ask" value="{html_escape(example)}"' in page
    r = client.get("/", params={"ask": example, "q": ""})
    (turn,) = _conversation(r.text)["turns"]
    assert turn["question"] == example and not turn["final"]["abstained"]


@pytest.mark.parametrize("token", BAD_LINKS.values(), ids=BAD_LINKS.keys())
def test_a_damaged_link_is_a_400_page(client: TestClient, token: str) -> None:
    r = client.get("/", params={"c": token})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "This link does not open a conversation" in r.text
    assert "<b>made up</b>" not in r.text


def test_a_bad_question_keeps_the_conversation_and_says_what_to_change(client: TestClient) -> None:
    link = _link(client.get("/", params={"q": "explain bagging"}).text)
    r = client.get("/", params={"c": link, "q": "what\x01now"})
    assert r.status_code == 422
    assert "question contains control characters; send plain text" in r.text
    assert [t["question"] for t in _conversation(r.text)["turns"]] == ["explain bagging"]
    # kept in the box to send again, without the control character (invisible there, it would be refused again)
    assert "whatnow</textarea>" in r.text and "\x01" not in r.text


def test_a_link_with_a_question_the_bank_refuses_is_a_422_page(client: TestClient) -> None:
    r = client.get("/", params={"c": _token([{"q": "a\x01b"}])})
    assert r.status_code == 422 and "control characters" in r.text


def test_the_chat_page_offers_the_reasons_the_api_takes() -> None:
    """chat.js lists a 👎's reasons itself (a static file): the same keys as service.feedback.REASONS, same labels."""
    from service.feedback import REASONS

    script = (Path(__file__).parents[1] / "service" / "static" / "chat.js").read_text()
    listed = re.search(r"const REASONS = \{(.*?)\};", script, re.S)
    assert listed is not None
    assert dict(re.findall(r'(\w+): "([^"]+)"', listed.group(1))) == REASONS
