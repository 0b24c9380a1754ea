"""Bank statements (`xlar bank import`): lines in, receipt suggestions and an exception queue out.

Every statement line is kept once (its key: importing the same file twice adds nothing)
with what the scorer (xlar.domain.cash) made of it: a customer, the invoices the
money pays, a confidence and a reason. A sure enough credit (setting bank_auto_confidence)
becomes a draft receipt whose reference names those invoices, so approving it matches them;
the rest wait in the exception queue with the reason: no customer, ambiguous, short or over
payment, not a receipt. `resolve` turns a queued line into a receipt once someone knows.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.bank import BankLine
from xlar.domain.cash import CashIndex, CustomerRef, OpenInvoice, Suggestion, quoted_invoices
from xlar.domain.documents import DocKind
from xlar.domain.drafts import DraftDocument
from xlar.domain.errors import InvalidDocument, NotFound, XlarError
from xlar.domain.money import from_minor, to_minor
from xlar.domain.records import StatementLine
from xlar.imports.bank import CsvMapping, InvalidImport, parse_statement
from xlar.services import documents as docs
from xlar.services.credit import latest_rate
from xlar.services.matching import LIVE
from xlar.store.audit import record, record_many
from xlar.store.ledger import OPEN, open_items_stmt
from xlar.store.reads import dates, driver_rows
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import bank_lines, customers, documents
from xlar.store.writes import in_chunks, insert_rows, update_row

_LARGEST = Decimal(10) ** 13   # a trillion and more on one line: a broken file, not a payment


@dataclass(slots=True)
class Imported:
    """What an import did: lines read, new, already there; receipts drafted; queued by reason."""

    read: int = 0
    new: int = 0
    duplicates: int = 0
    receipts: int = 0
    queued: Counter[str] = field(default_factory=Counter)

    def summary(self, locale: str = "en") -> str:
        if locale == "zh-CN":
            queued = "，".join(f"{QUEUED_ZH.get(why, why)} {n}" for why, n in sorted(self.queued.items())) or "无"
            return (f"读取 {self.read} 行：新增 {self.new}，已导入过 {self.duplicates}；"
                    f"生成草稿收款单 {self.receipts} 张；待处理：{queued}")
        queued = ", ".join(f"{n} {why}" for why, n in sorted(self.queued.items())) or "none"
        return (f"{self.read} lines read: {self.new} new, {self.duplicates} already imported; "
                f"{self.receipts} draft receipts; exception queue: {queued}")


# Why a statement line waits in the exception queue (domain.cash), as a zh-CN book says it.
QUEUED_ZH = {"reversal": "冲正", "not a receipt (debit)": "非收款（付出）", "not a receipt (zero)": "非收款（金额为零）",
             "ambiguous": "客户不明确", "no customer found": "未找到客户", "short payment": "少付",
             "over payment": "多付", "no receipt": "未能生成收款单", "low confidence": "把握不足"}


def _customer_refs(conn: Connection) -> list[CustomerRef]:
    c = customers.c
    return [CustomerRef(code, name, account or "") for code, name, account in conn.execute(
        sa.select(c.code, c.name, c.bank_account).where(c.status != "inactive").order_by(c.code))]


def _open_invoices(conn: Connection) -> list[OpenInvoice]:
    """The open invoices, debit notes and deposits as a payer quotes them (domain.cash), read as the
    driver gives them: an import reads every open item of the book."""
    listing = open_items_stmt(None).subquery("listing")
    d = documents.c
    rows = driver_rows(conn, (
        sa.select(d.number, d.fapiao_no, customers.c.code, listing.c.currency, listing.c[OPEN], listing.c.due_on)
        .join(documents, d.id == listing.c.document_id).join(customers, customers.c.id == listing.c.customer_id)
        .where(listing.c[OPEN] > 0, d.status.in_(LIVE)).order_by(listing.c.due_on, d.number)))
    due_on = cast(list[date], dates(row[5] for row in rows))   # the column is NOT NULL
    return quoted_invoices((number, fapiao, code, cur, open_minor, due)
                           for (number, fapiao, code, cur, open_minor, _), due in zip(rows, due_on, strict=True))


def _exception_kind(text: str) -> str:
    return text.split(":")[0].strip()


def import_statement(conn: Connection, data: bytes, source: str, user: str, *, fmt: str | None = None,
                     mapping: CsvMapping | None = None) -> Imported:
    """Import a statement file's lines (see the module doc)."""
    book = read_settings(conn)
    lines = parse_statement(data, fmt, mapping)
    result = Imported(read=len(lines))
    for line in lines:
        if abs(line.amount) >= _LARGEST:
            raise InvalidImport(f"{source} line {line.seq}: amount {line.amount} {line.currency} is beyond any "
                                "bank statement; nothing was imported")
    keyed = _keys(lines)
    known: set[str] = set()
    for chunk in in_chunks(keyed):
        known |= set(conn.execute(sa.select(bank_lines.c.line_key).where(bank_lines.c.line_key.in_(chunk))).scalars())
    fresh = [(key, ln) for key, ln in keyed.items() if key not in known]
    result.duplicates = len(lines) - len(fresh)
    result.new = len(fresh)
    index = CashIndex(_customer_refs(conn), _open_invoices(conn))   # built once: every line is looked up in it
    suggested = []
    for _key, line in fresh:
        found = index.suggest(line, book.write_off_tolerance)
        index.consume(found)
        suggested.append(found)
    exceptions = {n: found.exception for n, found in enumerate(suggested) if found.exception is not None}
    exceptions |= {n: f"low confidence: {found.confidence} < {book.bank_auto_confidence}"
                   for n, found in enumerate(suggested) if n not in exceptions
                   and not (found.customer and found.confidence >= book.bank_auto_confidence)}
    receipt_of = _draft_receipts(conn, [(n, fresh[n][1], suggested[n]) for n in range(len(fresh))
                                        if n not in exceptions], source, user, book, exceptions)
    ids = {code: i for i, code in conn.execute(sa.select(customers.c.id, customers.c.code))}
    now = datetime.now(UTC)
    rows = []
    for n, ((key, line), found) in enumerate(zip(fresh, suggested, strict=True)):
        if n in receipt_of:
            result.receipts += 1
        else:
            result.queued[_exception_kind(exceptions[n])] += 1
        rows.append({
            "line_key": key, "source": source[:200], "account": line.account[:64],
            "statement": line.statement[:64], "seq": line.seq, "booked_on": line.booked_on,
            "value_on": line.value_on, "amount_minor": to_minor(line.amount, line.currency),
            "currency": line.currency, "counterparty": line.counterparty[:200] or None,
            "counterparty_account": line.counterparty_account[:64] or None, "reference": line.reference or None,
            "end_to_end": line.end_to_end[:100] or None, "bank_ref": line.bank_ref[:100] or None,
            "reversal": line.reversal, "customer_id": ids.get(found.customer) if found.customer else None,
            "invoices": _invoices_text(found) or None, "confidence": found.confidence, "reason": found.reason,
            "exception": exceptions.get(n), "receipt_id": receipt_of.get(n), "imported_by": user, "imported_at": now})
    new_ids = insert_rows(conn, bank_lines, rows) if rows else []
    record_many(conn, user, "import", "bank_line", [
        (new_id, None, {k: v for k, v in row.items() if k in ("line_key", "source", "amount_minor", "exception",
                                                               "receipt_id")})
        for new_id, row in zip(new_ids, rows, strict=True)])
    return result


def _keys(lines: Sequence[BankLine]) -> dict[str, BankLine]:
    """Each line's key: its content's digest, and how many identical lines came before it in
    the file (two equal payments on one day are two lines; the same file again adds none)."""
    seen: Counter[str] = Counter()
    keyed = {}
    for line in lines:
        seen[line.key] += 1
        keyed[hashlib.sha256(f"{line.key}:{seen[line.key]}".encode()).hexdigest()] = line
    return keyed


def _invoices_text(found: Suggestion) -> str:
    return "; ".join(f"{number}={amount}" for number, amount in found.invoices)


def _receipt(conn: Connection, line: BankLine, found: Suggestion, source: str, book: BookSettings,
             rates: dict[tuple[str, date], Decimal]) -> DraftDocument:
    """A bank line's draft receipt; its reference names the invoices it pays."""
    assert found.customer is not None
    reference = " ".join([number for number, _ in found.invoices] + ([line.end_to_end] if line.end_to_end else []))
    rate = None
    if line.currency != book.base_currency:
        if (line.currency, line.booked_on) not in rates:
            rates[(line.currency, line.booked_on)] = latest_rate(conn, line.currency, line.booked_on, book)
        rate = rates[(line.currency, line.booked_on)]
    return DraftDocument(
        DocKind.RECEIPT, found.customer, line.booked_on, amount=line.amount, currency=line.currency, fx_rate=rate,
        method="bank", reference=(reference or line.reference)[:200] or None,
        memo=f"bank {source} #{line.seq}: {line.counterparty} {line.reference}".strip()[:500],
        source=f"bank {line.bank_ref or line.seq}"[:100])


def _draft_receipts(conn: Connection, wanted: Sequence[tuple[int, BankLine, Suggestion]], source: str, user: str,
                    book: BookSettings, exceptions: dict[int, str]) -> dict[int, int]:
    """Draft receipts for the lines WANTED, stored in one batch: line -> receipt id; a line whose
    receipt is refused gets its reason in EXCEPTIONS ("no receipt: ...")."""
    rates: dict[tuple[str, date], Decimal] = {}
    drafts: list[tuple[int, DraftDocument]] = []
    for n, line, found in wanted:
        try:
            drafts.append((n, _receipt(conn, line, found, source, book, rates)))
        except XlarError as exc:
            exceptions[n] = f"no receipt: {exc.message}"
    ready = []
    for (n, _draft), prepared in zip(drafts, docs.prepare(conn, [d for _, d in drafts]), strict=True):
        if isinstance(prepared, XlarError):
            exceptions[n] = f"no receipt: {prepared.message}"
        else:
            ready.append((n, prepared))
    ids = docs.store_new(conn, [p for _, p in ready], user, [False] * len(ready)) if ready else []
    return {n: doc_id for (n, _), doc_id in zip(ready, ids, strict=True)}


def resolve(conn: Connection, line_id: int, customer: str, user: str, *, invoices: Sequence[str] = ()) -> int:
    """Turn a queued line into a draft receipt of CUSTOMER naming INVOICES; returns its id."""
    book = read_settings(conn)
    found_row = conn.execute(sa.select(bank_lines).where(bank_lines.c.id == line_id).with_for_update()).first()
    if found_row is None:
        raise NotFound(f"no bank line {line_id}")
    row = StatementLine._make(found_row)
    if row.receipt_id is not None:
        raise InvalidDocument(f"bank line {line_id} already has a receipt")
    if row.amount_minor <= 0 or row.reversal:
        raise InvalidDocument(f"bank line {line_id} is not money received: nothing to resolve into a receipt")
    line = _line_of(row)
    found = Suggestion(customer, tuple((number, Decimal(0)) for number in invoices), 100,
                       f"resolved by {user}", None)
    receipt_id = docs.create_draft(conn, _receipt(conn, line, found, row.source, book, {}), user)
    cust_id = conn.execute(sa.select(customers.c.id).where(customers.c.code == customer)).scalar_one()
    after = {"receipt_id": receipt_id, "exception": None, "customer_id": cust_id,
             "invoices": " ".join(invoices) or None, "reason": f"{row.reason}; resolved by {user}"}
    update_row(conn, bank_lines, line_id, after)
    record(conn, user, "resolve", "bank_line", line_id, {"exception": row.exception}, after)
    return receipt_id


def _line_of(row: StatementLine) -> BankLine:
    return BankLine(row.account, row.statement, row.seq, row.booked_on, row.value_on,
                    from_minor(row.amount_minor, row.currency), row.currency, row.counterparty or "",
                    row.counterparty_account or "", row.reference or "", row.end_to_end or "",
                    row.bank_ref or "", row.reversal)


class Shown(NamedTuple):
    """A statement line as the BankLines sheet shows it: with its customer's code, and its
    receipt's number (DRAFT-<id> for a draft) and status."""

    line: StatementLine
    customer: str | None
    receipt: str | None
    receipt_status: str | None


def statement_rows(conn: Connection) -> list[Shown]:
    """Every imported line with its customer and receipt, newest first (the BankLines sheet)."""
    b, c, d = bank_lines.c, customers.c, documents.c
    return [Shown(StatementLine._make(columns), code, number or (f"DRAFT-{doc_id}" if doc_id else None), status)
            for *columns, code, number, status, doc_id in conn.execute(
                sa.select(bank_lines, c.code, d.number, d.status, d.id)
                .outerjoin(customers, c.id == b.customer_id).outerjoin(documents, d.id == b.receipt_id)
                .order_by(b.booked_on.desc(), b.id.desc()))]
