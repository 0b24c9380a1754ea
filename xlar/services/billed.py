"""What invoices bill of each delivery line: the lines' checks and the billed quantity.

A delivery line's billed quantity is the sum of the quantities that live invoice lines (of
draft or posted documents; a void frees them) bill of it. It is recomputed from those lines
whenever they change, under a lock on the delivery rows, and it may never exceed what was
delivered: a line cannot be billed twice, by generation or by hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.billing import billed_party, share_units
from xlar.domain.codes import Code
from xlar.domain.documents import DocKind, LineInput
from xlar.domain.errors import InvalidDocument, NotFound, XlarError
from xlar.domain.money import tidy
from xlar.domain.records import Delivery, DeliveryKey
from xlar.store.deliveries import by_keys
from xlar.store.tables import customers, deliveries, document_lines, documents
from xlar.store.writes import in_chunks, update_rows

Key = DeliveryKey
LIVE_BILLING = ("draft", "posted", "approved")
RETURN = "return"


class OverBilled(XlarError):
    code = Code.E022


def key_text(key: Key) -> str:
    return f"delivery {key[0]} line {key[1]}"


def parents(conn: Connection) -> dict[str, str | None]:
    """Every customer's head office code (None for none)."""
    return {code: parent for code, parent in conn.execute(sa.select(customers.c.code, customers.c.parent_code))}


@dataclass(frozen=True, slots=True)
class LineCheck:
    """What a document needs to know to check its lines that bill deliveries."""

    rows: dict[Key, Delivery]
    code_of: dict[int, str]
    parent_of: dict[str, str | None]


def line_check(conn: Connection, lines: Iterable[LineInput]) -> LineCheck | None:
    keys = {(ln.delivery, ln.delivery_line) for ln in lines if ln.delivery}
    if not keys:
        return None
    rows = by_keys(conn, keys)  # type: ignore[arg-type]  # a delivery named without its line is looked up as (number, None), which no row is
    code_of = {i: code for chunk in in_chunks(r.customer_id for r in rows.values())
               for i, code in conn.execute(sa.select(customers.c.id, customers.c.code)
                                           .where(customers.c.id.in_(chunk)))}
    return LineCheck(rows, code_of, parents(conn))


def check_lines(check: LineCheck | None, kind: DocKind, customer: str, currency: str,
                lines: Iterable[LineInput]) -> None:
    """Refuse document lines that bill a delivery line they cannot bill."""
    for no, ln in enumerate(lines, start=1):
        if ln.delivery is None and ln.delivery_line is None:
            continue
        if not ln.delivery or ln.delivery_line is None:
            raise InvalidDocument(f"line {no}: give both the delivery number and its line, or neither")
        key = (ln.delivery, ln.delivery_line)
        row = check.rows.get(key) if check else None
        if row is None or check is None:
            raise NotFound(f"line {no}: no {key_text(key)}")
        if row.status != "posted":
            raise InvalidDocument(f"line {no}: {key_text(key)} is a draft: post it before billing it")
        delivered_to = check.code_of[row.customer_id]
        if customer not in (delivered_to, billed_party(delivered_to, check.parent_of)):
            raise InvalidDocument(f"line {no}: {key_text(key)} was delivered to {delivered_to}, "
                                  f"not to {customer} or a subsidiary of it")
        if row.item != ln.item:
            raise InvalidDocument(f"line {no}: item {ln.item!r} differs from {key_text(key)}'s {row.item!r}")
        if row.currency != currency:
            raise InvalidDocument(f"line {no}: {key_text(key)} is in {row.currency}, the document in {currency}")
        is_return = row.kind == RETURN
        if kind is DocKind.CREDIT_NOTE and not is_return:
            raise InvalidDocument(f"line {no}: a credit note bills returns; {key_text(key)} is a delivery")
        if kind not in (DocKind.INVOICE, DocKind.CREDIT_NOTE):
            raise InvalidDocument(f"line {no}: a {kind} does not bill deliveries")
        if ln.returned != (is_return and kind is DocKind.INVOICE):
            raise InvalidDocument(f"line {no}: {key_text(key)} is a {row.kind}: on an invoice its "
                                  f"quantity is {'negative' if is_return else 'positive'}")


def rebill(conn: Connection, keys: Iterable[Key]) -> None:
    """Recompute the billed quantity of the delivery lines KEYS from the live lines that bill
    them; refuse (OverBilled) when any would be billed beyond what was delivered."""
    wanted = set(keys)
    if not wanted:
        return
    rows = by_keys(conn, wanted, lock=True)
    missing = wanted - rows.keys()
    if missing:
        raise NotFound(f"no {key_text(min(missing))}")
    billed: dict[Key, Decimal] = defaultdict(Decimal)
    for number, line_no, qty, *_values in _billing_lines(conn, wanted, LIVE_BILLING):
        billed[(number, line_no)] += abs(qty)
    changes = []
    for key in sorted(wanted):
        row, now = rows[key], billed[key] or Decimal(0)
        if now > row.qty:
            raise OverBilled(f"{key_text(key)}: {now} would be billed of {row.qty} "
                             f"{'returned' if row.kind == RETURN else 'delivered'}")
        if now != row.billed_qty:
            changes.append((row.id, {"billed_qty": tidy(now) if now else Decimal(0)}))
    update_rows(conn, deliveries, changes)


def _billing_lines(conn: Connection, keys: Iterable[Key], statuses: tuple[str, ...]) -> Iterator[Any]:
    """(delivery, line, qty, delivered net, delivered tax) of the document lines that bill the
    delivery lines KEYS, in documents of STATUSES."""
    ln, d = document_lines.c, documents.c
    for chunk in in_chunks(keys):
        yield from conn.execute(
            sa.select(ln.delivery, ln.delivery_line, ln.qty, ln.delivered_net_minor, ln.delivered_tax_minor)
            .join(documents, d.id == ln.document_id)
            .where(sa.tuple_(ln.delivery, ln.delivery_line).in_(chunk), d.status.in_(statuses)))


def delivered_values(conn: Connection, lines: list[dict[str, Any]]) -> None:
    """Set, on document line rows about to be posted, the delivery's value of the quantity each
    bills: its share of the delivery line's net and tax; the line that completes the delivery
    takes what earlier posted lines left, so the shares add up to the delivery's value."""
    keys = {(ln["delivery"], ln["delivery_line"]) for ln in lines if ln.get("delivery")}
    if not keys:
        return
    rows = by_keys(conn, keys)
    before: dict[Key, list[Decimal | int]] = defaultdict(lambda: [Decimal(0), 0, 0])
    for number, line_no, qty, net, tax in _billing_lines(conn, keys, ("posted", "approved")):
        acc = before[(number, line_no)]
        acc[0] += abs(qty)
        acc[1] += net or 0
        acc[2] += tax or 0
    for ln in lines:
        if not ln.get("delivery"):
            continue
        key = (ln["delivery"], ln["delivery_line"])
        row = rows[key]
        if row.net_minor is None or row.tax_minor is None:   # not priced: no value to share
            continue
        acc = before[key]
        qty = abs(ln["qty"])
        if acc[0] + qty == row.qty:
            net, tax = row.net_minor - int(acc[1]), row.tax_minor - int(acc[2])
        else:
            net = share_units(row.net_minor, qty, row.qty)
            tax = share_units(row.tax_minor, qty, row.qty)
        sign = -1 if ln["qty"] < 0 else 1
        ln["delivered_net_minor"], ln["delivered_tax_minor"] = sign * net, sign * tax
        acc[0] += qty
        acc[1] += net
        acc[2] += tax
