"""Allocations (matches) and Payables as sheet rows.

An Allocations row is a match of a receipt or credit note to an invoice: a new row matches
(or writes off, with a reason), a deleted row undoes the match, a changed amount undoes it
and matches again from the day of the change. Payables rows are what the book owes a
customer, netted against what it is owed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.documents import DocKind
from xlar.domain.errors import (
    Immutable,
    InvalidAllocation,
    InvalidDocument,
    XlarError,
)
from xlar.domain.money import decimal_from_number, from_minor, to_minor
from xlar.schema.messages import localize_memo
from xlar.schema.records import AllocationRow
from xlar.schema.sheets import ALLOCATIONS, MATCH_METHODS, PAYABLES
from xlar.services import matching, settle
from xlar.store import tables as t
from xlar.store.audit import record
from xlar.store.customers import by_code
from xlar.store.documents import find, load
from xlar.store.writes import insert_rows, update_row
from xlar.sync.adapters import Adapter
from xlar.sync.context import Context, Item
from xlar.sync.rows import StoreRow


class AllocationsAdapter(Adapter):
    """Live matches (核销). A new row is a match (a write-off row writes the difference off, a
    transfer row moves the receipt to the invoice's customer first); deleting a row undoes
    its match (a date typed in Undo on: on that day); changing its amount undoes it and matches
    the new amount. Every row is checked: no over-allocation, same customer, consistent
    currencies, an open period. The Effective column shows the date each match got (its rule:
    services.matching.allocate) and the memo says why when it is later than the documents'."""

    checks_identity = False   # rows are named by what they match, not by key and revision

    sheet = ALLOCATIONS
    corrections_first = True

    def load(self, conn: Connection, ctx: Context, only: int | None = None) -> list[StoreRow]:
        a, oi, b = t.allocations.c, t.open_items, t.allocation_batches
        debit, credit = oi.alias("debit"), oi.alias("credit")
        ddoc, cdoc = t.documents.alias("ddoc"), t.documents.alias("cdoc")
        reversed_ids = sa.select(a.reverses_id).where(a.reverses_id.is_not(None))
        rows = conn.execute(
            sa.select(a.id, a.amount_minor, a.effective_on, a.item, a.batch_id, b.c.method, b.c.memo,
                      debit.c.currency, debit.c.installment_no, ddoc.c.number.label("invoice"),
                      cdoc.c.number.label("credit_doc"), cdoc.c.kind.label("credit_kind"),
                      cdoc.c.reference.label("credit_reference"))
            .join(b, b.c.id == a.batch_id)
            .join(debit, debit.c.id == a.debit_item_id).join(credit, credit.c.id == a.credit_item_id)
            .join(ddoc, ddoc.c.id == debit.c.document_id).join(cdoc, cdoc.c.id == credit.c.document_id)
            .where(a.reverses_id.is_(None), a.id.not_in(reversed_ids), b.c.method.not_in(("void", "undo")),
                   *([a.id == only] if only is not None else []))
            .order_by(a.id)).mappings()
        return [StoreRow(r["id"], 1, {
            "credit_doc": r["credit_doc"], "invoice": r["invoice"], "installment_no": r["installment_no"],
            "item": r["item"], "amount": from_minor(r["amount_minor"], r["currency"]),
            "method": r["method"] if r["method"] in MATCH_METHODS else None,
            "reason_code": r["credit_reference"] if r["credit_kind"] == DocKind.WRITE_OFF.value else None,
            "memo": localize_memo(r["memo"], ctx.locale), "date": r["effective_on"], "batch": r["batch_id"],
        }) for r in rows]

    def insert(self, conn: Connection, ctx: Context, values: dict[str, object],
               lines: Sequence[dict[str, object]] = ()) -> int:
        if values.get("undo_on") is not None:
            raise InvalidAllocation("Undo on is for a match already recorded: leave it blank on a new row")
        return self._match(conn, ctx, values)

    def _match(self, conn: Connection, ctx: Context, values: dict[str, object], not_before: date | None = None) -> int:
        row = AllocationRow.of(values)
        method = row.method or "manual"
        invoice, credit_doc, amount = ctx.resolve(row.invoice) or row.invoice, ctx.resolve(row.credit_doc), row.amount
        installment, memo = row.installment_no or 1, row.memo
        a = t.allocations.c
        if method == "write_off":
            if credit_doc:
                raise InvalidAllocation("a write-off row leaves Receipt / credit blank: the write-off is its credit")
            if not row.reason_code:
                raise InvalidAllocation(f"writing off {amount} of {invoice} needs a reason code (column Write-off reason)")
            wo = settle.write_off(conn, invoice, amount, row.reason_code, self._today(ctx), ctx.user,
                                  installment=installment, memo=memo)
            return self._last(conn, a.credit_item_id == settle.item_of(conn, wo))
        if not credit_doc:
            raise InvalidAllocation(f"matching {invoice}: name the receipt or credit note that pays it")
        credit_number = self._number(conn, credit_doc)
        if method == "transfer":
            debit = settle.open_item(conn, invoice, installment)
            credit = settle.open_item(conn, credit_number)
            if credit.customer != debit.customer:
                _old, new = settle.transfer(conn, credit_number, debit.customer, self._today(ctx), ctx.user,
                                            amount=amount, reason=f"to pay {invoice}")
                credit_number = str(load(conn, new).number)
        debit_id = settle.item_id(conn, invoice, installment)
        credit_id = settle.item_id(conn, credit_number)
        item = row.item
        if method not in matching.METHODS or method in ("void", "undo", "write_off"):
            raise InvalidAllocation(f"unknown matching method {method!r}")
        batch = matching.allocate(conn, [matching.Match(debit_id, credit_id, amount, item)],
                                  method=method, user=ctx.user, memo=memo, not_before=not_before)
        return self._last(conn, a.batch_id == batch)

    @staticmethod
    def _today(ctx: Context) -> date:
        return ctx.as_of or date.today()

    @staticmethod
    def _number(conn: Connection, shown: object) -> str:
        """The posted number of a document the sheet names (a draft's DRAFT-<id> included)."""
        doc = find(conn, str(shown))
        if doc.number is None or doc.status == "draft":
            raise InvalidAllocation(f"{shown} is a draft: post it (and approve a receipt) before matching it")
        return doc.number

    @staticmethod
    def _last(conn: Connection, where: sa.ColumnElement[bool]) -> int:
        return int(conn.execute(sa.select(sa.func.max(t.allocations.c.id)).where(where)).scalar_one())

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        """An Undo on date undoes the match on that day; a changed amount undoes it (on that day,
        else on the day of the sync) and matches the new amount, taking effect no earlier than the
        undo, so what was recorded for past dates stays; a changed memo is the batch's memo."""
        old = next(iter(self.load(conn, ctx, only=row_id)), None)
        if old is None:
            raise InvalidAllocation(f"match {row_id} is no longer live")
        def pair(values: dict[str, object]) -> tuple[object, ...]:
            row = AllocationRow.of(values)
            return str(row.credit_doc), row.invoice, row.installment_no or 1, row.item
        if pair(values) != pair(old.values):
            raise InvalidAllocation("a match's documents are not edited: delete the row (undoing the match) "
                                    "and add the right one")
        method = values.get("method") or "manual"
        if method != (old.values["method"] or "manual") or values.get("reason_code") != old.values["reason_code"]:
            raise InvalidAllocation("a match's method and write-off reason are not edited: delete the row "
                                    "(undoing the match) and add the right one")
        row, shown = AllocationRow.of(values), AllocationRow.of(old.values)
        amount = row.amount
        if row.undo_on is None and amount == shown.amount:
            self._memo(conn, ctx, row_id, row.memo)
            return
        on = self._undo_on(ctx, row.undo_on, shown.date or self._today(ctx))
        self._undo(conn, ctx, row_id, on, "match row changed in the workbook" if amount != old.values["amount"]
                   else "match row undone in the workbook")
        if amount != old.values["amount"] and amount != 0:
            again = {**values, "method": method} | ({"credit_doc": None} if method == "write_off" else {})
            self._match(conn, ctx, again, on)

    def _undo_on(self, ctx: Context, typed: object, effective: date) -> date:
        """The day an undo takes effect: the date typed in Undo on (a day that has come, on or after
        the day the match took effect), else the day of the sync."""
        today = self._today(ctx)
        if typed is None:
            return today
        if not isinstance(typed, date):
            raise InvalidAllocation(f"Undo on {typed!r} is not a date")
        if typed > today:
            raise InvalidAllocation(f"Undo on {typed.isoformat()} is after today ({today.isoformat()}): a match is "
                                    "undone on a day that has come")
        if typed < effective:
            raise InvalidAllocation(f"Undo on {typed.isoformat()} is before the match took effect "
                                    f"({effective.isoformat()}): type that day or a later one")
        return typed

    def _memo(self, conn: Connection, ctx: Context, row_id: int, memo: object) -> None:
        """A memo edited on the sheet becomes its batch's memo (audited)."""
        b = t.allocation_batches
        batch_id = conn.execute(sa.select(t.allocations.c.batch_id).where(t.allocations.c.id == row_id)).scalar_one()
        before = conn.execute(sa.select(b.c.memo).where(b.c.id == batch_id)).scalar_one()
        text = None if memo is None else str(memo)[:500]
        if text == localize_memo(before, ctx.locale) or text == before:
            return
        conn.execute(b.update().where(b.c.id == batch_id).values(memo=text))
        record(conn, ctx.user, "update", "allocation_batch", batch_id, {"memo": before}, {"memo": text})

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        """Undo the match on the day of the sync; a write-off's document is voided with it."""
        self._undo(conn, ctx, row_id, self._today(ctx), "match row deleted in the workbook")

    def _undo(self, conn: Connection, ctx: Context, row_id: int, on: date, memo: str) -> None:
        a, oi = t.allocations.c, t.open_items.c
        credit_doc = conn.execute(sa.select(t.documents.c.kind, t.documents.c.number)
                                  .join(t.open_items, oi.document_id == t.documents.c.id)
                                  .join(t.allocations, a.credit_item_id == oi.id)
                                  .where(a.id == row_id)).first()
        if credit_doc is not None and credit_doc.kind == DocKind.WRITE_OFF.value:
            settle.void(conn, credit_doc.number, on, ctx.user, f"write-off {memo.removeprefix('match ')}")
            return
        matching.undo_allocations(conn, [row_id], on=on, user=ctx.user, memo=memo)


class PayablesAdapter(Adapter):
    """What the company owes customers that are also vendors, to be netted; netted ones are frozen."""

    checks_identity = False   # rows are named by what they match, not by key and revision

    sheet = PAYABLES
    batched = True

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        p = t.payables.c
        rows = conn.execute(sa.select(t.payables).order_by(p.id)).mappings().all()
        netted = settle.netted_of(conn, [r["id"] for r in rows]) if rows else {}
        return [StoreRow(r["id"], r["rev"], {
            "customer": ctx.code_of.get(r["customer_id"]), "number": r["number"], "date": r["payable_on"],
            "due_date": r["due_on"], "currency": r["currency"], "amount": from_minor(r["amount_minor"], r["currency"]),
            "reference": r["reference"], "netted": from_minor(netted.get(r["id"], 0), r["currency"]),
            "memo": r["memo"]}) for r in rows]

    def _values(self, conn: Connection, ctx: Context, values: dict[str, object]) -> dict[str, object]:
        code = str(values["customer"])
        cust = by_code(conn, code)
        if not cust.vendor_code:
            raise InvalidDocument(f"customer {code} has no vendor code: payables are kept for customers that "
                                  "are also vendors")
        cur = str(values.get("currency") or cust.currency)
        amount = to_minor(decimal_from_number(values["amount"]), cur)
        if amount <= 0:
            raise InvalidDocument(f"payable {values['number']}: amount {values['amount']} must be positive")
        return {"customer_id": cust.id, "number": str(values["number"]), "payable_on": values["date"],
                "due_on": values.get("due_date"), "currency": cur, "amount_minor": amount,
                "reference": values.get("reference"), "memo": values.get("memo")}

    def insert_many(self, conn: Connection, ctx: Context, items: Sequence[Item]) -> list[int | XlarError]:
        results: list[int | XlarError] = []
        for values, _ in items:
            try:
                row = {**self._values(conn, ctx, values), "created_by": ctx.user}
                with conn.begin_nested():
                    new_id = insert_rows(conn, t.payables, [row])[0]
            except XlarError as exc:
                results.append(exc)
                continue
            except sa.exc.IntegrityError:
                results.append(InvalidDocument(f"payable {values['number']} of {values['customer']} is already entered"))
                continue
            record(conn, ctx.user, "create", "payable", new_id, None, row)
            results.append(new_id)
        return results

    def _frozen(self, conn: Connection, row_id: int) -> None:
        if settle.netted_of(conn, [row_id]).get(row_id):
            raise Immutable(f"payable {row_id} is netted: void the netting before changing it")

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        self._frozen(conn, row_id)
        row = self._values(conn, ctx, values)
        before = conn.execute(sa.select(t.payables).where(t.payables.c.id == row_id)).mappings().one()
        update_row(conn, t.payables, row_id, row)
        record(conn, ctx.user, "update", "payable", row_id, {k: before[k] for k in row}, row)

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        self._frozen(conn, row_id)
        before = conn.execute(sa.select(t.payables).where(t.payables.c.id == row_id)).mappings().one()
        conn.execute(t.payables.delete().where(t.payables.c.id == row_id))
        record(conn, ctx.user, "delete", "payable", row_id, dict(before), None)
