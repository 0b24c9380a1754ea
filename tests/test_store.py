"""The store: migrations match the tables, URLs resolve, SQLite runs in WAL mode."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from xlar.domain.errors import StoreError
from xlar.store.engine import Store, head_revision, normalize_url, resolve_url
from xlar.store.tables import metadata


def test_migrations_create_exactly_the_declared_tables(store):
    with store.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert store.schema_revision() == head_revision()


def test_upgrade_is_idempotent(store):
    store.upgrade()
    assert store.schema_revision() == head_revision()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    store = Store.connect(f"sqlite:///{tmp_path / 'wal.db'}")
    store.upgrade()
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 120_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.dispose()


def test_urls(monkeypatch, tmp_path):
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv("XLAR_STORE", "postgresql://x@y/z")
    assert resolve_url(None) == "postgresql+psycopg://x@y/z"
    assert resolve_url("sqlite:///k.db") == "sqlite:///k.db"


def test_opening_a_missing_or_empty_store_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match=r"run `xlar --store sqlite:///.*none.db init`"):
        Store.open(f"sqlite:///{tmp_path / 'none.db'}")
    empty = Store.connect(f"sqlite:///{tmp_path / 'empty.db'}")
    with empty.write() as conn:
        conn.exec_driver_sql("PRAGMA user_version = 1")   # a SQLite file with no table
    empty.dispose()
    with pytest.raises(StoreError, match="is not initialised"):
        Store.open(f"sqlite:///{tmp_path / 'empty.db'}")
    other = Store.connect(f"sqlite:///{tmp_path / 'other.db'}")
    with other.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    other.dispose()
    for attempt in (lambda: Store.open(other.url), lambda: Store.connect(other.url).upgrade()):
        with pytest.raises(StoreError, match="other.db is not an xlar store: it is another program's"):
            attempt()
    assert Store.connect(other.url).schema_revision() is None   # no xlar table was made in it
    with pytest.raises(StoreError, match="unsupported store"):
        Store.connect("mysql://x@y/z")
