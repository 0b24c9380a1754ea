"""The audit log: who changed what, when, with the row before and after."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.store.tables import audit_log
from xlar.store.writes import execute_many


def _plain(value: Any) -> Any:
    if isinstance(value, (Decimal, date, datetime)):
        return str(value)
    raise TypeError(f"cannot audit a {type(value).__name__}")


def as_json(values: Mapping[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps(dict(values), default=_plain, ensure_ascii=False, sort_keys=True)


def record(
    conn: Connection,
    user: str,
    action: str,
    entity: str,
    entity_id: object,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Append one audit record inside the caller's transaction."""
    record_many(conn, user, action, entity, [(entity_id, before, after)])


Entry = tuple[object, Mapping[str, Any] | None, Mapping[str, Any] | None]   # entity id, before, after


def record_many(conn: Connection, user: str, action: str, entity: str, entries: Iterable[Entry]) -> None:
    """Append one audit record per (entity id, before, after), in one batch."""
    at = datetime.now(UTC)
    rows = [{"at": at, "user_name": user, "action": action, "entity": entity, "entity_id": str(entity_id),
             "before": as_json(before), "after": as_json(after)} for entity_id, before, after in entries]
    execute_many(conn, _INSERT, rows)


_INSERT = audit_log.insert()


def store_version(conn: Connection) -> str:
    """A value that changes whenever anything in the store changes: every change is audited
    and the log only grows (its count moves even when a late commit fills an earlier id)."""
    count, last = conn.execute(sa.select(*version_columns())).one()
    return version_text(count, last)


def version_columns() -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    """The audit log's count and last id: what store_version is made of (to select it with other rows)."""
    return sa.func.count(audit_log.c.id), sa.func.max(audit_log.c.id)


def version_text(count: int, last: int | None) -> str:
    return f"{count}:{last or 0}"
