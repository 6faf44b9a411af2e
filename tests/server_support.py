"""A real ``qbank serve`` for the tests, on a free loopback port, and a small
load driver for it.

- ``free_port``: a loopback port nothing listens on.
- ``qbank_command`` and ``hermetic_env``: how a test runs the installed
  ``qbank`` script: beside this interpreter, without the caller's ``QBANK_*``.
- ``qbank_server``: ``qbank serve`` over an index as a context manager. It
  waits for ``/readyz`` 200 (recording every answer on the way), gives the
  base URL, the store's SQLite file and the log, and stops the server with
  SIGTERM on the way out, keeping its exit code.
- ``run_load``: closed-loop requests at a fixed concurrency, bounded in
  requests and seconds, counting every answer's status.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from service.limits import CLIENT_KEEPALIVE_S

READY_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_all(s: socket.socket) -> bytes:
    """Everything a raw socket receives until the server closes it (or resets it, or goes quiet
    past the socket's timeout)."""
    chunks = []
    while True:
        try:
            data = s.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def qbank_command() -> list[str]:
    """The installed ``qbank`` script beside this interpreter, else ``python -m qbank.cli``."""
    script = Path(sys.executable).with_name("qbank")
    return [str(script)] if script.exists() else [sys.executable, "-m", "qbank.cli"]


def hermetic_env(**settings: str) -> dict[str, str]:
    """The environment for a ``qbank`` subprocess: this one without any
    ``QBANK_*`` variable, plus ``settings``."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QBANK_")} | settings


# -- qbank serve ----------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    database_path: Path
    readyz: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    returncode: int | None = None  # set once stopped

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_text()[-chars:]

    def wait_ready(self, timeout_s: float) -> None:
        """Poll ``/readyz`` until 200, recording every answer; fail fast if the process exits."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"qbank serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                r = httpx.get(f"{self.base_url}/readyz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            self.readyz.append((r.status_code, r.json()))
            if r.status_code == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"qbank serve was not ready within {timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self) -> int:
        """SIGTERM, as a process manager stops it; SIGKILL for the whole
        process group (uvicorn's workers too) if it is still up after 30 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.returncode = self.proc.returncode
        return self.returncode


@contextmanager
def qbank_server(
    index_dir: Path,
    work_dir: Path,
    *,
    content_dir: Path | None = None,
    workers: int | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout_s: float = READY_TIMEOUT_S,
) -> Iterator[Server]:
    """``qbank serve --host 127.0.0.1 --port <free>`` over ``index_dir``, run in
    ``work_dir`` (so no ``.env`` is read) with its store (a SQLite file) and log
    there, logging warnings only; ``env`` adds or overrides settings. Yields
    once ``/readyz`` is 200."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    database = work_dir / "qbank.sqlite3"
    settings = {
        "QBANK_INDEX_DIR": str(index_dir),
        "QBANK_DATABASE_URL": f"sqlite:///{database}",
        "QBANK_FEEDBACK_PATH": str(work_dir / "feedback.sqlite3"),
        "QBANK_LOG_LEVEL": "WARNING",
    }
    if content_dir is not None:
        settings["QBANK_CONTENT_DIR"] = str(content_dir)
    command = [*qbank_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    log_path = work_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=work_dir,
            env=hermetic_env(**(settings | dict(env or {}))),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a stuck server goes with its workers
        )
    server = Server(proc, base_url, log_path, database)
    try:
        server.wait_ready(ready_timeout_s)
        yield server
    finally:
        server.stop()


# -- load -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    body: str | None = None  # JSON text


@dataclass(frozen=True)
class Load:
    """What a ``run_load`` got back: answers by status, transport errors by kind."""

    statuses: Counter[str]
    errors: Counter[str]
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        """Requests without a 2xx answer (4xx, 5xx, transport errors)."""
        return sum(n for s, n in self.statuses.items() if not s.startswith("2")) + self.errors.total()

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s.startswith("5"))

    def summary(self) -> str:
        ms = sorted(self.latencies_ms) or [0.0]
        p50, p99 = ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        return (
            f"{self.requests} requests in {self.seconds:.1f} s ({self.rps:.0f} req/s), "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, statuses {dict(self.statuses)}, errors {dict(self.errors)}"
        )


def run_load(
    base_url: str,
    requests: Sequence[Request],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    stop: threading.Event | None = None,
    timeout_s: float = 60.0,
) -> Load:
    """Send up to ``max_requests`` (cycling through ``requests``) with
    ``concurrency`` in flight, each client sending its next request when the
    previous answer arrives; for at most ``max_seconds``, or until ``stop`` is set."""
    return asyncio.run(_load(base_url, requests, concurrency, max_requests, max_seconds, stop, timeout_s))


async def _load(
    base_url: str,
    requests: Sequence[Request],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    stop: threading.Event | None,
    timeout_s: float,
) -> Load:
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    sent = 0
    started = time.perf_counter()
    deadline = started + max_seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < max_requests and time.perf_counter() < deadline and not (stop and stop.is_set()):
            request = requests[sent % len(requests)]
            sent += 1
            t0 = time.perf_counter()
            try:
                response = await client.request(
                    request.method, request.path, content=request.body, headers={"Content-Type": "application/json"}
                )
                await response.aread()
                statuses[str(response.status_code)] += 1
            except httpx.TransportError as exc:
                errors[type(exc).__name__] += 1
            latencies.append((time.perf_counter() - t0) * 1000)

    # Idle connections expire before the server closes them (service/limits.py): reusing one
    # the server is closing gets a reset, not an answer.
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=CLIENT_KEEPALIVE_S
    )
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout_s) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    return Load(statuses, errors, time.perf_counter() - started, tuple(latencies))
