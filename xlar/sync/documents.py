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
from xlar.domain.drafts import DraftDocument
from xlar.domain.errors import (
    Immutable,
    InvalidDocument,
    NotAllowed,
    XlarError,
)
from xlar.domain.money import decimal_from_number, from_minor, tidy
from xlar.domain.records import Document
from xlar.schema.columns import Column, Kind, SheetSchema
from xlar.schema.records import InvoiceLineRow, InvoiceRow, ReceiptRow
from xlar.schema.sheets import INVOICE_LINES, INVOICES, RECEIPTS
from xlar.services import booking, receipts
from xlar.services import documents as docs
from xlar.services import posting as posting_service
from xlar.store import tables as t
from xlar.store.audit import record
from xlar.store.documents import load, select
from xlar.store.ledger import OPEN, open_items_stmt
from xlar.store.reads import StoredRow
from xlar.store.writes import in_chunks
from xlar.sync.adapters import Adapter
from xlar.sync.codec import CODECS
from xlar.sync.context import Context, Item
from xlar.sync.rows import DRAFT_PREFIX, StoreRow, content_hash, typed_ref
from xlar.workbook.reader import Row


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
    names_documents = True

    def change(self, conn: Connection, ctx: Context, row: Row, store_row: StoreRow,
               lines: Sequence[dict[str, object]], lines_changed: bool, on: date | None) -> None:
        """A posted row's content is never changed: only a draft's (when it changed) or a status."""
        # the revision matched, so the store still holds what was last synced: compare with it
        inputs = [c.key for c in self.sheet.columns if not c.computed and c.key not in ("status", "number")]
        changed = lines_changed or any(_differs(row.values.get(k), store_row.values.get(k)) for k in inputs)
        self.update(conn, ctx, store_row.id, row.values, lines, on=on, content_changed=changed)

    def _rows(self, conn: Connection) -> list[Any]:
        d = t.documents.c
        return list(conn.execute(sa.select(*(d[name] for name in self.shown))
                                 .where(d.kind.in_(self.kinds)).order_by(d.id)).mappings())

    def draft(self, ctx: Context, values: dict[str, object], lines: Sequence[dict[str, object]]) -> DraftDocument:
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
        doc = load(conn, row_id, lock=True)
        wanted = values.get("status") or "draft"
        if doc.status == "draft":
            if content_changed:
                docs.update_draft(conn, row_id, self.draft(ctx, values, lines), ctx.user)
            if wanted == "posted":
                posting = posting_service.Posting(named=frozenset(ctx.named_credits))
                posting_service.post_many(conn, [load(conn, row_id, lock=True)], ctx.user, posting)
                ctx.warnings.update(posting.warnings)
            elif wanted != "draft":
                raise InvalidDocument(f"{doc.label} is a draft: set Status to posted, or delete the row")
            return
        if wanted == "void" and doc.status != "void":
            reason = str(values.get("memo") or "voided in the workbook")
            booking.void(conn, row_id, on or date.today(), ctx.user, reason)
            return
        if wanted != doc.status or content_changed:
            raise Immutable(f"{doc.label} is {doc.status}: it cannot be changed; set Status to "
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
            for doc in select(conn, t.documents.c.id.in_(chunk)):
                note = _header_note(None, doc, with_lines[doc.id])
                if note:
                    ctx.notes[doc.id] = note
        return results

    def draft(self, ctx: Context, values: dict[str, object], lines: Sequence[dict[str, object]]) -> DraftDocument:
        row = InvoiceRow.of(values)
        ordered = sorted((InvoiceLineRow.of(ln) for ln in lines), key=lambda ln: ln.line)
        return DraftDocument(
            DocKind(row.kind or "invoice"), row.customer, row.date, tuple(_line(ln) for ln in ordered),
            currency=row.currency, fx_rate=row.fx_rate, due_on=row.due_date, memo=row.memo, source=row.source,
            fapiao_no=row.fapiao_no, expected_on=row.expected_date, order=row.order,
            original=ctx.resolve(row.original), disputed=row.disputed == "yes", user_ref=row.your_ref,
            header=None if ordered else HeaderAmounts(row.net, row.tax, row.total))

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object],
               lines: Sequence[dict[str, object]] = (), *, on: date | None = None,
               content_changed: bool = True) -> None:
        doc = load(conn, row_id)
        if doc.status == "draft" and lines and content_changed:
            super().update(conn, ctx, row_id, values, lines, on=on, content_changed=content_changed)
            note = _header_note(doc, load(conn, row_id), values)
            if note:
                ctx.notes[row_id] = note
            return
        if (doc.status != "draft" and values.get("status") == doc.status and content_changed
                and _only_open_fields_changed(ctx, doc, values)):
            after = {"fapiao_no": values.get("fapiao_no"), "expected_on": values.get("expected_date") or doc.due_on,
                     "disputed": _disputed(values)}
            conn.execute(t.documents.update().where(t.documents.c.id == row_id)
                         .values(**after, rev=t.documents.c.rev + 1))
            record(conn, ctx.user, "update", "document", row_id, {k: getattr(doc, k) for k in after}, after)
            return
        super().update(conn, ctx, row_id, values, lines, on=on, content_changed=content_changed)


def _header_note(before: Document | None, after: Document, values: dict[str, object]) -> str | None:
    """An invoice with lines has its Net, Tax and Total computed from them: what is typed there is
    not taken. Said when what is typed is neither what the store had (a draft's header before
    its lines changed) nor what the lines now give."""
    cur = after.currency
    typed = {key: values.get(key) for key in ("net", "tax", "total")}
    def header(doc: Document) -> dict[str, Decimal]:
        return {"net": from_minor(doc.net_minor, cur), "tax": from_minor(doc.tax_minor, cur),
                "total": from_minor(doc.amount_minor, cur)}
    def matches(doc: Document | None) -> bool:
        return doc is not None and all(v is None or decimal_from_number(v) == header(doc)[k] for k, v in typed.items())
    if matches(before) or matches(after):
        return None
    shown = ", ".join(f"{k} {amount}" for k, amount in header(after).items())
    return (f"{shown_number(after.number, after.id)} has lines: its net, tax and total are computed from them "
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


def _only_open_fields_changed(ctx: Context, doc: Document, values: dict[str, object]) -> bool:
    """True when a posted invoice's row differs from the store only in what stays open after
    posting: the fapiao number (often known later), the expected receipt date and whether the
    customer disputes it."""
    keys = ("kind", "date", "customer", "currency", "due_date", "source", "memo", "order", "your_ref",
            "net", "tax", "total")
    cur = doc.currency
    stored = {"kind": doc.kind, "date": doc.doc_on, "customer": ctx.code_of.get(doc.customer_id),
              "currency": cur, "due_date": doc.due_on, "source": doc.source, "memo": doc.memo,
              "order": doc.order_number, "your_ref": doc.user_ref, "net": from_minor(doc.net_minor, cur),
              "tax": from_minor(doc.tax_minor, cur), "total": from_minor(doc.amount_minor, cur)}
    return all(values.get(k) == stored[k] for k in keys) and (
        values.get("fapiao_no") != doc.fapiao_no or (values.get("expected_date") or doc.due_on) != doc.expected_on
        or _disputed(values) != doc.disputed)


class ReceiptsAdapter(DocumentAdapter):
    """Receipts: draft -> posted (confirmed) -> approved by another approver; see services.receipts."""

    sheet = RECEIPTS
    kinds = (DocKind.RECEIPT.value,)
    shown = ("id", "rev", "number", "doc_on", "customer_id", "method", "currency", "fx_rate", "amount_minor",
             "maturity_on", "reference", "status", "created_by", "approved_by", "memo", "user_ref")

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        return [StoreRow(r["id"], r["rev"], self.shown_values(ctx, r)) for r in self._rows(conn)]

    def draft(self, ctx: Context, values: dict[str, object], lines: Sequence[dict[str, object]]) -> DraftDocument:
        row = ReceiptRow.of(values)
        return DraftDocument(
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
        doc = load(conn, row_id, lock=True)
        if values.get("status") != "approved" or doc.status not in ("draft", "posted"):
            super().update(conn, ctx, row_id, values, lines, on=on, content_changed=content_changed)
            return
        if doc.status == "draft":
            super().update(conn, ctx, row_id, {**values, "status": "posted"}, lines, on=on,
                           content_changed=content_changed)
        elif content_changed:
            raise Immutable(f"{doc.label} is posted: it can be approved, not changed")
        named = {shown_number(doc.number, row_id), load(conn, row_id).number, doc.user_ref} & ctx.named_credits
        receipts.approve(conn, [row_id], ctx.user, without_matching=[row_id] if named else [])


def _differs(mine: object, theirs: object) -> bool:
    return content_hash(_ONE, {"v": mine}) != content_hash(_ONE, {"v": theirs})


_ONE = SheetSchema("_", "_", "_", (Column("v", Kind.TEXT, "v", "v"),), key=(), store_table=None)
