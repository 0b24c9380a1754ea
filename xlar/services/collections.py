"""Collections (催收): who to contact today and why, at which reminder level, and the record
of reminders sent (Contacts rows, audited).

A customer's level comes from its oldest overdue item that is not disputed (days past due
against the levels of its credit class: ReminderLevels sheet, else the defaults). A promise to
pay (the latest Contacts row with a promised date) holds the dunning until that date; broken
(the date passed and less came in since it was made than promised) it escalates one level."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.collections import DueItem, Promise, ReminderLevel, dun, levels_for
from xlar.domain.money import from_minor
from xlar.store.audit import record_many
from xlar.store.ledger import OPEN, open_items_stmt
from xlar.store.tables import contacts, customers, documents, reminder_levels
from xlar.store.writes import insert_rows

ZERO = Decimal(0)
# documents that leave the customer owing: their items are what a customer pays, late or not
OWED_KINDS = ("invoice", "debit_note", "deposit_invoice", "opening_balance", "transfer_debit")


def levels(conn: Connection) -> list[ReminderLevel]:
    """The ReminderLevels sheet's rows (empty: the defaults apply)."""
    r = reminder_levels.c
    return [ReminderLevel(row.credit_class, row.level, row.days, row.channel, row.letter_zh or "", row.letter_en or "")
            for row in conn.execute(sa.select(r.credit_class, r.level, r.days, r.channel, r.letter_zh, r.letter_en)
                                    .order_by(r.credit_class, r.level))]


@dataclass(slots=True)
class WorkItem:
    """One customer to contact (or held), with everything the collector needs on one line."""

    customer: str
    name: str
    salesperson: str
    credit_class: str
    contact: str
    phone: str
    email: str
    level: ReminderLevel | None
    reason: str
    overdue: dict[str, Decimal]            # currency -> overdue, disputed items left out
    held_disputed: dict[str, Decimal]      # currency -> disputed and overdue (held out)
    oldest_days: int
    promise: str                           # '' or 'pending 2026-11-30 5,000.00' …
    last_contact: date | None
    next_action: str
    items: list[DueItem] = field(default_factory=list)   # what the letter lists

    @property
    def to_contact(self) -> bool:
        return self.level is not None


def _items(conn: Connection, as_of: date, customer: str | None, salesperson: str | None
           ) -> dict[str, list[DueItem]]:
    listing = open_items_stmt(as_of).subquery("listing")
    d, c = documents.c, customers.c
    stmt = (sa.select(c.code, d.number, listing.c.installment_no, listing.c.doc_on, listing.c.due_on,
                      listing.c.currency, listing.c[OPEN], d.disputed)
            .join_from(listing, documents, d.id == listing.c.document_id)
            .join(customers, c.id == listing.c.customer_id)
            .where(listing.c[OPEN] != 0, listing.c.revalues_id.is_(None),
                   sa.or_(listing.c[OPEN] < 0, d.kind.in_(OWED_KINDS)))
            .order_by(c.code, listing.c.due_on, d.number, listing.c.installment_no))
    if customer:
        stmt = stmt.where(c.code == customer)
    if salesperson:
        stmt = stmt.where(c.salesperson == salesperson)
    found: dict[str, list[DueItem]] = {}
    for code, number, inst, on, due, cur, open_minor, disputed in conn.execute(stmt):
        found.setdefault(code, []).append(DueItem(number, inst, on, due, cur, from_minor(open_minor, cur),
                                                  disputed == "yes"))
    return found


@dataclass(frozen=True, slots=True)
class _Contacted:
    last: date                      # the latest contact on or before the date
    next_action: str
    promise: Promise | None         # the latest promise to pay


def _last_contacts(conn: Connection, codes: Sequence[str], as_of: date) -> dict[str, _Contacted]:
    """Per customer: the latest contact on or before AS_OF and the latest promise to pay."""
    k, c = contacts.c, customers.c
    rows = conn.execute(sa.select(c.code, k.contacted_on, k.id, k.promise_on, k.promise_amount_minor, c.currency,
                                  k.next_action)
                        .join(customers, c.id == k.customer_id)
                        .where(k.contacted_on <= as_of, c.code.in_(list(codes)))
                        .order_by(c.code, k.contacted_on, k.id)).all()
    found: dict[str, _Contacted] = {}
    for code, on, _id, promise_on, amount, currency, next_action in rows:
        promise = found[code].promise if code in found else None
        if promise_on is not None:
            promise = Promise(on, promise_on, None if amount is None else from_minor(amount, currency))
        found[code] = _Contacted(on, next_action or "", promise)
    return found


def _received_since(conn: Connection, since: dict[str, date], as_of: date) -> dict[str, Decimal]:
    """Per customer: receipts dated after its promise was made, up to AS_OF (its currency's amounts)."""
    if not since:
        return {}
    d, c = documents.c, customers.c
    rows = conn.execute(sa.select(c.code, d.doc_on, d.amount_minor, d.currency)
                        .join(customers, c.id == d.customer_id)
                        .where(d.kind == "receipt", d.status.in_(("posted", "approved")), d.doc_on <= as_of,
                               d.currency == c.currency,      # a promise is in the customer's currency
                               d.doc_on >= min(since.values()), c.code.in_(list(since)))).all()
    got: dict[str, Decimal] = {}
    for code, on, amount, currency in rows:
        if on >= since[code]:
            got[code] = got.get(code, ZERO) + from_minor(amount, currency)
    return got


def worklist(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None,
             locale: str = "en", items: dict[str, list[DueItem]] | None = None) -> list[WorkItem]:
    """Every customer with open items: its reminder level today and why, or why it is held;
    those to contact first (highest level, most overdue) first. ITEMS: each customer's open
    items as `_items` reads them, when the caller has them already."""
    if items is None:
        items = _items(conn, as_of, customer, salesperson)
    c = customers.c
    people = {r.code: r for r in conn.execute(
        sa.select(c.code, c.name, c.salesperson, c.credit_class, c.contact, c.phone, c.email)
        .where(c.code.in_(list(items))))}
    all_levels = levels(conn)
    contacts_of = _last_contacts(conn, list(items), as_of)
    promised = {code: p.promise.made_on for code, p in contacts_of.items() if p.promise is not None}
    received = _received_since(conn, promised, as_of)
    zh = locale == "zh-CN"
    work = []
    for code, mine in items.items():
        info = contacts_of.get(code)
        promise = info.promise if info is not None else None
        who = people[code]
        found = dun(mine, levels_for(all_levels, who.credit_class), promise, received.get(code, ZERO), as_of)
        if found is None:
            continue
        work.append(WorkItem(code, who.name, who.salesperson or "", who.credit_class or "", who.contact or "",
                             who.phone or "", who.email or "", found.level, found.reason(zh), found.overdue,
                             found.held, max(found.oldest or 0, 0), found.promise_text(zh),
                             info.last if info else None, info.next_action if info else "", found.letter))
    work.sort(key=lambda w: (-(w.level.level if w.level else 0), -w.oldest_days, w.customer))
    return work


def record_reminders(conn: Connection, sent: Sequence[WorkItem], on: date, user: str) -> list[int]:
    """A Contacts row per reminder sent (method = its channel, result = what was sent), audited."""
    ids = {code: cid for cid, code in conn.execute(sa.select(customers.c.id, customers.c.code)
                                                  .where(customers.c.code.in_([w.customer for w in sent])))}
    rows = []
    for w in sent:
        assert w.level is not None
        total = "; ".join(f"{cur} {amount:,}" for cur, amount in sorted(w.overdue.items())) or "upcoming"
        method = w.level.channel if w.level.channel in ("phone", "email", "visit", "letter", "wechat") else "letter"
        rows.append({"customer_id": ids[w.customer], "contacted_on": on, "method": method, "person": w.contact or None,
                     "result": f"reminder level {w.level.level} sent ({total})", "promise_on": None,
                     "promise_amount_minor": None, "next_action": f"follow up level {w.level.level}"})
    new = insert_rows(conn, contacts, rows)
    record_many(conn, user, "create", "contacts", [(i, None, r) for i, r in zip(new, rows, strict=True)])
    return new



