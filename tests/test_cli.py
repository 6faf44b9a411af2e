"""The ``qbank`` command line against real indexes.

The main paths run the installed script as a subprocess.  Each subprocess that
loads the model costs several seconds of CPU, so option plumbing and error
branches run the same Typer app in-process (``CliRunner``), where the model
loads from the already imported libraries in well under a second.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from conftest import MINI_BANK, ML_BANK, REPO
from typer.testing import CliRunner

from index.engine import IngestReport
from index.search import Searcher
from ingest.pipeline import ingest_dir
from qbank.cli import app
from qbank.settings import get_settings

QBANK = REPO / ".venv" / "bin" / "qbank"
DROPOUT = "machine-learning--what-is-dropout-and-why-does-it-work"
LASSO_QUERY = "why does lasso zero out weights"
Invoke = Callable[..., Result]
COMMANDS = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]


def qbank(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``qbank`` script hermetically: no QBANK_* variables, no .env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBANK_")}
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(QBANK), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Invoke]:
    """Invoke the Typer app in-process with hermetic settings (no QBANK_*, no .env)."""
    for key in [k for k in os.environ if k.startswith("QBANK_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str | Path) -> Result:
        return runner.invoke(app, [str(a) for a in args])

    yield invoke
    get_settings.cache_clear()


def result_blocks(stdout: str) -> list[tuple[str, str]]:
    """(title, id) of each ranked result in the plain-text output."""
    lines = stdout.split("\n")
    out = []
    for i, line in enumerate(lines):
        if m := re.match(r"^(\d+)\. (.+)$", line):
            assert int(m.group(1)) == len(out) + 1
            out.append((m.group(2), lines[i + 1].rsplit(" | ", 1)[-1].strip()))
    return out


def test_the_script_is_installed() -> None:
    assert QBANK.is_file()
    assert {"ingest", "search"} <= set(COMMANDS)


def test_top_level_help_lists_every_command(tmp_path: Path) -> None:
    proc = qbank("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: qbank" in proc.stdout
    for command in COMMANDS:
        assert re.search(rf"^\W*{command}\s", proc.stdout, re.M), (command, proc.stdout)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(tmp_path: Path, command: str) -> None:
    proc = qbank(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"Usage: qbank {command}" in proc.stdout
    assert "--help" in proc.stdout


BENCH_OPTIONS = (
    "--quick",
    "--ingest",
    "--inprocess",
    "--peer",
    "--http",
    "--scale",
    "--encoders",
    "--batching",
    "--scale-chunks",
    "--seconds",
    "--workers",
    "--content",
    "--extra",
    "--queries",
    "--out",
    "--against",
)


def test_bench_help_lists_the_bench_options(tmp_path: Path) -> None:
    proc = qbank("bench", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = set(re.findall(r"(--[a-z][a-z-]*)", proc.stdout))
    assert listed == {*BENCH_OPTIONS, "--help"}


def test_bench_without_a_checkout_says_so(cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("qbank.cli.CHECKOUT", tmp_path)
    result = cli("bench", "--quick")
    assert result.exit_code == 1
    assert f"qbank bench runs from a checkout of the qbank repository: there is no bench/ folder in {tmp_path}" in (
        " ".join(result.output.split())
    )


def test_bench_against_must_name_a_revision(cli: Invoke) -> None:
    """Checked before any section runs: a typo costs a second, not a benchmark."""
    result = cli("bench", "--against", "no-such-revision-here")
    assert result.exit_code == 1
    assert "error: --against no-such-revision-here: not a revision of this checkout" in " ".join(result.output.split())


def test_bench_extra_must_name_a_folder_of_banks(cli: Invoke, tmp_path: Path) -> None:
    result = cli("bench", "--ingest", "--extra", tmp_path)
    assert result.exit_code == 1
    assert f"error: --extra {tmp_path}: no bank files (*.md) there" in result.output


@pytest.mark.slow  # a `qbank` process that loads the model
def test_ingest_prints_per_bank_counts(built: IngestReport, tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(ML_BANK, content / ML_BANK.name)
    (content / "git.md").write_text(MINI_BANK, encoding="utf-8")
    (content / "empty.md").write_text("", encoding="utf-8")
    # Start from a copy of the session index so only the new bank is embedded.
    shutil.copytree(built.path.resolve(), tmp_path / ".index-v0")
    (tmp_path / "index").symlink_to(".index-v0")
    git_chunks = len(ingest_dir(content).chunks) - 429

    proc = qbank("ingest", "--content", content, "--index", tmp_path / "index", cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    rows = [ln.split() for ln in proc.stdout.split("\n") if ln.startswith(("Git ", "Machine "))]
    assert rows == [
        ["Git", "Interview", "Questions", "2", "0", str(git_chunks), "1", "0"],
        ["Machine", "Learning", "Interview", "Questions", "49", "100", "429", "85", "0"],
    ]
    assert proc.stdout.split("\n")[0].split() == ["bank", "questions", "quick-ref", "chunks", "code", "warnings"]
    assert re.search(rf"indexed {429 + git_chunks} chunks \({git_chunks} embedded, 429 reused\)", proc.stdout)
    assert f"warning: {content / 'empty.md'}: empty file; skipped" in proc.stderr
    assert proc.stderr.count("empty file; skipped") == 1  # not a log line as well (tester)
    assert (tmp_path / "index").resolve().name != ".index-v0"


def test_ingest_of_a_missing_folder_fails_cleanly(cli: Invoke, tmp_path: Path) -> None:
    result = cli("ingest", "--content", tmp_path / "nope", "--index", tmp_path / "index")
    assert result.exit_code == 1
    assert "error: content folder" in result.output and "does not exist" in result.output
    assert not (tmp_path / "index").exists()


def test_ingest_into_a_folder_of_other_files_refuses_and_changes_nothing(cli: Invoke, tmp_path: Path) -> None:
    """A notes folder given as --index by mistake was moved aside, then deleted with the
    old index versions two builds later (tester)."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("important")
    for _ in range(3):
        result = cli("ingest", "--content", ML_BANK.parent, "--index", notes)
        assert result.exit_code == 1
        assert f"error: {notes} is not a qbank index and holds other files (notes.txt)" in result.output
    assert not notes.is_symlink() and (notes / "notes.txt").read_text() == "important"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]  # no version written beside it


def test_a_web_apps_manifest_json_does_not_make_a_folder_an_index(cli: Invoke, tmp_path: Path) -> None:
    """Any manifest.json let a folder through, to be moved aside and pruned (review)."""
    app = tmp_path / "webapp"
    app.mkdir()
    (app / "manifest.json").write_text('{"name": "my pwa"}')
    (app / "index.html").write_text("<!doctype html>")
    result = cli("ingest", "--content", ML_BANK.parent, "--index", app)
    assert result.exit_code == 1 and "is not a qbank index and holds other files" in result.output
    assert sorted(p.name for p in app.iterdir()) == ["index.html", "manifest.json"] and not app.is_symlink()


def test_serve_passes_the_index_link_not_the_version_it_points_at(
    cli: Invoke, built: IngestReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve --index`` resolved the link, so /admin/reload kept serving the version there at
    start after every rebuild, then failed once that version was pruned (tester)."""
    import uvicorn

    started: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: started.append(os.environ["QBANK_INDEX_DIR"]))
    monkeypatch.setenv("QBANK_INDEX_DIR", "unset")  # set by the command; restored after the test
    link = tmp_path / "index"
    link.symlink_to(built.path.resolve())
    result = cli("serve", "--index", "index", "--workers", "2")  # 2: no encoder preloaded here
    assert result.exit_code == 0, result.output
    assert started == [str(link)]


@pytest.mark.slow  # a `qbank` process that loads the model
def test_search_prints_the_best_question_with_its_code(built: IngestReport, tmp_path: Path) -> None:
    proc = qbank("search", "randomly turning off neurons during training", "--index", built.path, cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    assert lines[0] == "1. What is Dropout and Why Does It Work?"
    assert lines[1].startswith("   score ") and lines[1].endswith(f"| {DROPOUT}")
    assert "| Medium |" in lines[1]
    assert "   practice: https://towardsdatascience.com/understanding-dropout-in-neural-networks-3c5da7a57f86" in lines
    assert "   ```python" in lines
    assert any(ln.strip() == "self.dropout1 = nn.Dropout(p=0.5)  # 50% dropout" for ln in lines)
    assert len(result_blocks(proc.stdout)) == 5


def test_search_output_follows_the_engine_ranking(cli: Invoke, built: IngestReport, searcher: Searcher) -> None:
    result = cli("search", LASSO_QUERY, "--index", built.path, "-k", "5")

    assert result.exit_code == 0, result.output
    expected = [(h.record.title, h.record.id) for h in searcher.search(LASSO_QUERY, k=5).hits]
    assert result_blocks(result.stdout) == expected
    assert "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization" in {i for _, i in expected[:2]}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--company", "Uber", "-k", "10"],
            {
                "machine-learning--how-does-gradient-descent-work",
                "machine-learning--how-do-you-deploy-ml-models-to-production",
                "machine-learning--qr-20",
                "machine-learning--qr-33",
            },
        ),
        (["--company", "Uber", "--difficulty", "Medium"], {"machine-learning--how-does-gradient-descent-work"}),
        (["--tag", "Feature Selection", "-k", "1"], {"machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"}),
        (["--bank", "cooking"], set()),
    ],
)
def test_search_options_reach_the_filters(
    cli: Invoke, built: IngestReport, options: list[str], expected: set[str]
) -> None:
    result = cli("search", "lasso weights machine learning", *options, "--index", built.path)
    assert result.exit_code == 0, result.output
    assert {i for _, i in result_blocks(result.stdout)} == expected


def test_search_with_filters_nothing_matches_says_so(cli: Invoke, built: IngestReport) -> None:
    """A filter nothing matches ("--bank nosuch") printed "closest matches:" over an empty list (tester)."""
    result = cli("search", "dropout", "--index", built.path, "--bank", "nosuch")
    assert result.exit_code == 0
    assert result.output == "(no question in the index is in the bank “nosuch”: nothing to rank; check the filters)\n"
    # a company the query names is one of the filters said (it had said "marked Hard" alone: review)
    named = cli("search", "slack svm questions", "--index", built.path, "--difficulty", "Hard")
    assert named.output.startswith("(no question in the index is asked at Slack and marked Hard:")


def test_search_mode_option(cli: Invoke, built: IngestReport, searcher: Searcher) -> None:
    result = cli("search", "dropout", "--mode", "bm25", "-k", "3", "--index", built.path)
    assert result.exit_code == 0, result.output
    assert [i for _, i in result_blocks(result.stdout)] == [
        h.record.id for h in searcher.search("dropout", k=3, mode="bm25").hits
    ]


@pytest.mark.slow  # a `qbank` process that loads the model
def test_search_json(built: IngestReport, searcher: Searcher, tmp_path: Path) -> None:
    if importlib.util.find_spec("service.schemas") is None:
        pytest.skip("service.schemas (hit_public) is not written yet; --json depends on it")
    proc = qbank("search", LASSO_QUERY, "--index", built.path, "--json", cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert (payload["query"], payload["mode"]) == (LASSO_QUERY, "hybrid")
    assert payload["answerable"] is True
    expected = searcher.search(LASSO_QUERY, k=5).hits
    assert [h["id"] for h in payload["hits"]] == [h.record.id for h in expected]
    top = payload["hits"][0]
    assert top["title"] == expected[0].record.title
    assert top["url"].endswith(f"/q/{expected[0].record.id}")
    assert [c["language"] for c in top["code"]] == [c.language for c in expected[0].code]


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query_is_an_error(built: IngestReport, tmp_path: Path, query: str) -> None:
    proc = qbank("search", query, "--index", built.path, cwd=tmp_path)
    assert proc.returncode == 1
    assert "error: the query is empty" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.slow  # a `qbank` process that loads the model
def test_missing_index_points_to_qbank_ingest(tmp_path: Path) -> None:
    proc = qbank("search", "dropout", "--index", tmp_path / "no-index", cwd=tmp_path)
    assert proc.returncode == 1
    assert "error: no index at" in proc.stderr
    assert "qbank ingest" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_mode_is_an_error(cli: Invoke, built: IngestReport) -> None:
    result = cli("search", "dropout", "--mode", "fuzzy", "--index", built.path)
    assert result.exit_code == 1
    assert "unknown mode 'fuzzy'" in result.output


def test_damaged_index_is_an_error_not_a_crash(cli: Invoke, built: IngestReport, tmp_path: Path) -> None:
    shutil.copytree(built.path.resolve(), tmp_path / "index")
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    manifest["model"] = "another-model"
    (tmp_path / "index" / "manifest.json").write_text(json.dumps(manifest))
    result = cli("search", "dropout", "--index", tmp_path / "index")
    assert result.exit_code == 1
    assert "built with model 'another-model'" in result.output
    assert "qbank ingest --index" in result.output


def test_k_out_of_range_is_a_usage_error(built: IngestReport, tmp_path: Path) -> None:
    proc = qbank("search", "dropout", "-k", "0", "--index", built.path, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Invalid value" in proc.stderr
