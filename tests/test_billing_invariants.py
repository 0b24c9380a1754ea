"""Random days of billing: whatever is accepted or refused, no delivery line is ever billed
beyond what was delivered, its billed quantity is what live invoice lines bill of it, every
journal balances, and AR-unbilled only holds what is delivered and not yet billed."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.books import USER
from xlar.domain.customers import Customer
from xlar.domain.documents import DocKind, LineInput
from xlar.domain.errors import XlarError
from xlar.services import billing
from xlar.services import documents as docs
from xlar.services.customers import save_customer
from xlar.services.deliveries import DeliveryLine, add_deliveries
from xlar.store.settings import write_settings
from xlar.store.tables import deliveries, document_lines, documents, journal_lines, open_items

START = date(2026, 5, 1)
CODES = ("HQ", "S1", "C1")
days = st.integers(0, 75)
ops = st.one_of(
    st.tuples(st.just("deliver"), st.sampled_from(CODES), days, st.integers(1, 12), st.sampled_from(["delivery", "return"]),
              st.sampled_from(["9.99", "100", "33.33"])),
    st.tuples(st.just("bill"), st.integers(0, 40), st.integers(1, 12), days),
    st.tuples(st.just("generate"), days),
    st.tuples(st.just("post"), st.integers(0, 40)),
    st.tuples(st.just("void"), st.integers(0, 40), days),
    st.tuples(st.just("delete"), st.integers(0, 40)),
)


def _pick(conn, status, k):
    ids = conn.execute(sa.select(documents.c.id).where(documents.c.status == status,
                                                       documents.c.kind.in_(("invoice", "credit_note")))
                       .order_by(documents.c.id)).scalars().all()
    return ids[k % len(ids)] if ids else None


def _apply(conn, op, count):
    kind = op[0]
    if kind == "deliver":
        _, cust, day, qty, what, price = op
        count[0] += 1
        result = add_deliveries(conn, [DeliveryLine(f"N{count[0]}", 1, cust, START + timedelta(days=day), "X",
                                                    Decimal(qty), what, Decimal(price), Decimal("0.13"))], USER)[0]
        if isinstance(result, XlarError):
            raise result
    elif kind == "bill":  # by hand, any quantity: too much must be refused
        rows = conn.execute(sa.select(deliveries).order_by(deliveries.c.id)).mappings().all()
        if rows:
            row = rows[op[1] % len(rows)]
            is_return = row["kind"] == "return"
            qty = Decimal(op[2])
            code = conn.execute(sa.text("SELECT code FROM customers WHERE id = :i"), {"i": row["customer_id"]}).scalar()
            party = "HQ" if code == "S1" else code
            docs.create_draft(conn, docs.DraftDocument(
                DocKind.CREDIT_NOTE if is_return else DocKind.INVOICE, party,
                max(row["delivered_on"], START + timedelta(days=op[3])),
                (LineInput("X", qty, row["unit_price"], Decimal("0.13"), "", row["number"], 1),)), USER)
    elif kind == "generate":
        billing.generate(conn, START + timedelta(days=op[1]), USER)
    elif kind == "post":
        doc_id = _pick(conn, "draft", op[1])
        if doc_id:
            docs.post(conn, doc_id, USER)
    elif kind == "void":
        doc_id = _pick(conn, "posted", op[1])
        if doc_id:
            doc = docs.load(conn, doc_id)
            docs.void(conn, doc_id, max(doc.doc_on, START + timedelta(days=op[2])), USER, "test")
    elif kind == "delete":
        doc_id = _pick(conn, "draft", op[1])
        if doc_id:
            docs.delete_draft(conn, doc_id, USER)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["invoice", "delivery"]), st.sampled_from(["reverse", "difference"]),
       st.lists(ops, min_size=1, max_size=25))
def test_never_billed_twice_and_journals_balance(backend, recognition, mode, operations):
    with backend.reused_store() as store:
        with store.write() as conn:
            write_settings(conn, {"revenue_recognition": recognition, "delivery_difference": mode}, USER)
            save_customer(conn, Customer("HQ", "Head office", "CNY", closing_day=25), USER)
            save_customer(conn, Customer("S1", "Branch", "CNY", parent_code="HQ"), USER)
            save_customer(conn, Customer("C1", "Solo", "CNY"), USER)
        count = [0]
        for op in operations:
            try:
                with store.write() as conn:
                    _apply(conn, op, count)
                event(f"{op[0]} done")
            except XlarError as exc:
                event(f"{op[0]} refused: {exc.code}")  # refused whole: the transaction rolled back
        with store.read() as conn:
            live = defaultdict(Decimal)
            for number, line_no, qty in conn.execute(
                    sa.select(document_lines.c.delivery, document_lines.c.delivery_line, document_lines.c.qty)
                    .join(documents, documents.c.id == document_lines.c.document_id)
                    .where(documents.c.status != "void", document_lines.c.delivery.is_not(None))):
                live[(number, line_no)] += abs(qty)
            for row in conn.execute(sa.select(deliveries)).mappings():
                assert row["billed_qty"] == live[(row["number"], row["line_no"])]
                assert Decimal(0) <= row["billed_qty"] <= row["qty"], f"{row['number']} billed {row['billed_qty']}"
            totals = defaultdict(lambda: [0, 0, 0, 0])
            by_account = defaultdict(int)
            for doc_id, account, dr, cr, bdr, bcr in conn.execute(sa.select(
                    journal_lines.c.document_id, journal_lines.c.account, journal_lines.c.debit_minor,
                    journal_lines.c.credit_minor, journal_lines.c.base_debit_minor, journal_lines.c.base_credit_minor)):
                acc = totals[doc_id]
                acc[0], acc[1], acc[2], acc[3] = acc[0] + dr, acc[1] + cr, acc[2] + bdr, acc[3] + bcr
                by_account[account] += dr - cr
            assert all(a[0] == a[1] and a[2] == a[3] for a in totals.values())
            assert by_account["1122"] == (conn.execute(sa.select(sa.func.sum(open_items.c.amount_minor))).scalar() or 0)
            # AR-unbilled holds exactly the booked value of what posted invoices have not billed
            booked = 0
            for row in conn.execute(sa.select(deliveries).where(deliveries.c.accrual_id.is_not(None))).mappings():
                booked += (-1 if row["kind"] == "return" else 1) * (row["net_minor"] + row["tax_minor"])
            signed_release = 0
            for kind, value in conn.execute(
                    sa.select(documents.c.kind, document_lines.c.delivered_net_minor + document_lines.c.delivered_tax_minor)
                    .join(documents, documents.c.id == document_lines.c.document_id)
                    .join(deliveries, sa.and_(deliveries.c.number == document_lines.c.delivery,
                                              deliveries.c.line_no == document_lines.c.delivery_line))
                    .where(documents.c.status.in_(("posted", "approved")), deliveries.c.accrual_id.is_not(None))):
                signed_release += -value if kind == "credit_note" else value
            assert by_account["112299"] == booked - signed_release
