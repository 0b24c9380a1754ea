"""Month-end FX revaluation (期末调汇): open foreign-currency items brought to the period's rate.

`preview` lists, per open item, what it is booked at in base currency (its own rate, plus
what earlier runs of the same month booked on it), what it is worth at the period's rate
(FxRates) and the unrealized difference. `revalue` posts the differences as FX adjustment
documents (FX-…, one per customer and currency, one open item per revalued item, Dr AR /
Cr FX gain or Dr FX loss / Cr AR) dated the period's last day, and their reversals (RV-…)
dated the next day: the next month starts again from the items' own rates, so the realized
difference at matching is measured from the original rate. Running it again posts only
what changed since (a late invoice, a payment dated in the month, a corrected rate).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.close import revalued_minor
from xlar.domain.documents import DocKind, DocStatus, fx_realized_journal
from xlar.domain.errors import InvalidDocument
from xlar.domain.money import from_minor, parse_rate, to_minor
from xlar.domain.periods import ensure_open, first_day, last_day, next_period, parse_period
from xlar.store.audit import record, record_many
from xlar.store.documents import insert as insert_documents
from xlar.store.ledger import OPEN, OPEN_BASE, journal_rows, lock_ledger, open_items_stmt, write_journal
from xlar.store.numbering import reserve_numbers
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import customers, documents, fx_rates, open_items
from xlar.store.writes import execute_many, insert_rows

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RevaluationLine:
    item_id: int
    document: str
    kind: str
    customer_id: int
    customer: str
    currency: str
    doc_on: date
    due_on: date
    installment_no: int
    open: Decimal            # in the document's currency, at the period's end
    book_base: Decimal       # the item's own base amount of what is open (its own rate)
    booked: Decimal          # what earlier runs of the month booked on it (base)
    rate: Decimal | None     # the period's rate (None: FxRates has none)
    revalued: Decimal        # what it is worth at the rate
    difference: Decimal      # still to book: revalued - book_base - booked

    @property
    def book_rate(self) -> Decimal | None:
        return None if not self.open else (self.book_base / self.open).quantize(Decimal("0.000001"))


@dataclass(frozen=True, slots=True)
class Preview:
    period: str
    lines: list[RevaluationLine]      # every open foreign item (and items revalued earlier this month)
    missing_rates: list[str]          # currencies with open items and no rate for the period

    @property
    def to_post(self) -> list[RevaluationLine]:
        return [ln for ln in self.lines if ln.difference and ln.rate is not None]

    @property
    def total(self) -> Decimal:
        return sum((ln.difference for ln in self.to_post), ZERO)


def ensure_rate_open(currency: object, period: object, closed_period: str | None) -> None:
    """A closed month's rates are frozen: its revaluation was booked with them."""
    ensure_open(parse_period(str(period)), closed_period, f"the {currency} rate of {period}")


def set_rate(conn: Connection, currency: str, period: str, rate: Decimal, user: str) -> None:
    """Store the period-end RATE of CURRENCY for PERIOD (FxRates); a closed month's rates are frozen."""
    book = read_settings(conn)
    ensure_rate_open(currency, period, book.closed_period)
    if currency == book.base_currency:
        raise InvalidDocument(f"{currency} is the base currency: it has no rate")
    rate = parse_rate(rate)
    r = fx_rates.c
    before = conn.execute(sa.select(r.id, r.rate).where(r.currency == currency, r.period == period)).first()
    if before is None:
        row_id = insert_rows(conn, fx_rates, [{"currency": currency, "period": period, "rate": rate}])[0]
    else:
        row_id = before.id
        conn.execute(fx_rates.update().where(r.id == row_id).values(rate=rate, rev=r.rev + 1))
    record(conn, user, "create" if before is None else "update", "fx_rates", row_id,
           None if before is None else {"rate": before.rate}, {"currency": currency, "period": period, "rate": rate})


def rates_of(conn: Connection, period: str) -> dict[str, Decimal]:
    return dict(conn.execute(sa.select(fx_rates.c.currency, fx_rates.c.rate).where(fx_rates.c.period == period)).all())


def preview(conn: Connection, period: str, book: BookSettings | None = None, *, to_post_only: bool = False
            ) -> Preview:
    """What revaluing PERIOD would book, item by item (one query); TO_POST_ONLY leaves out the
    items already revalued (what a close checks)."""
    book = book or read_settings(conn)
    end = last_day(period)
    base = book.base_currency
    oi = open_items.c
    booked = (sa.select(oi.revalues_id.label("item_id"), sa.func.sum(oi.base_amount_minor).label("booked"))
              .where(oi.revalues_id.is_not(None), oi.doc_on <= end).group_by(oi.revalues_id).subquery("booked"))
    item = open_items_stmt(end, foreign_to=base).where(oi.revalues_id.is_(None)).subquery("item")
    d, c = documents.c, customers.c
    rows = conn.execute(
        sa.select(item.c.id, item.c.customer_id, item.c.currency, item.c.doc_on, item.c.due_on,
                  item.c.installment_no, item.c[OPEN], item.c[OPEN_BASE],
                  sa.func.coalesce(booked.c.booked, 0).label("booked"),
                  d.number, d.kind, c.code)
        .select_from(item.outerjoin(booked, booked.c.item_id == item.c.id)
                     .join(documents, d.id == item.c.document_id).join(customers, c.id == item.c.customer_id))
        .where(sa.or_(item.c[OPEN] != 0, sa.func.coalesce(booked.c.booked, 0) != 0))
        .order_by(c.code, item.c.currency, item.c.due_on, item.c.id)).mappings().all()
    rates = rates_of(conn, period)
    lines, missing = [], set()
    for r in rows:
        cur = r["currency"]
        rate = rates.get(cur)
        if rate is None:
            missing.add(cur)
            revalued = difference = 0
        else:
            revalued = revalued_minor(r[OPEN], cur, rate, base)
            difference = revalued - r[OPEN_BASE] - r["booked"]
            if to_post_only and not difference:
                continue
        lines.append(RevaluationLine(r["id"], r["number"] or f"draft #{r['id']}", r["kind"], r["customer_id"],
                                     r["code"], cur, r["doc_on"], r["due_on"], r["installment_no"],
                                     from_minor(r[OPEN], cur), from_minor(r[OPEN_BASE], base),
                                     from_minor(r["booked"], base), rate, from_minor(revalued, base),
                                     from_minor(difference, base)))
    return Preview(period, lines, sorted(missing))


def revalue(conn: Connection, period: str, user: str, *, book: BookSettings | None = None) -> list[str]:
    """Post PERIOD's unrealized exchange differences and their reversals; returns the numbers of
    the FX adjustment documents posted (none when everything is already revalued)."""
    book = book or read_settings(conn)
    end = last_day(period)
    ensure_open(end, book.closed_period, f"revaluation of {period}")
    lock_ledger(conn)   # two runs at once: the second sees what the first booked
    found = preview(conn, period, book)
    if found.missing_rates:
        raise InvalidDocument(f"revaluation of {period} needs the period's rate of "
                              f"{', '.join(found.missing_rates)} on the FxRates sheet")
    groups: dict[tuple[int, str], list[RevaluationLine]] = defaultdict(list)
    for line in found.to_post:
        groups[(line.customer_id, line.currency)].append(line)
    if not groups:
        return []
    reverse_on = first_day(next_period(period))
    keys = sorted(groups)
    numbers = reserve_numbers(conn, DocKind.FX_ADJUSTMENT, end.year, len(keys))
    reversal_numbers = reserve_numbers(conn, DocKind.REVERSAL, reverse_on.year, len(keys))
    now = datetime.now(UTC)
    stamp = {"status": DocStatus.POSTED.value, "created_by": user, "created_at": now,
             "posted_by": user, "posted_at": now, "net_minor": 0, "tax_minor": 0, "amount_minor": 0}
    diffs = {key: [to_minor(ln.difference, book.base_currency) for ln in groups[key]] for key in keys}
    rows = []
    for key, number in zip(keys, numbers, strict=True):
        customer_id, cur = key
        net = sum(diffs[key])
        rate = groups[key][0].rate
        rows.append({**stamp, "kind": DocKind.FX_ADJUSTMENT.value, "number": number, "customer_id": customer_id,
                     "doc_on": end, "due_on": end, "currency": cur, "fx_rate": rate, "base_amount_minor": abs(net),
                     "source": f"revaluation {period}",
                     "memo": f"unrealized exchange {'gain' if net > 0 else 'loss'} of {period} at {rate}"})
    docs = insert_documents(conn, rows)
    reversal_rows = [
        {**{k: getattr(doc, k) for k in ("customer_id", "currency", "fx_rate", "base_amount_minor")},
         **stamp, "kind": DocKind.REVERSAL.value, "number": number, "doc_on": reverse_on,
         "due_on": reverse_on, "reverses_id": doc.id, "reference": doc.number,
         "source": f"revaluation {period}", "memo": f"reversal of {doc.number} on the 1st"}
        for doc, number in zip(docs, reversal_numbers, strict=True)]
    reversals = insert_documents(conn, reversal_rows)
    items, journal = [], []
    for key, doc, rev in zip(keys, docs, reversals, strict=True):
        for no, (line, diff) in enumerate(zip(groups[key], diffs[key], strict=True), start=1):
            one = {"customer_id": line.customer_id, "currency": line.currency, "installment_no": no,
                   "amount_minor": 0, "due_on": line.due_on, "revalues_id": line.item_id}
            items += [{**one, "document_id": doc.id, "doc_on": end, "base_amount_minor": diff},
                      {**one, "document_id": rev.id, "doc_on": reverse_on, "base_amount_minor": -diff}]
        net = sum(diffs[key])
        if net:  # a rise of the receivable is a gain (Dr AR / Cr gain), a fall a loss (Dr loss / Cr AR)
            lines = fx_realized_journal(-net, book.accounts)
            journal += journal_rows(doc, lines) + journal_rows(rev, [ln.swapped() for ln in lines])
    execute_many(conn, open_items.insert(), items)
    write_journal(conn, journal, book.accounts.receivable)
    record_many(conn, user, "revalue", "document", [
        (d.id, None, row) for d, row in zip([*docs, *reversals], [*rows, *reversal_rows], strict=True)])
    return [str(d.number) for d in docs]

