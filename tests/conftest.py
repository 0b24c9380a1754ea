"""Fixtures: every store test runs on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.pgserver import DEFAULT_URL, ThrowawayCluster, answers
from xlar.store.engine import Store
from xlar.store.settings import write_settings
from xlar.store.tables import metadata

BACKENDS = ["sqlite", "postgresql"]
SETTINGS = {"company": "Test Co.", "base_currency": "CNY", "current_period": "2026-03"}


class PostgresServer:
    """The session's server: a URL to create per-test schemas in."""

    def __init__(self) -> None:
        self.url = os.environ.get("XLAR_TEST_PG", DEFAULT_URL)
        self.cluster: ThrowawayCluster | None = None
        self.error: str | None = None
        if not answers(self.url):
            try:
                self.cluster = ThrowawayCluster()
                self.url = self.cluster.url
            except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:  # skip, or fail if required
                self.error = f"no PostgreSQL at {self.url} and none could be started: {exc}"
        self.admin = None if self.error else sa.create_engine(self.url)

    def schema_url(self, schema: str) -> str:
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def create_schema(self) -> str:
        assert self.admin is not None
        schema = f"xlar_t_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        return schema

    def drop_schema(self, schema: str) -> None:
        assert self.admin is not None
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")

    def stop(self) -> None:
        if self.admin is not None:
            self.admin.dispose()
        if self.cluster is not None:
            self.cluster.stop()


@pytest.fixture(autouse=True, scope="session")
def _no_user_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests never read the xlar config file of whoever runs them."""
    before = os.environ.get("XLAR_CONFIG")
    os.environ["XLAR_CONFIG"] = str(tmp_path_factory.mktemp("config") / "xlar.conf")
    os.environ["XLAR_LOCALE"] = "en"   # the messages tests expect, whatever the machine's language
    yield
    if before is None:
        os.environ.pop("XLAR_CONFIG", None)
    else:
        os.environ["XLAR_CONFIG"] = before


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


def _require(server: PostgresServer) -> None:
    if server.error:
        if os.environ.get("XLAR_REQUIRE_PG") == "1":
            pytest.fail(server.error)
        pytest.skip(server.error)


def seed(store: Store) -> Store:
    store.upgrade()
    with store.write() as conn:
        write_settings(conn, SETTINGS, "setup")
    return store


class Backend:
    """Makes fresh, migrated stores of one kind: a SQLite file or a PostgreSQL schema."""

    def __init__(self, name: str, tmp: Path, server: PostgresServer | None) -> None:
        self.name = name
        self.tmp = tmp
        self.server = server
        self._count = itertools.count()
        self._template: Path | None = None
        self._shared: tuple[Store, str] | None = None

    def url(self) -> str:
        """A URL for a new empty store (for CLI tests that run `xlar init`)."""
        if self.name == "sqlite":
            return f"sqlite:///{self.tmp / f'store{next(self._count)}.db'}"
        assert self.server is not None
        return self.server.schema_url(self.server.create_schema())

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A new migrated store with settings; removed afterwards."""
        if self.name == "sqlite":
            if self._template is None:
                self._template = self.tmp / "template.db"
                # closing the last connection checkpoints the WAL into the file
                seed(Store.connect(f"sqlite:///{self._template}")).dispose()
            path = self.tmp / f"store{next(self._count)}.db"
            shutil.copyfile(self._template, path)
            store = Store.open(f"sqlite:///{path}")
            try:
                yield store
            finally:
                store.dispose()
            return
        assert self.server is not None
        schema = self.server.create_schema()
        store = seed(Store.connect(self.server.schema_url(schema)))
        try:
            yield store
        finally:
            store.dispose()
            self.server.drop_schema(schema)

    @contextmanager
    def reused_store(self) -> Iterator[Store]:
        """For property tests: one store per backend, emptied before each use."""
        if self.name == "sqlite":
            with self.store() as store:
                yield store
            return
        if self._shared is None:
            assert self.server is not None
            schema = self.server.create_schema()
            self._shared = (seed(Store.connect(self.server.schema_url(schema))), schema)
        store = self._shared[0]
        names = ", ".join(t.name for t in metadata.sorted_tables if t.name != "settings")
        with store.write() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        yield store

    def close(self) -> None:
        if self._shared is not None:
            self._shared[0].dispose()
            assert self.server is not None
            self.server.drop_schema(self._shared[1])


@pytest.fixture(params=BACKENDS, scope="module")
def backend(request: pytest.FixtureRequest, pg_server: PostgresServer,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    if request.param == "postgresql":
        _require(pg_server)
    made = Backend(request.param, tmp_path_factory.mktemp(request.param), pg_server)
    yield made
    made.close()


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    with backend.store() as made:
        yield made
