"""Receipts (收款单) through their workflow: draft -> confirmed (posted) -> approved.

Confirming a receipt books the money (Dr bank, cash, notes receivable or the offset account
/ Cr AR) and numbers it. Approval needs an approver (setting `approvers`) who neither entered
nor changed the receipt: segregation of duties. Only approved receipts clear invoices unless the setting
`receipt_clearing` is `confirmed`; when a receipt starts clearing it is matched at entry
(setting `match_at_approval`): to the invoices its reference names, or oldest due first.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.documents import DocKind, DocStatus
from xlar.domain.errors import InvalidDocument, NotAllowed
from xlar.domain.records import Document
from xlar.services import suggest
from xlar.store.audit import record_many
from xlar.store.documents import select
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import audit_log, documents
from xlar.store.writes import in_chunks, update_rows


def check_approver(conn: Connection, book: BookSettings, user: str, doc: Document) -> None:
    """Refuse unless USER may approve DOC: an approver, who neither entered nor changed it."""
    what = doc.label
    if not book.may_approve(user):
        raise NotAllowed(f"{user} cannot approve {what}: approving receipts needs the approver role "
                         "(setting approvers)")
    a = audit_log.c
    editors = set(conn.execute(sa.select(a.user_name).where(
        a.entity == "document", a.entity_id == str(doc.id), a.action.in_(("create", "update")))).scalars())
    if user == doc.created_by or user in editors:
        did = "entered" if user == doc.created_by else "changed"
        raise NotAllowed(f"{user} {did} {what} and cannot also approve it: another approver must "
                         "(segregation of duties)")


def approve(conn: Connection, doc_ids: Sequence[int], user: str, *,
            without_matching: Collection[int] = ()) -> list[str]:
    """Approve confirmed receipts; returns their numbers. Receipts not in WITHOUT_MATCHING are
    then matched at entry (those whose matches the workbook's Allocations rows give are not)."""
    book = read_settings(conn)
    by_id = {doc.id: doc for chunk in in_chunks(doc_ids)
             for doc in select(conn, documents.c.id.in_(chunk), lock=True)}
    for doc_id in doc_ids:
        doc = by_id.get(doc_id)
        if doc is None or doc.kind is not DocKind.RECEIPT:
            raise InvalidDocument(f"document {doc_id} is not a receipt: only receipts are approved")
        if doc.status is not DocStatus.POSTED:
            raise InvalidDocument(f"{doc.label} is {doc.status}: only a confirmed (posted) receipt can be approved")
        check_approver(conn, book, user, doc)
    now = datetime.now(UTC)
    changes = [(doc_id, {"status": DocStatus.APPROVED.value, "approved_by": user, "approved_at": now})
               for doc_id in doc_ids]
    update_rows(conn, documents, changes)
    record_many(conn, user, "approve", "document",
                [(doc_id, {"status": DocStatus.POSTED.value}, values) for doc_id, values in changes])
    if book.receipt_clearing == "approved":
        match_at_entry(conn, [d for d in doc_ids if d not in set(without_matching)], user, book)
    return [str(by_id[d].number) for d in doc_ids]


def match_at_entry(conn: Connection, doc_ids: Sequence[int], user: str, book: BookSettings | None = None) -> None:
    """Match receipts that have just started clearing, as the setting match_at_approval says."""
    book = book or read_settings(conn)
    if not doc_ids or book.match_at_approval == "none":
        return
    strategy = "reference" if book.match_at_approval == "reference" else "fifo"
    suggest.apply(conn, suggest.propose(conn, strategy, credit_docs=doc_ids, write_offs=False), user,
                  method="auto")
