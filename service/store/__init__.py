"""The one store of what the service writes: feedback and practice progress.

SQLAlchemy 2 over SQLite (a file beside the index, the default: nothing to
set up) or PostgreSQL (``QBANK_DATABASE_URL``, for replicas on several hosts).
The schema is Alembic's (``service/store/migrations``): ``Store.open()``
brings the database to the newest revision before anything reads it, one
process at a time (SQLite's write lock; a PostgreSQL advisory lock), so
workers and replicas starting together migrate once.

Every transaction on SQLite starts with ``BEGIN IMMEDIATE``: SQLite has one
writer at a time, and a transaction that read first and writes later would
otherwise fail when another writer got in between rather than wait its turn.
A transaction that only reads (``Store.reading``) starts with a plain
``BEGIN`` instead and reads its snapshot without the write lock.
On PostgreSQL the repositories lock the rows they change (``FOR UPDATE``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30
# Any fixed number: the PostgreSQL advisory lock that one migrating process holds.
MIGRATION_LOCK = 0x71_62_61_6E_6B  # "qbank"
READING = "qbank_reading"  # the execution option of Store.reading's connections


def newest_revision() -> str:
    """The head revision, read off the file names (``0005_feedback_reason.py``
    is revision "0005"; tests/test_store.py holds the files to it), so a start
    on a store already there needs no Alembic: importing it costs about half a
    second of a start that should take two."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def store_url(address: str) -> URL:
    """``address`` as SQLAlchemy URL, a bare ``postgresql://`` meaning psycopg (3), the driver qbank installs."""
    url = make_url(address)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_engine(url: URL) -> Engine:
    path = url.database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite's own BEGIN off: the "begin" hook below says when
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A reading transaction (Store.reading) takes no write lock: in WAL mode it reads a snapshot
        # while a writer writes, instead of queueing behind it or holding one up.
        reading = connection.get_execution_options().get(READING, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine


class StoreError(RuntimeError):
    """The store could not be opened or migrated; the message says which store and why."""


class Store:
    """The database: an engine, sessions, and the schema at Alembic's head."""

    def __init__(self, address: str, legacy_feedback: Path | None = None) -> None:
        self.url = store_url(address)
        self.legacy_feedback = legacy_feedback
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._readers: sessionmaker[Session] | None = None

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def describe(self) -> str:
        """Which store, for logs and errors: the SQLite file, or the URL without its password."""
        if self.dialect == "sqlite":
            return f"SQLite file {self.url.database}"
        return f"PostgreSQL {self.url.render_as_string(hide_password=True)}"

    def open(self) -> Store:
        """Connect and migrate to the newest revision (once, whoever else is starting)."""
        try:
            if self.dialect == "sqlite":
                engine = _sqlite_engine(self.url)
            else:
                engine = create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=20)
            self._engine = engine
            self._sessions = sessionmaker(engine, expire_on_commit=False)
            self._readers = sessionmaker(engine.execution_options(**{READING: True}), expire_on_commit=False)
            self.migrate()
        except (OSError, SQLAlchemyError) as exc:
            self.close()
            reason = exc.orig if isinstance(exc, DBAPIError) else exc
            raise StoreError(f"the store ({self.describe()}) could not be opened: {reason}") from exc
        return self

    def at_head(self) -> bool:
        """The database is at the newest revision already (Alembic's version table says so)."""
        with self.engine.execution_options(**{READING: True}).connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return False
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        return versions == [newest_revision()]

    def migrate(self) -> None:
        if self.at_head():
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            config.attributes["legacy_feedback"] = self.legacy_feedback
            command.upgrade(config, "head")

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("Store.open() must be called first")
        return self._engine

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction, committed at the end (rolled back on an error)."""
        if self._sessions is None:
            raise RuntimeError("Store.open() must be called first")
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only, in one transaction (on SQLite without the write lock)."""
        if self._readers is None:
            raise RuntimeError("Store.open() must be called first")
        with self._readers.begin() as session:
            yield session

    def run(self, work: Callable[[Session], T]) -> T:
        """``work`` in one transaction, run once more if it lost a race to insert
        a row another transaction inserted first (a unique key: ``IntegrityError``):
        the second time it finds that row and changes it instead."""
        try:
            with self.transaction() as session:
                return work(session)
        except IntegrityError:
            with self.transaction() as session:
                return work(session)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessions = None
            self._readers = None
