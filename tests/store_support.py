"""A real PostgreSQL server for the store tests, started by the test session.

Debian's ``postgresql`` package (``make setup-test`` installs it): ``initdb``
into a temporary directory, ``pg_ctl start`` on a free loopback port with its
socket in that directory, as the ``postgres`` user when the tests run as root
(PostgreSQL refuses to run as root), and ``pg_ctl stop`` plus the directory
removed at the end.  Each test gets a database of its own
(``PostgresServer.new_database``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from server_support import free_port

SUPERUSER = "qbank"


def postgres_bin() -> Path | None:
    """The directory with ``initdb`` and ``pg_ctl``: on PATH, else Debian's versioned one."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _as_user() -> tuple[Callable[[], None] | None, int | None]:
    """How to drop root for the server: (preexec function, uid), or (None, None) when not root."""
    if os.geteuid() != 0:
        return None, None
    user = pwd.getpwnam("postgres")

    def drop() -> None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return drop, user.pw_uid


@dataclass
class PostgresServer:
    bindir: Path
    datadir: Path
    port: int
    log_path: Path
    created: list[str] = field(default_factory=list)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self, name: str) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"{name}_{len(self.created)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """initdb, start, yield, stop, remove; raises ``FileNotFoundError`` when the binaries are missing."""
    bindir = postgres_bin()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL's initdb and pg_ctl are missing: run `make setup-test`")
    preexec, uid = _as_user()
    root = Path(tempfile.mkdtemp(prefix="qbank-pg-"))
    if uid is not None:
        os.chown(root, uid, -1)
    datadir, log_path, port = root / "data", root / "server.log", free_port()
    run = {"preexec_fn": preexec, "capture_output": True, "text": True, "cwd": root}
    try:
        init = subprocess.run(
            [bindir / "initdb", "-D", datadir, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"],
            **run,  # type: ignore[call-overload]
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        start = subprocess.run(
            [bindir / "pg_ctl", "-D", datadir, "-l", log_path, "-o", options, "-w", "-t", "60", "start"],
            **run,  # type: ignore[call-overload]
        )
        if start.returncode != 0:
            log = log_path.read_text(errors="replace") if log_path.exists() else ""
            raise RuntimeError(f"pg_ctl start failed:\n{start.stdout}\n{start.stderr}\n{log}")
        try:
            yield PostgresServer(bindir, datadir, port, log_path)
        finally:
            subprocess.run([bindir / "pg_ctl", "-D", datadir, "-m", "fast", "-w", "stop"], **run)  # type: ignore[call-overload]
    finally:
        shutil.rmtree(root, ignore_errors=True)
