"""Fetch practice-link pages at ingest, politely and within bounds.

Only when the operator allows the network (``qbank ingest --fetch-links``).
Each page is one GET with a User-Agent that names qbank, within a per-page
time limit, read up to a size limit; a host's ``robots.txt`` is asked first
and obeyed.  At most ``concurrency`` requests are in flight, at most
``per_host`` of them to one host, with a pause between one lane's requests to
a host; the whole step stops starting requests once its time budget is spent.
Any failure of one page (refused, timed out, an HTTP error, not HTML, too
large, binary, no readable text, disallowed) is that page's ``problem``,
logged and returned; it never stops the others.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx
from tqdm import tqdm

from ingest.models import Article
from ingest.readable import excerpt, readable_text

log = logging.getLogger(__name__)

USER_AGENT = "qbank/0.1 (interview-prep search index; reads each practice link once at ingest)"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.I)
MIN_TEXT_CHARS = 200  # less readable text than this: a script-only page, a paywall or a consent wall


@dataclass(frozen=True, slots=True)
class FetchLimits:
    timeout_s: float = 10.0  # one page: connecting, and all of its body
    max_bytes: int = 2_000_000  # a page over this is skipped, not cut
    budget_s: float = 300.0  # the whole step: no request starts after it
    concurrency: int = 4  # requests in flight
    per_host: int = 2  # of them to one host
    pause_s: float = 0.5  # between one lane's requests to a host
    excerpt_chars: int = 4000  # of a page's readable text, indexed

    def __post_init__(self) -> None:
        if min(self.timeout_s, self.budget_s) <= 0 or min(self.max_bytes, self.excerpt_chars) <= 0:
            raise ValueError("timeout_s, budget_s, max_bytes and excerpt_chars must be positive")
        if self.concurrency < 1 or self.per_host < 1 or self.pause_s < 0:
            raise ValueError("concurrency and per_host must be at least 1, pause_s non-negative")


@dataclass(frozen=True, slots=True)
class Fetched:
    """One link's outcome: its article, or why there is none."""

    url: str
    article: Article | None = None
    problem: str | None = None


def _host(url: str) -> str:
    """The URL's host (and port), lowercased; empty when it has none or cannot be read."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:  # "http://[::1/x": a bracket left open
        return ""


class _Skip(Exception):
    """A page that is not used, and why."""


class LinkFetcher:
    """Fetches pages and reads their text into ``Article`` records."""

    def __init__(self, limits: FetchLimits | None = None, user_agent: str = USER_AGENT) -> None:
        if not user_agent.strip():
            raise ValueError("user_agent must name the fetcher")
        self.limits = limits or FetchLimits()
        self.user_agent = user_agent
        self._robots: dict[str, RobotFileParser | None] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def fetch_all(self, urls: Sequence[str], progress: bool = False) -> dict[str, Fetched]:
        """Each distinct URL's outcome, in the order given, within the time budget."""
        limits = self.limits
        deadline = time.monotonic() + limits.budget_s
        distinct = list(dict.fromkeys(urls))
        lanes = self._lanes(distinct)
        results: dict[str, Fetched] = {}
        bar = tqdm(total=sum(map(len, lanes)), desc="practice links", unit="page", disable=not progress, leave=False)
        timeout = httpx.Timeout(limits.timeout_s, connect=min(5.0, limits.timeout_s))
        headers = {"User-Agent": self.user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
        with (
            httpx.Client(timeout=timeout, headers=headers, follow_redirects=True, max_redirects=5) as client,
            ThreadPoolExecutor(max_workers=limits.concurrency, thread_name_prefix="fetch") as pool,
        ):

            def run(lane: list[str]) -> None:
                for n, url in enumerate(lane):
                    if n and limits.pause_s:  # polite to the host, but never past the budget
                        time.sleep(max(0.0, min(limits.pause_s, deadline - time.monotonic())))
                    if time.monotonic() >= deadline:
                        why = f"not fetched: the {limits.budget_s:g} s time budget was spent"
                        outcome = Fetched(url, problem=why)
                    else:
                        try:
                            outcome = self.fetch(url, client, deadline)
                        except Exception as exc:  # one page, whatever it holds, never stops the others
                            outcome = Fetched(url, problem=f"could not be read: {type(exc).__name__}: {exc}")
                    if outcome.problem:
                        log.warning("practice link skipped: %s: %s", url, outcome.problem)
                    results[url] = outcome
                    bar.update()

            for future in [pool.submit(run, lane) for lane in lanes]:
                future.result()
        bar.close()
        return {url: results[url] for url in distinct}

    def _lanes(self, urls: list[str]) -> list[list[str]]:
        """The URLs as sequential lanes: each host's spread over at most ``per_host`` lanes."""
        by_host: dict[str, list[str]] = {}
        for url in urls:
            by_host.setdefault(_host(url), []).append(url)
        lanes: list[list[str]] = []
        for host_urls in by_host.values():
            n = min(self.limits.per_host, len(host_urls))
            lanes += [host_urls[k::n] for k in range(n)]
        return lanes

    def fetch(self, url: str, client: httpx.Client, deadline: float) -> Fetched:
        """One page, read within ``min(timeout, deadline)``."""
        if not _host(url) or urlsplit(url).scheme not in ("http", "https"):
            return Fetched(url, problem="not an http(s) link")
        until = min(time.monotonic() + self.limits.timeout_s, deadline)
        try:
            if not self._allowed(url, client):
                raise _Skip("disallowed by the site's robots.txt")
            body, content_type = self._get(url, client, until)
            text = self._decode(body, content_type)
        except _Skip as why:
            return Fetched(url, problem=str(why))
        except httpx.TimeoutException:
            return Fetched(url, problem=f"timed out (limit {self.limits.timeout_s:g} s)")
        except httpx.HTTPError as exc:
            return Fetched(url, problem=f"request failed: {type(exc).__name__}: {exc}")
        page = readable_text(text)
        if len(page.text) < MIN_TEXT_CHARS:
            return Fetched(url, problem=f"no readable text ({len(page.text)} characters)")
        article = Article(
            url=url,
            title=page.title,
            text=excerpt(page.text, self.limits.excerpt_chars),
            fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            content_hash=hashlib.sha256(body).hexdigest(),
        )
        return Fetched(url, article=article)

    def _get(self, url: str, client: httpx.Client, until: float) -> tuple[bytes, str]:
        limit = self.limits.max_bytes
        with client.stream("GET", url) as resp:
            if resp.status_code != 200:
                raise _Skip(f"HTTP {resp.status_code}")
            content_type = resp.headers.get("content-type", "")
            kind = content_type.split(";", 1)[0].strip().lower()
            if kind and kind not in _HTML_TYPES:
                raise _Skip(f"not HTML ({kind})")
            length = resp.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise _Skip(f"too large ({int(length):,} bytes; the limit is {limit:,})")
            body = bytearray()
            for piece in resp.iter_bytes():
                body += piece
                if len(body) > limit:
                    raise _Skip(f"too large (over the {limit:,}-byte limit)")
                if time.monotonic() > until:
                    raise httpx.ReadTimeout("the page took too long to arrive")
        if b"\x00" in body[:8192]:
            raise _Skip("binary content (NUL bytes), not a page")
        if not kind and not body.lstrip()[:1] == b"<":
            raise _Skip("not HTML (no content type, and no markup)")
        return bytes(body), content_type

    @staticmethod
    def _decode(body: bytes, content_type: str) -> str:
        charset = None
        if m := re.search(r"charset=([\w-]+)", content_type, re.I):
            charset = m.group(1)
        elif m2 := _META_CHARSET.search(body[:4096]):
            charset = m2.group(1).decode("ascii")
        try:
            return body.decode(charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            return body.decode("utf-8", errors="replace")

    def _allowed(self, url: str, client: httpx.Client) -> bool:
        """What the host's robots.txt says of ``url`` for this User-Agent (asked
        once per host; a robots.txt that cannot be read allows everything)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            origin_lock = self._robots_locks.setdefault(origin, threading.Lock())
        with origin_lock:  # one read per host; other hosts' lanes go on meanwhile
            if origin not in self._robots:
                self._robots[origin] = self._read_robots(origin, client)
            rules = self._robots[origin]
        return rules is None or rules.can_fetch(self.user_agent, url)

    @staticmethod
    def _read_robots(origin: str, client: httpx.Client) -> RobotFileParser | None:
        try:
            resp = client.get(f"{origin}/robots.txt")
        except httpx.HTTPError:
            return None
        if resp.status_code != 200:
            return None
        rules = RobotFileParser()
        rules.parse(resp.text[:500_000].splitlines())
        return rules
