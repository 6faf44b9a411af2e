"""A bad setting is a clean one-line error on every command, and never shows
the value it was given (a database URL or a token may carry a secret)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from qbank.cli import app
from qbank.settings import ConfigError, get_settings, settings_or_exit

SECRET = "s3cr3t-pw"


@pytest.fixture(autouse=True)
def fresh_settings() -> object:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"mysql://u:{SECRET}@h/x", "names 'mysql'"),
        (f"postgresql://u:{SECRET}@db:54x2/x", "is not a database URL"),  # a port that is not a number
        (f"not a url {SECRET}", "is not a database URL"),
    ],
)
@pytest.mark.parametrize(
    "command", [["eval", "--modes", "bm25"], ["tune", "--dry-run"], ["mock-eval"], ["search", "x"]]
)
def test_a_bad_database_url_is_named_and_its_password_never_shown(
    monkeypatch: pytest.MonkeyPatch, url: str, problem: str, command: list[str]
) -> None:
    monkeypatch.setenv("QBANK_DATABASE_URL", url)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    assert "invalid configuration: database_url: QBANK_DATABASE_URL" in result.output and problem in result.output
    assert SECRET not in result.output and SECRET not in repr(result.exception)


def test_settings_or_exit_raises_a_config_error_without_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QBANK_SLACK_BOT_TOKEN", f"xoxb-{SECRET}")
    with pytest.raises(ConfigError) as info:
        settings_or_exit()
    assert "QBANK_SLACK_SIGNING_SECRET is missing" in str(info.value) and SECRET not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
