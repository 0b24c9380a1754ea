"""Users and roles of a book.

The book's users are named in three settings: `clerks` (enter documents and sync),
`approvers` (approve receipts someone else entered, override a credit limit, write off
beyond the tolerance) and `admins` (reopen a closed month, change settings, name users and
their roles). Approvers and admins may enter and sync too. A book that names no clerks is
open for entry: anyone may enter and sync (the roles no one holds are refused to all); once
it names clerks, no one outside its clerks, approvers and admins changes anything.

Each rule is enforced where the work is done: the services check the role they need, and
every change of the store passes `admit` (the audit log records every change, so every
change comes through it): no one outside a book that has users changes anything.

Who is acting is what the caller says (`--user`, XLAR_USER, the login name) unless the
setting `authentication` is `database`: then, on PostgreSQL, it is the database login
(`session_user`), and a change claimed in another name is refused. See docs/roles.md for
setting up one login per person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.errors import NotAllowed
from xlar.store.tables import settings as settings_table

if TYPE_CHECKING:
    from xlar.store.settings import BookSettings

ROLES = ("clerks", "approvers", "admins")
_KEYS = (*ROLES, "authentication")


def roster(book: BookSettings) -> frozenset[str]:
    """Everyone who may change the book, whatever their role; empty for a book open for entry
    (one that names no clerks)."""
    return book.clerks | book.approvers | book.admins if book.clerks else frozenset()


def stranger(user: str, users: frozenset[str]) -> str:
    return (f"{user} is not a user of this book: its users are the clerks, approvers and admins its "
            f"settings name ({', '.join(sorted(users))}); an admin adds users")


def _names(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.replace("，", ",").split(",") if part.strip())


def admit(conn: Connection, user: str) -> None:
    """Refuse a change by USER when the book has users and USER is not one of them, or when the
    book authenticates by database login and USER is not the login. Read once per transaction
    (settings changes forget it)."""
    tx = conn.get_transaction()
    cached = conn.info.get("xlar_admit")
    if cached is not None and cached[0] is tx and cached[1] == user:
        return
    values = dict(conn.execute(sa.select(settings_table.c.key, settings_table.c.value)
                               .where(settings_table.c.key.in_(_KEYS))).all())
    clerks = _names(values.get("clerks", ""))
    users = clerks.union(*(_names(values.get(k, "")) for k in ROLES)) if clerks else frozenset()
    if users and user not in users:
        raise NotAllowed(stranger(user, users))
    if values.get("authentication") == "database":
        authenticate(conn, user)
    conn.info["xlar_admit"] = (tx, user)


def authenticate(conn: Connection, user: str) -> None:
    """Refuse USER unless it is the database login (a book whose authentication is database)."""
    if conn.dialect.name != "postgresql":
        raise NotAllowed("this book takes the user from the database login, which only a PostgreSQL store has")
    login = conn.exec_driver_sql("SELECT session_user").scalar()
    if login != user:
        raise NotAllowed(f"this book takes the user from the database login: you are logged in as "
                         f"{login}, and cannot act as {user}")


def forget(conn: Connection) -> None:
    """The users may have changed: admit reads them again."""
    conn.info.pop("xlar_admit", None)
