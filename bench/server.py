"""A real ``qbank serve`` on loopback for the HTTP benchmark.

``ServerProcess`` starts the installed ``qbank serve`` in its own process
group with hermetic settings, times it from spawn to ``/readyz`` 200, reads
the memory of the whole process tree (uvicorn's workers included) and stops
it.  The tests have their own launcher (``tests/server_support.py``): the
benchmark needs the timing and the memory, the tests the answers along the
way, and neither imports the other.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.stats import tree_rss_mib


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _qbank_command() -> list[str]:
    script = Path(sys.executable).with_name("qbank")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "qbank.cli"]


class ServerProcess:
    """``qbank serve`` on 127.0.0.1:<free port> over ``index_dir``."""

    def __init__(self, index_dir: Path, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.workers = workers
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._work = Path(tempfile.mkdtemp(prefix="qbank-serve-"))
        self.log_path = self._work / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready_s: float | None = None

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QBANK_")}
        env.update(
            QBANK_INDEX_DIR=str(self.index_dir),
            QBANK_FEEDBACK_PATH=str(self._work / "feedback.sqlite3"),
            QBANK_CHAT_RATE_LIMIT="0",
            QBANK_LOG_LEVEL="WARNING",
            QBANK_WORKERS=str(self.workers),
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout_s: float = 240) -> float:
        """Start the server and wait for /readyz 200; seconds from spawn to ready."""
        log = self.log_path.open("wb")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [*_qbank_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self._work,
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() - started < timeout_s:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"qbank serve exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    if client.get(f"{self.base_url}/readyz").status_code == 200:
                        self.ready_s = time.perf_counter() - started
                        return self.ready_s
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"qbank serve was not ready within {timeout_s}s:\n{self.log_tail()}")

    def rss_mib(self) -> float:
        return tree_rss_mib(self.proc.pid) if self.proc is not None else 0.0

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this object started
                proc.wait(timeout=10)
        shutil.rmtree(self._work, ignore_errors=True)
