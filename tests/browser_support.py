"""Helpers for the browser tests: a real ``qbank serve`` process and Debian's Chromium.

Kept out of conftest.py so the foundation fixtures stay about the index.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from service_support import free_port

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


def qbank_command() -> list[str]:
    """The installed ``qbank`` script beside this interpreter, else ``python -m qbank.cli``."""
    script = Path(sys.executable).with_name("qbank")
    return [str(script)] if script.exists() else [sys.executable, "-m", "qbank.cli"]


@dataclass(frozen=True)
class Server:
    base_url: str
    feedback_path: Path
    log_path: Path


@contextmanager
def qbank_server(index_dir: Path, content_dir: Path, work_dir: Path, ready_timeout: float = 120.0) -> Iterator[Server]:
    """Run ``qbank serve`` on a free port over ``index_dir`` until /readyz says 200."""
    port = free_port()
    feedback = work_dir / "feedback.sqlite3"
    log_path = work_dir / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBANK_")}
    env |= {
        "QBANK_INDEX_DIR": str(index_dir),
        "QBANK_CONTENT_DIR": str(content_dir),
        "QBANK_FEEDBACK_PATH": str(feedback),
        "QBANK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "QBANK_LOG_LEVEL": "WARNING",
    }
    command = [*qbank_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url, proc, log_path, ready_timeout)
        yield Server(base_url=base_url, feedback_path=feedback, log_path=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _wait_ready(base_url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"qbank serve exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"qbank serve was not ready within {timeout:.0f}s:\n{log_path.read_text()[-3000:]}")
