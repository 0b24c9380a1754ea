"""Opening a store: URLs, connection settings per backend, transactions and migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine, make_url

from xlar.domain.errors import StoreError
from xlar.store import seals
from xlar.store.audit import serialise_writers
from xlar.store.config import STORE_KEY, configured

DEFAULT_STORE = "sqlite:///xlar.db"
# A writer waits this long for the write lock. SQLite's waiting is not a queue (a waiter can be
# passed over again and again), and a sync holds the lock while it writes the workbook: 8
# colleagues syncing one file at once were seen waiting 36 s (tests/reliability/concurrency.py).
SQLITE_BUSY_TIMEOUT_MS = 120_000
_MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept a bare path as a SQLite file and plain postgresql:// URLs (psycopg 3 driver)."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def resolve_url(url: str | None) -> str:
    """The store URL: the one given, else XLAR_STORE (environment, then the config file), else
    xlar.db in the current folder."""
    return normalize_url(url or configured(STORE_KEY) or DEFAULT_STORE)


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        # the seals' triggers hash a row as it was before xlar updates it (store.seals)
        dbapi_conn.create_function(seals.ROW_HASH_FUNCTION, -1, seals.sqlite_row_hash, deterministic=True)

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the write lock up front, so two writers queue on busy_timeout
        # instead of failing when one upgrades a read lock.
        mode = conn.get_execution_options().get("xlar_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode else "BEGIN")

    return engine


class Store:
    """One book of record. Every unit of work is one transaction: `read()` or `write()`."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    def connect(cls, url: str | None = None) -> Store:
        """An engine for URL without checking the schema (for init and tests)."""
        resolved = resolve_url(url)
        parsed = make_url(resolved)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                _refuse_other_files(Path(parsed.database))
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            return cls(resolved, _sqlite_engine(resolved))
        if parsed.get_backend_name() != "postgresql":
            raise StoreError(f"unsupported store {parsed.drivername!r}: use sqlite:/// or postgresql://")
        return cls(resolved, sa.create_engine(resolved, pool_pre_ping=True))

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open an initialised store at its current schema, or say how to get there."""
        resolved = resolve_url(url)
        parsed = make_url(resolved)
        if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
            _refuse_other_files(Path(parsed.database or ""))
            raise StoreError(f"no store at {parsed.database}: run `xlar --store {resolved} init`")
        store = cls.connect(resolved)
        try:
            current = store.schema_revision()
        except sa.exc.OperationalError as exc:
            store.dispose()
            reason = " ".join(str(exc.orig).split())
            raise StoreError(f"cannot open store {store.safe_url}: {reason}") from None
        if current is None:
            store._refuse_other_programs()
        if current != head_revision():
            store.dispose()
            what = "is not initialised" if current is None else f"is at schema {current}"
            raise StoreError(f"store {store.safe_url} {what}: run `xlar --store {store.safe_url} init`")
        return store

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read that sees one state of the store throughout, whatever commits meanwhile
        (PostgreSQL: REPEATABLE READ; a SQLite read transaction is one already)."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self, *, sealed: bool = True) -> Iterator[Connection]:
        """One write transaction: commits when the block ends, rolls back on any error. The
        rows it changed are sealed before it commits (store.seals); migrations are not."""
        with self.engine.connect().execution_options(xlar_write=True) as conn, conn.begin():
            serialise_writers(conn)
            sealed = sealed and seals.track(conn)
            yield conn
            if sealed:
                seals.seal(conn)

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (creating it in an empty store)."""
        if self.schema_revision() is None:
            self._refuse_other_programs()
        with self.write(sealed=False) as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            if seals.unsealed(conn):
                seals.seal_all(conn)

    def dispose(self) -> None:
        self.engine.dispose()

    def _refuse_other_programs(self) -> None:
        """A SQLite file without xlar's schema that holds tables is another program's database:
        never made into a store (nor said to need `xlar init`)."""
        if self.dialect == "sqlite" and sa.inspect(self.engine).get_table_names():
            self.dispose()
            raise StoreError(f"{make_url(self.url).database} is not an xlar store: it is another program's "
                             "SQLite database")


def _refuse_other_files(path: Path) -> None:
    """Refuse PATH as a SQLite store when it is a folder or a file of something else (the
    workbook, a CSV): SQLite would otherwise fail half way, or write its journal into it.

    SQLite itself reads the header (read-only): a plain open() and close() of the file would drop
    the POSIX locks this process's other connections to it hold, and let another process write
    at the same time (a corrupted database)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not an xlar store: give the store's file (…/xlar.db)")
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            probe.execute("PRAGMA schema_version").fetchone()
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "encrypted" in str(exc):
            raise StoreError(f"{path} is not an xlar store (not a SQLite database): give the store's "
                             "file (…/xlar.db) or a postgresql:// URL") from None


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
