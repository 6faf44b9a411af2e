"""Helpers for the browser tests: Debian's Chromium and where screenshots go.

The ``qbank serve`` they drive comes from ``server_support``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def launch(browser_type: Any, back_forward_cache: bool = False) -> Any:
    """Debian's Chromium, headless, from Playwright's ``browser_type``.

    Playwright turns the back-forward cache off; ``back_forward_cache`` keeps it on, as
    browsers have it, so that Back brings a page back as it was left ("pageshow" persisted)."""
    kept = {"ignore_default_args": ["--disable-back-forward-cache"]} if back_forward_cache else {}
    return browser_type.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, **kept)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright; closed after."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p.chromium)
        try:
            yield browser
        finally:
            browser.close()


def console_errors(page: Any, ignore: str | None = None) -> list[str]:
    """A list that fills with the page's console errors (those without ``ignore``
    in their text) and uncaught exceptions, for a test to assert empty."""
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and (ignore is None or ignore not in message.text):
            errors.append(f"{message.type}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return errors
