"""Invoices (with their lines), receipts and allocations as sheet rows.

A draft is shown as DRAFT-<id> until it is posted; setting Status to posted posts it,
to void voids it. Posted documents refuse every other edit (except the fapiao number,
often known only after posting, the expected receipt date and the disputed mark).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.documents import LINE_KINDS, DocKind, HeaderAmounts, LineInput
from xlar.domain.errors import (
    Immutable,
    InvalidAllocation,
    InvalidDocument,
    NotAllowed,
    NotFound,
    XlarError,
)
from xlar.domain.money import decimal_from_number, from_minor, tidy, to_minor
from xlar.schema.messages import localize_memo
from xlar.schema.records import AllocationRow, InvoiceLineRow, InvoiceRow, ReceiptRow
from xlar.schema.sheets import ALLOCATIONS, INVOICE_LINES, INVOICES, MATCH_METHODS, PAYABLES, RECEIPTS
from xlar.services import booking, matching, receipts, settle
from xlar.services import documents as docs
from xlar.services import posting as posting_service
from xlar.store import tables as t
from xlar.store.audit import record
from xlar.store.ledger import OPEN, open_items_stmt
from xlar.store.reads import StoredRow
from xlar.store.writes import in_chunks, insert_rows, update_row
from xlar.sync.adapters import Adapter
from xlar.sync.codec import CODECS
from xlar.sync.context import Context, Item
from xlar.sync.rows import DRAFT_PREFIX, StoreRow, typed_ref


def shown_number(number: str | None, doc_id: int) -> str:
    return number or f"{DRAFT_PREFIX}{doc_id}"


def shown_numbers(conn: Connection, doc_ids: Sequence[int]) -> dict[int, str]:
    """Document id -> the number the sheets show for it now (DRAFT-<id> for a draft)."""
    d = t.documents.c
    return {doc_id: shown_number(number, doc_id) for chunk in in_chunks(doc_ids)
            for doc_id, number in conn.execute(sa.select(d.id, d.number).where(d.id.in_(chunk)))}


class DocumentAdapter(Adapter):
    """Shared by invoices and receipts: loading, status changes, refusing edits of posted rows."""

    kinds: tuple[str, ...]
    shown: tuple[str, ...]   # the document columns the sheet shows (timestamps are not read)
    batched = True

    def _rows(self, conn: Connection) -> list[Any]:
        d = t.documents.c
        return list(conn.execute(sa.select(*(d[name] for name in self.shown))
                                 .where(d.kind.in_(self.kinds)).order_by(d.id)).mappings())

    def draft(self, ctx: Context, values: dict[str, object], lines: Sequence[dict[str, object]]) -> docs.DraftDocument:
        raise NotImplementedError

    def shown_values(self, ctx: Context, doc: StoredRow) -> dict[str, object]:
        """A document row as its sheet shows it: its columns through the codec, a draft's number
        as DRAFT-<id>, no rate for the base currency."""
        return CODECS[self.sheet.name].to_sheet(ctx, doc) | {
            "number": shown_number(doc["number"], doc["id"]),
            "fx_rate": None if doc["currency"] == ctx.base_currency else doc["fx_rate"]}

    def insert_many(self, conn: Connection, ctx: Context, items: Sequence[Item]) -> list[int | XlarError]:
        """New rows: drafts are stored, rows with Status posted are posted too, all in batches."""
        results: list[int | XlarError | None] = [None] * len(items)
        drafts, at = [], []
        for k, (values, lines) in enumerate(items):
            status = values.get("status") or "draft"
            try:
                if status not in ("draft", "posted"):
                    raise InvalidDocument(f"a new document can be draft or posted, not {status}")
                drafts.append(self.draft(ctx, {**values, "your_ref": typed_ref(values)}, lines))
            except XlarError as exc:
                results[k] = exc
                continue
            at.append(k)
        good = []
        for k, prepared in zip(at, docs.prepare(conn, drafts), strict=True):
            if isinstance(prepared, XlarError):
                results[k] = prepared
            else:
                good.append((k, prepared))
        posting = posting_service.Posting(named=frozenset(ctx.named_credits))
        ids = docs.store_new(conn, [p for _, p in good], ctx.user,
                             [items[k][0].get("status") == "posted" for k, _ in good], posting)
        ctx.warnings.update(posting.warnings)
        for (k, _prepared), doc_id in zip(good, ids, strict=True):
            results[k] = doc_id
        return [r for r in results if r is not None]

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object],
               lines: Sequence[dict[str, object]] = (), *, on: date | None = None,
               content_changed: bool = True) -> None:
        doc = booking.load(conn, row_id, lock=True)
        wanted = values.get("status") or "draft"
        if doc["status"] == "draft":
            if content_changed:
                docs.update_draft(conn, row_id, self.draft(ctx, values, lines), ctx.user)
            if wanted == "posted":
                posting = posting_service.Posting(named=frozenset(ctx.named_credits))
                posting_service.post_many(conn, [booking.load(conn, row_id, lock=True)], ctx.user, posting)
                ctx.warnings.update(posting.warnings)
            elif wanted != "draft":
                raise InvalidDocument(f"{booking.label(doc)} is a draft: set Status to posted, or delete the row")
            return
        if wanted == "void" and doc["status"] != "void":
            reason = str(values.get("memo") or "voided in the workbook")
            booking.void(conn, row_id, on or date.today(), ctx.user, reason)
            return
        if wanted != doc["status"] or content_changed:
            raise Immutable(f"{booking.label(doc)} is {doc['status']}: it cannot be changed; set Status to "
                            "void to reverse it")

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        docs.delete_draft(conn, row_id, ctx.user)


class InvoicesAdapter(DocumentAdapter):
    sheet = INVOICES
    kinds = tuple(k.value for k in LINE_KINDS)
    shown = ("id", "rev", "number", "kind", "doc_on", "customer_id", "currency", "fx_rate", "net_minor",
             "tax_minor", "amount_minor", "due_on", "expected_on", "order_number", "related_id", "source",
             "fapiao_no", "status", "memo", "disputed", "user_ref")

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        d = t.documents.c
        related = dict(conn.execute(sa.select(d.id, d.number).where(
            d.id.in_(sa.select(d.related_id).where(d.related_id.is_not(None), d.kind.in_(self.kinds))))).all())
        still = _open_by_document(conn, ctx.as_of or date.today())
        return [StoreRow(r["id"], r["rev"], self.shown_values(ctx, r) | {
            "open": from_minor(still[r["id"]], r["currency"]) if r["id"] in still else None,
            "original": related.get(r["related_id"]) if r["related_id"] else None,
        }) for r in self._rows(conn)]

    def load_lines(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        d, ln = t.documents.c, t.document_lines.c
        rows = conn.execute(
            sa.select(ln.id, ln.document_id, ln.line_no, ln.delivery, ln.delivery_line, ln.item, ln.qty,
                      ln.unit_price, ln.tax_rate, ln.net_minor, ln.tax_minor, d.number, d.currency, d.rev)
            .join(t.documents, d.id == ln.document_id)
            .where(d.kind.in_(self.kinds)).order_by(ln.document_id, ln.line_no)).mappings()
        result = []
        for r in rows:
            number = shown_number(r["number"], r["document_id"])
            result.append(StoreRow(r["id"], r["rev"], CODECS[INVOICE_LINES.name].to_sheet(ctx, r, r["currency"]) | {"invoice": number},
                                   parent=number))
        return result

    def insert_many(self, conn: Connection, ctx: Context, items: Sequence[Item]) -> list[int | XlarError]:
        results = super().insert_many(conn, ctx, items)
        with_lines = {r: values for r, (values, lines) in zip(results, items, strict=True)
                      if isinstance(r, int) and lines and any(values.get(k) is not None for k in ("net", "tax", "total"))}
        for chunk in in_chunks(list(with_lines)):
            for doc in conn.execute(sa.select(t.documents).where(t.documents.c.id.in_(chunk))).mappings():
                note = _header_note(None, doc, with_lines[doc["id"]])
                if note:
                    ctx.notes[doc["id"]] = note
        return results

    def draft(self, ctx: Context, values: dict[str, object], lines: Sequence[dict[str, object]]) -> docs.DraftDocument:
        row = InvoiceRow.of(values)
        ordered = sorted((InvoiceLineRow.of(ln) for ln in lines), key=lambda ln: ln.line)
        return docs.DraftDocument(
            DocKind(row.kind or "invoice"), row.customer, row.date, tuple(_line(ln) for ln in ordered),
            currency=row.currency, fx_rate=row.fx_rate, due_on=row.due_date, memo=row.memo, source=row.source,
            fapiao_no=row.fapiao_no, expected_on=row.expected_date, order=row.order,
            original=ctx.resolve(row.original), disputed=row.disputed == "yes", user_ref=row.your_ref,
            header=None if ordered else HeaderAmounts(row.net, row.tax, row.total))

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object],
               lines: Sequence[dict[str, object]] = (), *, on: date | None = None,
               content_changed: bool = True) -> None:
        doc = booking.load(conn, row_id)
        if doc["status"] == "draft" and lines and content_changed:
            super().update(conn, ctx, row_id, values, lines, on=on, content_changed=content_changed)
            note = _header_note(doc, booking.load(conn, row_id), values)
            if note:
                ctx.notes[row_id] = note
            return
        if (doc["status"] != "draft" and values.get("status") == doc["status"] and content_changed
                and _only_open_fields_changed(ctx, doc, values)):
            after = {"fapiao_no": values.get("fapiao_no"), "expected_on": values.get("expected_date") or doc["due_on"],
                     "disputed": _disputed(values)}
            conn.execute(t.documents.update().where(t.documents.c.id == row_id)
                         .values(**after, rev=t.documents.c.rev + 1))
            record(conn, ctx.user, "update", "document", row_id, {k: doc[k] for k in after}, after)
            return
        super().update(conn, ctx, row_id, values, lines, on=on, content_changed=content_changed)


def _header_note(before: Any, after: Any, values: dict[str, object]) -> str | None:
    """An invoice with lines has its Net, Tax and Total computed from them: what is typed there is
    not taken. Said when what is typed is neither what the store had (a draft's header before
    its lines changed) nor what the lines now give."""
    cur = after["currency"]
    typed = {key: values.get(key) for key in ("net", "tax", "total")}
    columns = {"net": "net_minor", "tax": "tax_minor", "total": "amount_minor"}
    def matches(doc: Any) -> bool:
        return doc is not None and all(v is None or decimal_from_number(v) == from_minor(doc[columns[k]], cur)
                                       for k, v in typed.items())
    if matches(before) or matches(after):
        return None
    shown = ", ".join(f"{k} {from_minor(after[c], cur)}" for k, c in columns.items())
    return (f"{shown_number(after['number'], after['id'])} has lines: its net, tax and total are computed from them "
            f"({shown}); the amounts typed there were not taken")


def _open_by_document(conn: Connection, as_of: date) -> dict[int, int]:
    """Document id -> what its items still have open on AS_OF, in minor units (posted documents
    dated by then; an exchange difference booked on an item is base currency only: left out)."""
    item = open_items_stmt(as_of).subquery("item")
    return dict(conn.execute(sa.select(item.c.document_id, sa.func.sum(item.c[OPEN]))
                             .where(item.c.revalues_id.is_(None)).group_by(item.c.document_id)).all())


def _line(ln: InvoiceLineRow) -> LineInput:
    """An InvoiceLines row; a negative quantity bills a return."""
    qty = tidy(ln.qty)
    return LineInput(ln.item, qty, tidy(ln.unit_price), tidy(ln.tax_rate or Decimal(0)), "", ln.delivery,
                     ln.delivery_line, qty < 0)


def _disputed(values: dict[str, object]) -> str | None:
    return "yes" if values.get("disputed") == "yes" else None


def _only_open_fields_changed(ctx: Context, doc: Any, values: dict[str, object]) -> bool:
    """True when a posted invoice's row differs from the store only in what stays open after
    posting: the fapiao number (often known later), the expected receipt date and whether the
    customer disputes it."""
    keys = ("kind", "date", "customer", "currency", "due_date", "source", "memo", "order", "your_ref",
            "net", "tax", "total")
    cur = doc["currency"]
    stored = {"kind": doc["kind"], "date": doc["doc_on"], "customer": ctx.code_of.get(doc["customer_id"]),
              "currency": cur, "due_date": doc["due_on"], "source": doc["source"], "memo": doc["memo"],
              "order": doc["order_number"], "your_ref": doc["user_ref"], "net": from_minor(doc["net_minor"], cur),
              "tax": from_minor(doc["tax_minor"], cur), "total": from_minor(doc["amount_minor"], cur)}
    return all(values.get(k) == stored[k] for k in keys) and (
        values.get("fapiao_no") != doc["fapiao_no"] or (values.get("expected_date") or doc["due_on"]) != doc["expected_on"]
        or _disputed(values) != doc["disputed"])


class ReceiptsAdapter(DocumentAdapter):
    """Receipts: draft -> posted (confirmed) -> approved by another approver; see services.receipts."""

    sheet = RECEIPTS
    kinds = (DocKind.RECEIPT.value,)
    shown = ("id", "rev", "number", "doc_on", "customer_id", "method", "currency", "fx_rate", "amount_minor",
             "maturity_on", "reference", "status", "created_by", "approved_by", "memo", "user_ref")

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        return [StoreRow(r["id"], r["rev"], self.shown_values(ctx, r)) for r in self._rows(conn)]

    def draft(self, ctx: Context, values: dict[str, object], lines: Sequence[dict[str, object]]) -> docs.DraftDocument:
        row = ReceiptRow.of(values)
        return docs.DraftDocument(
            DocKind.RECEIPT, row.customer, row.date, amount=row.amount, currency=row.currency, fx_rate=row.fx_rate,
            method=row.method, maturity_on=row.maturity_date, reference=ctx.resolve_text(row.reference),
            memo=row.memo, user_ref=row.your_ref)

    def insert_many(self, conn: Connection, ctx: Context, items: Sequence[Item]) -> list[int | XlarError]:
        approved = {k for k, (values, _) in enumerate(items) if values.get("status") == "approved"}
        stored = iter(super().insert_many(conn, ctx, [item for k, item in enumerate(items) if k not in approved]))
        refusal = NotAllowed(f"{ctx.user} cannot enter a receipt as approved: it is entered draft or posted, "
                             "and another approver approves it (segregation of duties)")
        return [refusal if k in approved else next(stored) for k in range(len(items))]

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object],
               lines: Sequence[dict[str, object]] = (), *, on: date | None = None,
               content_changed: bool = True) -> None:
        doc = booking.load(conn, row_id, lock=True)
        if values.get("status") != "approved" or doc["status"] not in ("draft", "posted"):
            super().update(conn, ctx, row_id, values, lines, on=on, content_changed=content_changed)
            return
        if doc["status"] == "draft":
            super().update(conn, ctx, row_id, {**values, "status": "posted"}, lines, on=on,
                           content_changed=content_changed)
        elif content_changed:
            raise Immutable(f"{booking.label(doc)} is posted: it can be approved, not changed")
        named = {shown_number(doc["number"], row_id), booking.load(conn, row_id)["number"], doc["user_ref"]} & ctx.named_credits
        receipts.approve(conn, [row_id], ctx.user, without_matching=[row_id] if named else [])


class AllocationsAdapter(Adapter):
    """Live matches (核销). A new row is a match (a write-off row writes the difference off, a
    transfer row moves the receipt to the invoice's customer first); deleting a row undoes
    its match (a date typed in Undo on: on that day); changing its amount undoes it and matches
    the new amount. Every row is checked: no over-allocation, same customer, consistent
    currencies, an open period. The Effective column shows the date each match got (its rule:
    services.matching.allocate) and the memo says why when it is later than the documents'."""

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
                credit_number = str(booking.load(conn, new)["number"])
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
        doc = booking.find(conn, str(shown))
        if doc["number"] is None or doc["status"] == "draft":
            raise InvalidAllocation(f"{shown} is a draft: post it (and approve a receipt) before matching it")
        return str(doc["number"])

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
        credit_doc = conn.execute(sa.select(t.documents).join(t.open_items, oi.document_id == t.documents.c.id)
                                  .join(t.allocations, a.credit_item_id == oi.id)
                                  .where(a.id == row_id)).mappings().first()
        if credit_doc is not None and credit_doc["kind"] == DocKind.WRITE_OFF.value:
            settle.void(conn, credit_doc["number"], on, ctx.user, f"write-off {memo.removeprefix('match ')}")
            return
        matching.undo_allocations(conn, [row_id], on=on, user=ctx.user, memo=memo)


class PayablesAdapter(Adapter):
    """What the company owes customers that are also vendors, to be netted; netted ones are frozen."""

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
        cust = conn.execute(sa.select(t.customers).where(t.customers.c.code == code)).mappings().first()
        if cust is None:
            raise NotFound(f"unknown customer {code!r}")
        if not cust["vendor_code"]:
            raise InvalidDocument(f"customer {code} has no vendor code: payables are kept for customers that "
                                  "are also vendors")
        cur = str(values.get("currency") or cust["currency"])
        amount = to_minor(decimal_from_number(values["amount"]), cur)
        if amount <= 0:
            raise InvalidDocument(f"payable {values['number']}: amount {values['amount']} must be positive")
        return {"customer_id": cust["id"], "number": str(values["number"]), "payable_on": values["date"],
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
