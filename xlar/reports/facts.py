"""What the worksheet functions read, and the cache that makes a recalculation cheap.

A recalculation of thousands of =AR_… cells costs one store statement: the first cell loads
the book's open items as of its date, the customers, the settings and the store's change
counter in ONE union query (a consistent snapshot); every later cell is answered from it.
The snapshot is reused while cells keep coming; after a pause of IDLE seconds the next
cell checks the change counter (one small statement) and reloads only when the store
changed, so a colleague's sync is seen at the next recalculation.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.aging import UNAPPLIED, AgingPolicy
from xlar.domain.items import OpenItem
from xlar.domain.money import Money, from_minor
from xlar.reports.collection import SALES_KINDS
from xlar.store.audit import store_version, version_columns, version_text
from xlar.store.engine import Store
from xlar.store.ledger import OPEN, OPEN_BASE, open_items_stmt
from xlar.store.reads import AnySelect
from xlar.store.settings import DEFAULTS
from xlar.store.tables import customers, documents, open_items, settings

T = TypeVar("T")
IDLE = 1.0   # seconds without a call that end a recalculation


@dataclass(slots=True)
class Ledger:
    as_of: date
    version: str
    settings: dict[str, str]
    currencies: dict[str, str]                       # customer code -> its currency
    items: dict[str, list[OpenItem]] = field(default_factory=dict)   # customer code -> items, aged as their own
    balances: dict[tuple[object, ...], float] = field(default_factory=dict)   # AR_BALANCE's answers, by its arguments

    @property
    def base_currency(self) -> str:
        return self.settings["base_currency"]

    @property
    def policy(self) -> AgingPolicy:
        return AgingPolicy.parse(self.settings["aging_basis"], self.settings["aging_buckets"])

    def bucket_of(self, item: OpenItem, policy: AgingPolicy) -> str:
        if item.credit:
            return UNAPPLIED
        return policy.bucket_of(item.due_on if policy.basis.value == "due" else item.doc_on, self.as_of)


def _null(kind: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
    return sa.cast(sa.null(), kind)


def ledger_stmt(as_of: date) -> sa.CompoundSelect[*tuple[Any, ...]]:
    """One statement: ('i', item…) rows, ('c', customer, currency) rows, ('k', setting, value)
    rows and one ('v', count, max id) row of the audit log (the store's change counter). An
    item's dates and side are those it ages by: an exchange difference's, its item's."""
    item = open_items_stmt(as_of).subquery("item")
    aged = open_items.alias("aged")
    doc_on, due_on = (sa.func.coalesce(aged.c[c], item.c[c]) for c in ("doc_on", "due_on"))
    sign = sa.func.coalesce(aged.c.amount_minor, item.c.amount_minor)
    text, day, minor = sa.String(), sa.Date(), sa.BigInteger()
    d = documents.c
    items = (sa.select(sa.literal("i", text), customers.c.code, item.c.currency, d.number, d.kind, d.status,
                       doc_on, due_on, sa.cast(sign, minor), sa.cast(item.c[OPEN], minor),
                       sa.cast(item.c[OPEN_BASE], minor), sa.cast(item.c.installment_no, minor),
                       sa.cast(item.c.id, minor), sa.cast(item.c.document_id, minor),
                       sa.cast(item.c.amount_minor, minor), sa.cast(item.c.revalues_id, minor))
             .select_from(item.join(customers, customers.c.id == item.c.customer_id)
                          .join(documents, d.id == item.c.document_id)
                          .outerjoin(aged, aged.c.id == item.c.revalues_id))
             .where(sa.or_(item.c[OPEN] != 0, item.c[OPEN_BASE] != 0)))
    nothing = [_null(text), _null(text), _null(day), _null(day), *[_null(minor)] * 8]
    people = sa.select(sa.literal("c", text), customers.c.code, customers.c.currency, _null(text), *nothing)
    keys = sa.select(sa.literal("k", text), settings.c.key, _null(text), settings.c.value, *nothing)
    count, last = version_columns()
    version = sa.select(sa.literal("v", text), _null(text), _null(text), _null(text), _null(text), _null(text),
                        _null(day), _null(day), sa.cast(count, minor), sa.cast(last, minor), *[_null(minor)] * 6)
    return sa.union_all(items, people, keys, version)


def load_ledger(conn: Connection, as_of: date) -> Ledger:
    ledger = Ledger(as_of, "", dict(DEFAULTS), {})
    found: dict[str, list[OpenItem]] = defaultdict(list)
    rows = conn.execute(ledger_stmt(as_of)).all()
    for row in rows:
        kind, code, currency, text = row[0], row[1], row[2], row[3]
        if kind == "c":
            ledger.currencies[code] = currency
        elif kind == "k":
            ledger.settings[code] = text or DEFAULTS.get(code, "")
        elif kind == "v":
            ledger.version = version_text(row[8], row[9])
    base = ledger.settings["base_currency"]
    of_minor = Money.of_minor
    for (kind, code, currency, number, doc_kind, status, doc_on, due_on, sign, open_minor, open_base, installment,
         item_id, document_id, amount, revalues) in rows:
        if kind == "i":
            found[code].append(OpenItem(item_id, document_id, code, number, doc_kind, status, int(installment),
                                        _day(doc_on), _day(due_on), of_minor(amount, currency),
                                        of_minor(open_minor, currency), of_minor(open_base, base), sign < 0,
                                        revalues))
    ledger.items = dict(found)
    return ledger


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def invoiced_stmt(start: date, end: date) -> AnySelect:
    """Base amount invoiced per customer with a document date in (START, END]: the sales of a
    DSO, as the reports count them (invoices, debit notes, deposit invoices; not voided ones)."""
    d = documents.c
    return (sa.select(customers.c.code, sa.func.sum(d.base_amount_minor))
            .join_from(documents, customers, customers.c.id == d.customer_id)
            .where(d.doc_on > start, d.doc_on <= end, d.kind.in_(SALES_KINDS), d.status.in_(("posted", "approved")))
            .group_by(customers.c.code))


class Facts:
    """Snapshots per store and date, checked against the store's change counter (see the module doc)."""

    def __init__(self, idle: float = IDLE, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle, self.clock = idle, clock
        self._lock = threading.Lock()
        self._stores: dict[str, Store] = {}
        self._version: dict[str, str] = {}
        self._seen: dict[str, float] = {}
        self._ledgers: dict[tuple[str, date], Ledger] = {}
        self._derived: dict[tuple[str, str], object] = {}
        self.urls: dict[str, tuple[float, str]] = {}   # workbook -> (seen at, its store), for udfs.store_url

    def _store(self, url: str) -> Store:
        if url not in self._stores:
            self._stores[url] = Store.connect(url)
        return self._stores[url]

    def _fresh(self, url: str) -> None:
        """Forget URL's snapshots if its store changed (checked once per recalculation)."""
        now = self.clock()
        quiet = now - self._seen.get(url, float("-inf")) >= self.idle
        self._seen[url] = now
        if not quiet or url not in self._version:
            return
        with self._store(url).read() as conn:
            version = store_version(conn)
        if version != self._version[url]:
            self._drop(url)
            self._version[url] = version

    def _drop(self, url: str) -> None:
        self._ledgers = {k: v for k, v in self._ledgers.items() if k[0] != url}
        self._derived = {k: v for k, v in self._derived.items() if k[0] != url}

    def ledger(self, url: str, as_of: date) -> Ledger:
        with self._lock:
            self._fresh(url)
            key = (url, as_of)
            if key not in self._ledgers:
                with self._store(url).read() as conn:
                    ledger = load_ledger(conn, as_of)
                if self._version.get(url) not in (None, ledger.version):   # changed meanwhile:
                    self._drop(url)                                        # no older snapshot stays
                self._ledgers[key] = ledger
                self._version[url] = ledger.version
            return self._ledgers[key]

    def sales(self, url: str, as_of: date, days: int, base: str) -> dict[str, Decimal]:
        """Customer -> base amount (in BASE) invoiced in the DAYS up to AS_OF."""
        def invoiced(conn: Connection) -> dict[str, Decimal]:
            rows = conn.execute(invoiced_stmt(as_of - timedelta(days=days), as_of)).all()
            return {code: from_minor(total, base) for code, total in rows}
        return self.derived(url, f"sales {as_of} {days}", invoiced)

    def derived(self, url: str, key: str, compute: Callable[[Connection], T]) -> T:
        """What COMPUTE reads from the store, kept until the store changes (figures a service
        computes per customer, such as a credit exposure: a few statements the first time)."""
        with self._lock:
            self._fresh(url)
            if (url, key) not in self._derived:
                with self._store(url).read() as conn:
                    self._derived[(url, key)] = compute(conn)
            return self._derived[(url, key)]  # type: ignore[return-value]  # each key is computed by one COMPUTE, whose type it keeps

    def forget(self) -> None:
        """Drop every snapshot and close the stores (tests; a store moved)."""
        with self._lock:
            for store in self._stores.values():
                store.dispose()
            self._stores.clear()
            self._version.clear()
            self._seen.clear()
            self._ledgers.clear()
            self._derived.clear()
            self.urls.clear()


FACTS = Facts()
