"""``qbank serve`` caps glibc's malloc arenas (service/malloc.py); the operator's value wins."""

from __future__ import annotations

import logging
import os
import platform

import pytest

from service.malloc import ENV, limit_arenas

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.parametrize(
    ("given", "expected", "warned"),
    [(None, 2, False), ("4", 4, False), ("lots", 2, True), ("0", 2, True)],
)
def test_the_cap_is_the_operators_or_two(
    given: str | None, expected: int, warned: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if given is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, given)
    with caplog.at_level(logging.WARNING, logger="service.malloc"):
        cap = limit_arenas()
    assert os.environ[ENV] == str(expected)  # what uvicorn's worker processes start with
    assert cap == (expected if GLIBC else None)
    assert (ENV in caplog.text) is warned
