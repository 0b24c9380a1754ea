"""Invoices (with their lines), receipts and allocations as sheet rows.

A draft is shown as DRAFT-<id> until it is posted; setting Status to posted posts it,
to void voids it. Posted documents refuse every other edit (the fapiao number excepted:
it is often known only after posting).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.documents import LINE_KINDS, DocKind, LineInput
from xlar.domain.errors import Immutable, InvalidAllocation, InvalidDocument, NotFound, XlarError
from xlar.domain.money import decimal_from_number, from_minor, tidy
from xlar.schema.sheets import ALLOCATIONS, INVOICES, RECEIPTS
from xlar.services import documents as docs
from xlar.services import matching
from xlar.store import tables as t
from xlar.store.audit import record
from xlar.sync.adapters import Adapter, Context, Item
from xlar.sync.rows import StoreRow

DRAFT_PREFIX = "DRAFT-"


def shown_number(number: str | None, doc_id: int) -> str:
    return number or f"{DRAFT_PREFIX}{doc_id}"


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

    def insert_many(self, conn: Connection, ctx: Context, items: Sequence[Item]) -> list[int | XlarError]:
        """New rows: drafts are stored, rows with Status posted are posted too, all in batches."""
        results: list[int | XlarError | None] = [None] * len(items)
        drafts, at = [], []
        for k, (values, lines) in enumerate(items):
            status = values.get("status") or "draft"
            try:
                if status not in ("draft", "posted"):
                    raise InvalidDocument(f"a new document can be draft or posted, not {status}")
                drafts.append(self.draft(ctx, values, lines))
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
        posting = docs.Posting()
        ids = docs.store_new(conn, [p for _, p in good], ctx.user,
                             [items[k][0].get("status") == "posted" for k, _ in good], posting)
        ctx.warnings.update(posting.warnings)
        for (k, _prepared), doc_id in zip(good, ids, strict=True):
            results[k] = doc_id
        return [r for r in results if r is not None]

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object],
               lines: Sequence[dict[str, object]] = (), *, on: date | None = None,
               content_changed: bool = True) -> None:
        doc = docs.load(conn, row_id, lock=True)
        wanted = values.get("status") or "draft"
        if doc["status"] == "draft":
            if content_changed:
                docs.update_draft(conn, row_id, self.draft(ctx, values, lines), ctx.user)
            if wanted == "posted":
                posting = docs.Posting()
                docs.post_many(conn, [docs.load(conn, row_id, lock=True)], ctx.user, posting)
                ctx.warnings.update(posting.warnings)
            elif wanted != "draft":
                raise InvalidDocument(f"{docs.label(doc)} is a draft: set Status to posted, or delete the row")
            return
        if wanted == "void" and doc["status"] != "void":
            reason = str(values.get("memo") or "voided in the workbook")
            docs.void(conn, row_id, on or date.today(), ctx.user, reason)
            return
        if wanted != doc["status"] or content_changed:
            raise Immutable(f"{docs.label(doc)} is {doc['status']}: it cannot be changed; set Status to "
                            "void to reverse it")

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        docs.delete_draft(conn, row_id, ctx.user)


class InvoicesAdapter(DocumentAdapter):
    sheet = INVOICES
    kinds = tuple(k.value for k in LINE_KINDS)
    shown = ("id", "rev", "number", "kind", "doc_on", "customer_id", "currency", "fx_rate", "net_minor",
             "tax_minor", "amount_minor", "due_on", "expected_on", "order_number", "related_id", "source",
             "fapiao_no", "status", "memo")

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        d = t.documents.c
        related = dict(conn.execute(sa.select(d.id, d.number).where(
            d.id.in_(sa.select(d.related_id).where(d.related_id.is_not(None), d.kind.in_(self.kinds))))).all())
        return [StoreRow(r["id"], r["rev"], {
            "number": shown_number(r["number"], r["id"]), "kind": r["kind"], "date": r["doc_on"],
            "customer": ctx.code_of.get(r["customer_id"]), "currency": r["currency"],
            "fx_rate": None if r["currency"] == ctx.base_currency else r["fx_rate"],
            "net": from_minor(r["net_minor"], r["currency"]), "tax": from_minor(r["tax_minor"], r["currency"]),
            "total": from_minor(r["amount_minor"], r["currency"]), "due_date": r["due_on"],
            "expected_date": r["expected_on"], "order": r["order_number"],
            "original": related.get(r["related_id"]) if r["related_id"] else None,
            "source": r["source"], "fapiao_no": r["fapiao_no"], "status": r["status"], "memo": r["memo"],
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
            result.append(StoreRow(r["id"], r["rev"], {
                "invoice": number, "line": r["line_no"], "delivery": r["delivery"],
                "delivery_line": r["delivery_line"], "item": r["item"], "qty": r["qty"],
                "unit_price": r["unit_price"], "tax_rate": r["tax_rate"],
                "net": from_minor(r["net_minor"], r["currency"]), "tax": from_minor(r["tax_minor"], r["currency"]),
            }, parent=number))
        return result

    def draft(self, ctx: Context, values: dict[str, object], lines: Sequence[dict[str, object]]) -> docs.DraftDocument:
        ordered = sorted(lines, key=lambda ln: int(ln["line"]))  # type: ignore[call-overload]
        return docs.DraftDocument(
            DocKind(str(values.get("kind") or "invoice")), str(values["customer"]), values["date"],  # type: ignore[arg-type]
            tuple(_line(ln) for ln in ordered),
            currency=values.get("currency"), fx_rate=values.get("fx_rate"),  # type: ignore[arg-type]
            due_on=values.get("due_date"), memo=values.get("memo"),  # type: ignore[arg-type]
            source=values.get("source"), fapiao_no=values.get("fapiao_no"),  # type: ignore[arg-type]
            expected_on=values.get("expected_date"), order=values.get("order"),  # type: ignore[arg-type]
            original=values.get("original"))  # type: ignore[arg-type]

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object],
               lines: Sequence[dict[str, object]] = (), *, on: date | None = None,
               content_changed: bool = True) -> None:
        doc = docs.load(conn, row_id)
        if (doc["status"] != "draft" and values.get("status") == doc["status"] and content_changed
                and _only_open_fields_changed(ctx, doc, values)):
            after = {"fapiao_no": values.get("fapiao_no"), "expected_on": values.get("expected_date") or doc["due_on"]}
            conn.execute(t.documents.update().where(t.documents.c.id == row_id)
                         .values(**after, rev=t.documents.c.rev + 1))
            record(conn, ctx.user, "update", "document", row_id,
                   {"fapiao_no": doc["fapiao_no"], "expected_on": doc["expected_on"]}, after)
            return
        super().update(conn, ctx, row_id, values, lines, on=on, content_changed=content_changed)


def _line(ln: dict[str, object]) -> LineInput:
    """An InvoiceLines row; a negative quantity bills a return."""
    qty = tidy(decimal_from_number(ln["qty"]))
    delivery_line = ln.get("delivery_line")
    return LineInput(str(ln["item"]), qty, tidy(decimal_from_number(ln["unit_price"])),
                     tidy(decimal_from_number(ln.get("tax_rate") or 0)), "",
                     None if ln.get("delivery") is None else str(ln["delivery"]),
                     None if delivery_line is None else int(delivery_line), qty < 0)  # type: ignore[call-overload]


def _only_open_fields_changed(ctx: Context, doc: Any, values: dict[str, object]) -> bool:
    """True when a posted invoice's row differs from the store only in what stays open after
    posting: the fapiao number (often known later) and the expected receipt date."""
    keys = ("kind", "date", "customer", "currency", "due_date", "source", "memo", "order")
    stored = {"kind": doc["kind"], "date": doc["doc_on"], "customer": ctx.code_of.get(doc["customer_id"]),
              "currency": doc["currency"], "due_date": doc["due_on"], "source": doc["source"], "memo": doc["memo"],
              "order": doc["order_number"]}
    return all(values.get(k) == stored[k] for k in keys) and (
        values.get("fapiao_no") != doc["fapiao_no"] or (values.get("expected_date") or doc["due_on"]) != doc["expected_on"])


class ReceiptsAdapter(DocumentAdapter):
    sheet = RECEIPTS
    kinds = (DocKind.RECEIPT.value,)
    shown = ("id", "rev", "number", "doc_on", "customer_id", "method", "currency", "fx_rate", "amount_minor",
             "reference", "status", "created_by", "approved_by", "memo")

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        return [StoreRow(r["id"], r["rev"], {
            "number": shown_number(r["number"], r["id"]), "date": r["doc_on"],
            "customer": ctx.code_of.get(r["customer_id"]), "method": r["method"], "currency": r["currency"],
            "fx_rate": None if r["currency"] == ctx.base_currency else r["fx_rate"],
            "amount": from_minor(r["amount_minor"], r["currency"]), "reference": r["reference"],
            "status": r["status"], "entered_by": r["created_by"], "approved_by": r["approved_by"],
            "memo": r["memo"],
        }) for r in self._rows(conn)]

    def draft(self, ctx: Context, values: dict[str, object], lines: Sequence[dict[str, object]]) -> docs.DraftDocument:
        if values.get("status") == "approved":
            raise InvalidDocument("receipt approval is not available yet: post the receipt")
        return docs.DraftDocument(
            DocKind.RECEIPT, str(values["customer"]), values["date"],  # type: ignore[arg-type]
            amount=decimal_from_number(values["amount"]), currency=values.get("currency"),  # type: ignore[arg-type]
            fx_rate=values.get("fx_rate"), method=values.get("method"),  # type: ignore[arg-type]
            reference=values.get("reference"), memo=values.get("memo"))  # type: ignore[arg-type]


class AllocationsAdapter(Adapter):
    """Live matches; a new row is a manual match. Changing a match is undoing it (xlar match)."""

    sheet = ALLOCATIONS

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        a, oi = t.allocations.c, t.open_items
        debit, credit = oi.alias("debit"), oi.alias("credit")
        ddoc, cdoc = t.documents.alias("ddoc"), t.documents.alias("cdoc")
        reversed_ids = sa.select(a.reverses_id).where(a.reverses_id.is_not(None))
        void_batches = sa.select(t.allocation_batches.c.id).where(t.allocation_batches.c.method == "void")
        rows = conn.execute(
            sa.select(a.id, a.amount_minor, a.effective_on, debit.c.currency, debit.c.installment_no,
                      ddoc.c.number.label("invoice"), cdoc.c.number.label("credit_doc"))
            .join(debit, debit.c.id == a.debit_item_id).join(credit, credit.c.id == a.credit_item_id)
            .join(ddoc, ddoc.c.id == debit.c.document_id).join(cdoc, cdoc.c.id == credit.c.document_id)
            .where(a.reverses_id.is_(None), a.id.not_in(reversed_ids), a.batch_id.not_in(void_batches))
            .order_by(a.id)).mappings()
        return [StoreRow(r["id"], 1, {
            "credit_doc": r["credit_doc"], "invoice": r["invoice"],
            "amount": from_minor(r["amount_minor"], r["currency"]), "date": r["effective_on"],
            "installment_no": r["installment_no"],
        }) for r in rows]

    def _item(self, conn: Connection, number: object, installment: int) -> int:
        found = conn.execute(
            sa.select(t.open_items.c.id).join(t.documents, t.documents.c.id == t.open_items.c.document_id)
            .where(t.documents.c.number == str(number), t.open_items.c.installment_no == installment)).scalar()
        if found is None:
            raise NotFound(f"no posted document {number!r}" + (f" installment {installment}" if installment > 1 else ""))
        return int(found)

    def insert(self, conn: Connection, ctx: Context, values: dict[str, object],
               lines: Sequence[dict[str, object]] = ()) -> int:
        debit = self._item(conn, values["invoice"], int(values.get("installment_no") or 1))  # type: ignore[call-overload]
        credit = self._item(conn, values["credit_doc"], 1)
        batch = matching.allocate(conn, [matching.Match(debit, credit, decimal_from_number(values["amount"]))],
                                  method="manual", user=ctx.user)
        return int(conn.execute(sa.select(t.allocations.c.id).where(t.allocations.c.batch_id == batch)).scalar_one())

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        raise InvalidAllocation("a match is not edited: undo it (xlar match undo) and add the right one")

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        raise InvalidAllocation("a match is not deleted: undo it (xlar match undo); the row is restored")


