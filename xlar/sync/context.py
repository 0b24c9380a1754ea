"""What every adapter of one sync shares: the user, the customers' codes, what rows said."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.errors import NotFound
from xlar.store import tables as t
from xlar.store.settings import read_settings

_NAME = re.compile(r"[^\s,;，；、/()（）]+")   # a document number within a reference


@dataclass(slots=True)
class Context:
    """What every adapter needs during one sync: the user and the customers' codes."""

    user: str
    base_currency: str
    code_of: dict[int, str] = field(default_factory=dict)
    id_of: dict[str, int] = field(default_factory=dict)
    currency_of: dict[str, str] = field(default_factory=dict)
    warnings: dict[int, str] = field(default_factory=dict)   # row id -> a warning the row's write gave
    notes: dict[int, str] = field(default_factory=dict)      # row id -> what of the row was not taken
    named_credits: set[str] = field(default_factory=set)    # receipts new Allocations rows name
    as_of: date | None = None                               # the sync's date (matches undone on it)
    closed_period: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)   # a number typed on a new row -> the store's
    locale: str = "en"                                      # the workbook's language (xlar's memos in it)

    @classmethod
    def load(cls, conn: Connection, user: str) -> Context:
        book = read_settings(conn)
        ctx = cls(user, book.base_currency, closed_period=book.closed_period)
        ctx.refresh(conn)
        return ctx

    def refresh(self, conn: Connection) -> None:
        rows = conn.execute(sa.select(t.customers.c.id, t.customers.c.code, t.customers.c.currency)).all()
        self.code_of = {i: c for i, c, _ in rows}
        self.id_of = {c: i for i, c, _ in rows}
        self.currency_of = {c: cur for _, c, cur in rows}

    def know(self, customer_id: int, code: str, currency: str) -> None:
        """Record a customer just written (cheaper than reloading them all)."""
        self.id_of.pop(self.code_of.get(customer_id, code), None)
        self.code_of[customer_id] = code
        self.id_of[code] = customer_id
        self.currency_of[code] = currency

    def resolve(self, name: str | None) -> str | None:
        """The store's number of the document NAME names: a new row of this sync is named by the
        number or Your ref. typed on it (a name that is a store number stays that number)."""
        return name if name is None else self.aliases.get(str(name), name)

    def resolve_text(self, text: str | None) -> str | None:
        """TEXT (a receipt's reference) with each whole name of a new row of this sync replaced by
        the store's number, so that matching by reference finds it."""
        if text is None or not self.aliases:
            return text
        return _NAME.sub(lambda m: self.aliases.get(m.group(0), m.group(0)), text)

    def customer_id(self, code: object) -> int:
        if code not in self.id_of:
            raise NotFound(f"unknown customer {code!r}")
        return self.id_of[str(code)]


Item = tuple[dict[str, object], Sequence[dict[str, object]]]   # a new row's values, its lines (invoices)
