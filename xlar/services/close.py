"""Month-end close (应收月结): check the month is complete, snapshot it, and lock it.

`close` refuses while anything dated in or before the month is unfinished (drafts, draft
deliveries, receipts not yet approved, foreign-currency items not revalued) and names each;
otherwise it writes MonthlyStats per customer and currency (one set-based query), records
the close and moves the book's closed and current periods. From then on nothing dated in
the month can be added, changed, voided or matched (the services refuse with the document's
name; the store's guards refuse whatever slips past). An admin reopens the latest closed
month with a reason; `recompute` rebuilds a month's statistics from the ledger and shows
how they differ from the stored snapshot before replacing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from xlar.domain.close import (
    CATEGORY,
    COLUMNS,
    MOVEMENTS,
    Difference,
    Stat,
    differences,
)
from xlar.domain.errors import InvalidSetting, NotAllowed, PeriodClosed
from xlar.domain.periods import (
    first_day,
    last_day,
    next_period,
    parse_period,
    period_of,
    previous_period,
)
from xlar.domain.records import PeriodClose
from xlar.schema.messages import localize, localize_blocker
from xlar.services import fx
from xlar.store import audit, sealcheck
from xlar.store.audit import record
from xlar.store.ledger import lock_ledger
from xlar.store.reads import AnySelect
from xlar.store.settings import BookSettings, read_settings, set_periods
from xlar.store.tables import (
    STAT_NAMES,
    allocations,
    customers,
    deliveries,
    documents,
    monthly_stats,
    open_items,
    period_closes,
)

assert STAT_NAMES == COLUMNS  # the table's columns are the statistics' columns


@dataclass(frozen=True, slots=True)
class Blocker:
    """Something that keeps a month from closing: what it is and why."""

    what: str        # "invoice draft #7", "receipt RC-2026-00004", "USD rate"
    on: date | None
    reason: str

    def __str__(self) -> str:
        return self.said("en")

    def said(self, locale: str) -> str:
        """The blocker in LOCALE (schema.messages has the zh-CN patterns of what and why)."""
        on = f" ({self.on.isoformat()})" if self.on else ""
        if locale != "zh-CN":
            return f"{self.what}{on}: {self.reason}"
        on = f"（{self.on.isoformat()}）" if self.on else ""
        return f"{localize_blocker(self.what)}{on}：{localize(self.reason, locale)}"


@dataclass(slots=True)
class Closed:
    period: str
    customers: int = 0
    blockers: list[Blocker] = field(default_factory=list)
    current_period: str | None = None    # the book's current period after the close


def _category(d: sa.FromClause, r: sa.FromClause) -> ColumnElement[str]:
    """The statistic a document D moves: by its kind, a reversal by what it reverses (R)."""
    kind = sa.func.coalesce(r.c.kind, d.c.kind)
    return sa.case(*[(kind == k.value, category) for k, category in CATEGORY.items()], else_="adjusted")


def stats_stmt(period: str) -> AnySelect:
    """Per customer and currency: code, currency, then COLUMNS in document and in base currency.

    The balance moves by open items (dated) and, in base currency only, by matches whose two
    sides were booked at different rates (the realized exchange difference)."""
    start, end = first_day(period), last_day(period)
    oi, a = open_items.c, allocations.c
    debit, d, r = open_items.alias("debit"), documents.alias("d"), documents.alias("r")
    items = (sa.select(oi.customer_id, oi.currency, _category(d, r).label("cat"), oi.doc_on.label("on"),
                       oi.amount_minor.label("amount"), oi.base_amount_minor.label("base"))
             .select_from(open_items.join(d, d.c.id == oi.document_id).outerjoin(r, r.c.id == d.c.reverses_id))
             .where(oi.doc_on <= end))
    realized = (sa.select(debit.c.customer_id, debit.c.currency, sa.literal("fx").label("cat"),
                          a.effective_on.label("on"), sa.literal(0).label("amount"),
                          (a.credit_base_minor - a.debit_base_minor).label("base"))
                .join_from(allocations, debit, debit.c.id == a.debit_item_id)
                .where(a.effective_on <= end, a.credit_base_minor != a.debit_base_minor))
    moves = sa.union_all(items, realized).subquery("moves")
    m = moves.c
    inside = m.on >= start

    def total(column: str, when: ColumnElement[bool] | None) -> ColumnElement[int]:
        value = m[column] if when is None else sa.case((when, m[column]), else_=0)
        return sa.func.coalesce(sa.func.sum(value), 0)

    def figures(column: str, prefix: str) -> list[ColumnElement[int]]:
        return [total(column, ~inside).label(f"{prefix}opening"),
                *[total(column, inside & (m.cat == cat)).label(f"{prefix}{cat}") for cat in MOVEMENTS],
                total(column, None).label(f"{prefix}closing")]

    grouped = (sa.select(m.customer_id, m.currency, *figures("amount", ""), *figures("base", "base_"),
                         sa.func.sum(sa.case((inside, 1), else_=0)).label("moved"))
               .group_by(m.customer_id, m.currency).subquery("grouped"))
    g = grouped.c
    return (sa.select(customers.c.code, customers.c.id.label("customer_id"), g.currency,
                      *[g[c] for c in COLUMNS], *[g[f"base_{c}"] for c in COLUMNS])
            .join_from(grouped, customers, customers.c.id == g.customer_id)
            .where(sa.or_(g.moved > 0, g.opening != 0, g.base_opening != 0))
            .order_by(customers.c.code, g.currency))


def _stat(row: Mapping[Any, Any]) -> Stat:
    """A row of stats_stmt as a Stat."""
    return Stat(row["code"], row["currency"], {c: int(row[c]) for c in COLUMNS},
                {c: int(row[f"base_{c}"]) for c in COLUMNS})


def compute(conn: Connection, period: str) -> dict[tuple[str, str], Stat]:
    """PERIOD's statistics as the ledger gives them now."""
    return {(s.customer, s.currency): s for s in map(_stat, conn.execute(stats_stmt(period)).mappings())}


def snapshots(conn: Connection, periods: Sequence[str]) -> dict[str, dict[tuple[str, str], Stat]]:
    """The statistics of PERIODS as the last close (or recompute) stored them, in one query."""
    ms = monthly_stats.c
    figures = [*COLUMNS, *(f"base_{c}" for c in COLUMNS)]
    found: dict[str, dict[tuple[str, str], Stat]] = {p: {} for p in periods}
    for r in conn.execute(sa.select(ms.period, customers.c.code, ms.currency,
                                    *(ms[f"{f}_minor"].label(f) for f in figures))
                          .join_from(monthly_stats, customers, customers.c.id == ms.customer_id)
                          .where(ms.period.in_(list(periods))).order_by(ms.period, customers.c.code, ms.currency)
                          ).mappings():
        stat = _stat(r)
        found[r["period"]][(stat.customer, stat.currency)] = stat
    return found


def stored(conn: Connection, period: str) -> dict[tuple[str, str], Stat]:
    """PERIOD's statistics as the last close (or recompute) stored them."""
    return snapshots(conn, [period])[period]


def _snapshot(conn: Connection, period: str, user: str) -> int:
    """Replace PERIOD's stored statistics with what the ledger gives (one INSERT … SELECT)."""
    conn.execute(monthly_stats.delete().where(monthly_stats.c.period == period))
    stats = stats_stmt(period).subquery("stats")
    figures = [*COLUMNS, *(f"base_{c}" for c in COLUMNS)]
    select = sa.select(sa.literal(period), stats.c.customer_id, stats.c.currency, *(stats.c[f] for f in figures),
                       sa.literal(user), sa.literal(datetime.now(UTC), sa.DateTime(timezone=True)))
    conn.execute(monthly_stats.insert().from_select(
        ["period", "customer_id", "currency", *(f"{f}_minor" for f in figures), "computed_by", "computed_at"], select))
    return int(conn.execute(sa.select(sa.func.count()).select_from(monthly_stats)
                            .where(monthly_stats.c.period == period)).scalar_one())


def blockers(conn: Connection, period: str, book: BookSettings | None = None) -> list[Blocker]:
    """Everything dated on or before PERIOD's end that must be finished before it closes."""
    book = book or read_settings(conn)
    end = last_day(period)
    d, c, dl = documents.c, customers.c, deliveries.c
    unfinished = conn.execute(
        sa.select(d.id, d.number, d.kind, d.status, d.doc_on, c.code).join(customers, c.id == d.customer_id)
        .where(sa.or_(d.status == "draft", sa.and_(d.status == "posted", d.kind == "receipt")), d.doc_on <= end)
        .order_by(d.doc_on, d.id)).all()
    found = [Blocker(f"{kind} draft #{doc_id}", on, f"a draft of {code}: post it or delete it")
             for doc_id, _number, kind, status, on, code in unfinished if status == "draft"]
    found += [Blocker(f"{kind} {number} line {line}", on, f"a draft delivery of {code}: post it or delete it")
              for number, line, kind, on, code in conn.execute(
                  sa.select(dl.number, dl.line_no, dl.kind, dl.delivered_on, c.code)
                  .join(customers, c.id == dl.customer_id)
                  .where(dl.status == "draft", dl.delivered_on <= end).order_by(dl.delivered_on, dl.number))]
    found += [Blocker(f"receipt {number}", on, f"{code}'s receipt is confirmed but not approved")
              for _id, number, _kind, status, on, code in unfinished if status == "posted"]
    preview = fx.preview(conn, period, book, to_post_only=True)
    found += [Blocker(f"{cur} rate", None, f"FxRates has no {cur} rate for {period}: foreign items cannot be revalued")
              for cur in preview.missing_rates]
    found += [Blocker(f"{ln.kind} {ln.document} of {ln.customer}", ln.doc_on,
                      f"{ln.open} {ln.currency} open is booked at {ln.book_base + ln.booked} "
                      f"{book.base_currency}, worth {ln.revalued} at {ln.rate}: not revalued "
                      f"(xlar revalue --period {period})")
              for ln in preview.to_post]
    found += [Blocker(f"{d.table} {d.label or d.key}", None,
                      f"{d.text()}: a month does not close on rows xlar did not write "
                      "(xlar check names them; an admin takes them as they are with xlar audit accept)")
              for d in sealcheck.outside(conn)]
    return found


def _expected(book: BookSettings) -> str | None:
    """The month the next close must be: the one after the last closed month."""
    return next_period(book.closed_period) if book.closed_period else None


def close(conn: Connection, period: str, user: str, *, today: date) -> Closed:
    """Close PERIOD, or give back why not (nothing is changed then)."""
    parse_period(period)
    lock_ledger(conn)   # a colleague's posting waits, and is then refused by the store's guard
    book = read_settings(conn)
    expected = _expected(book)
    if book.closed_period and period <= book.closed_period:
        raise PeriodClosed(f"period {period} is already closed (closed through {book.closed_period})")
    if expected and period != expected:
        raise InvalidSetting(f"close {expected} first: months close in order (closed through {book.closed_period})")
    if last_day(period) >= today:
        raise InvalidSetting(f"period {period} ends {last_day(period).isoformat()}: it cannot close before then")
    result = Closed(period, blockers=blockers(conn, period, book))
    if result.blockers:
        return result
    chain_seq, chain_hash = audit.head(conn)   # the book as it closes: noted, to anchor the chain
    result.customers = _snapshot(conn, period, user)
    now = datetime.now(UTC)
    row = conn.execute(sa.select(period_closes).where(period_closes.c.period == period)).first()
    before = None if row is None else PeriodClose._make(row)
    values = {"status": "closed", "closed_by": user, "closed_at": now, "chain_seq": chain_seq,
              "chain_hash": chain_hash}
    if before is None:
        conn.execute(period_closes.insert().values(period=period, **values))
    else:
        conn.execute(period_closes.update().where(period_closes.c.period == period).values(**values))
    current = book.current_period if book.current_period and book.current_period > period else next_period(period)
    set_periods(conn, closed=period, current_period=current, user=user)
    result.current_period = current
    record(conn, user, "close", "period", period, None if before is None else before._asdict(),
           {"customers": result.customers, "current_period": current, "chain": f"{chain_seq}:{chain_hash}"})
    return result


def reopen(conn: Connection, period: str, user: str, reason: str) -> str:
    """Reopen the latest closed PERIOD (an admin, with a reason); the months before it stay
    closed (a first close locked everything before it). Returns the month closed through now."""
    book = read_settings(conn)
    if not book.may_administer(user):
        raise NotAllowed(f"{user} cannot reopen {period}: reopening a closed month needs the admin role"
                         + (f" ({', '.join(sorted(book.admins))})" if book.admins else "; no admin is set (Settings: admins)"))
    if not reason.strip():
        raise InvalidSetting(f"reopening {period} needs a reason")
    if book.closed_period != period:
        raise InvalidSetting(f"only the latest closed month can be reopened: {book.closed_period or 'none is closed'}"
                             + (f", not {period}" if book.closed_period else ""))
    earlier = previous_period(period)
    conn.execute(period_closes.update().where(period_closes.c.period == period).values(
        status="reopened", reopened_by=user, reopened_at=datetime.now(UTC), reason=reason))
    set_periods(conn, closed=earlier, current_period=period, user=user)
    record(conn, user, "reopen", "period", period, {"closed_period": period}, {"closed_period": earlier, "reason": reason})
    return earlier


def recompute(conn: Connection, period: str, user: str, *, apply: bool = True) -> list[Difference]:
    """PERIOD's statistics rebuilt from the ledger: how they differ from the stored snapshot;
    with APPLY the snapshot is replaced (audited with the differences)."""
    parse_period(period)
    found = differences(stored(conn, period), compute(conn, period))
    if apply:
        count = _snapshot(conn, period, user)
        record(conn, user, "recompute", "period", period, None,
               {"customers": count, "differences": [(f.customer, f.currency, f.column, f.stored, f.computed)
                                                    for f in found]})
    return found


def periods_closed(conn: Connection) -> list[PeriodClose]:
    """The months closed now (not those reopened since), oldest first."""
    return [PeriodClose._make(row) for row in conn.execute(
        sa.select(period_closes).where(period_closes.c.status == "closed").order_by(period_closes.c.period))]


def month_ends(first: date, last: date) -> list[date]:
    """Every month end from FIRST's month through LAST's (the last one may be LAST itself)."""
    ends, period = [], period_of(first)
    while first_day(period) <= last:
        ends.append(min(last_day(period), last))
        period = next_period(period)
    return ends
