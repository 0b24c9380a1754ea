"""The collector's day: the worklist as a report frame, and dunning letters (催收函) as PDF and
as .eml files ready to send (the PDF attached), one per customer at its reminder level."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Connection

from xlar.domain.capital import capital_amount
from xlar.domain.collections import DEFAULT_LEVELS, DueItem
from xlar.domain.money import exponent, from_minor
from xlar.reports.accounts import records
from xlar.reports.collection import open_by_due
from xlar.reports.papers import LETTER_LABELS, Letter, LetterItem
from xlar.reports.statements import CURRENCY_WORDS, company_party, parties
from xlar.services.collections import OWED_KINDS, WorkItem, worklist
from xlar.store.settings import read_settings

CHANNEL_ZH = {"email": "邮件", "letter": "函件", "phone": "电话", "wechat": "微信", "visit": "拜访"}


def worklist_frame(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None,
                   locale: str = "zh-CN", history: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer with open items and currency it owes in: level, channel, why, and
    the overdue and disputed amounts as numbers, the currency in its own column (a customer
    owing in two currencies has two rows; one that owes nothing overdue has one, no currency).
    HISTORY: collection.history as of AS_OF for the same customers, when the caller has it."""
    zh = locale == "zh-CN"
    rows = []
    items = None if history is None else due_items(history)
    for w in worklist(conn, as_of, customer, salesperson, locale, items):
        common = {"level": w.level.level if w.level else None,
                  "channel": (CHANNEL_ZH.get(w.level.channel, w.level.channel) if zh else w.level.channel)
                  if w.level else "",
                  "customer": w.customer, "name": w.name, "salesperson": w.salesperson,
                  "credit_class": w.credit_class, "oldest_days": w.oldest_days}
        rest = {"reason": w.reason, "promise": w.promise, "last_contact": w.last_contact,
                "next_action": w.next_action, "contact": w.contact, "phone": w.phone, "email": w.email}
        currencies: list[str | None] = [*sorted(w.overdue.keys() | w.held_disputed.keys())] or [None]
        for currency in currencies:
            rows.append({**common, "currency": currency,
                         "overdue": w.overdue.get(currency) if currency else None,
                         "held_disputed": w.held_disputed.get(currency) if currency else None, **rest})
    return pd.DataFrame(rows, columns=["level", "channel", "customer", "name", "salesperson", "credit_class",
                                       "oldest_days", "currency", "overdue", "held_disputed", "reason", "promise",
                                       "last_contact", "next_action", "contact", "phone", "email"], dtype=object)


def due_items(history: pd.DataFrame) -> dict[str, list[DueItem]]:
    """What `worklist` reads of the book, taken from a history frame: per customer, its open
    items owed and its unmatched credits, by due date."""
    found = open_by_due(history)
    found = found[(found["open_minor"] < 0) | found["kind"].isin(OWED_KINDS)]
    items: dict[str, list[DueItem]] = {}
    for r in records(found, ("customer", "document", "installment", "date", "due", "currency", "open_minor",
                             "disputed")):
        items.setdefault(r.customer, []).append(DueItem(r.document, r.installment, r.date, r.due, r.currency,
                                                        from_minor(int(r.open_minor), r.currency),
                                                        r.disputed == "yes"))
    return items


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(text: str, values: dict[str, str]) -> str:
    """The level's letter with its placeholders ({name}, {amount}, …) filled; every other brace,
    and an unknown placeholder, stays as typed (the text is the user's, never a format string)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def header_text(value: str) -> str:
    """User text for a mail header on one line: line feeds and other control characters
    become one space (a header with a line feed would be refused, or could add headers)."""
    return _BREAKS.sub(" ", value).strip()


def letters(conn: Connection, work: Sequence[WorkItem], as_of: date, locale: str) -> list[Letter]:
    """A letter per customer to contact, in LOCALE, at its level."""
    book = read_settings(conn)
    to_send = [w for w in work if w.level is not None and w.items]
    people = parties(conn, [w.customer for w in to_send])
    labels = LETTER_LABELS[locale]
    zh = locale == "zh-CN"
    result = []
    for w in to_send:
        assert w.level is not None
        default = DEFAULT_LEVELS[min(max(w.level.level, 1), len(DEFAULT_LEVELS)) - 1]
        text = (w.level.letter_zh or default.letter_zh) if zh else (w.level.letter_en or default.letter_en)
        totals: dict[str, Decimal] = {}
        for it in w.items:
            totals[it.currency] = totals.get(it.currency, Decimal(0)) + it.open
        amount_text = "; ".join(f"{amount:,}" for _, amount in sorted(totals.items()))
        body = _fill(text, {"name": w.name, "customer": w.customer, "amount": amount_text,
                            "currency": "/".join(sorted(totals)), "as_of": as_of.isoformat(),
                            "company": book.company, "days": str(w.oldest_days), "level": str(w.level.level)})
        subject = (f"{book.company} 付款提醒（第{w.level.level}级）" if zh else
                   f"{book.company} payment reminder (level {w.level.level})")
        items = tuple(LetterItem(it.document, it.on, it.due_on, max(0, it.days_past_due(as_of)), it.currency, it.open)
                      for it in w.items)
        words = tuple(capital_amount(amount, CURRENCY_WORDS.get(cur, cur)) for cur, amount in sorted(totals.items())
                      if zh and exponent(cur) == 2)
        result.append(Letter(locale, company_party(book), people[w.customer], as_of, w.level.level, w.level.channel,
                             subject, body, items, tuple(sorted(totals.items())), words, labels))
    return result


def eml(letter: Letter, pdf: Path, sender: str) -> bytes:
    """An email ready to send: to the customer's address, the letter as text, the PDF attached."""
    message = EmailMessage()
    message["From"] = header_text(sender)
    message["To"] = header_text(letter.customer.email or "")
    message["Subject"] = header_text(letter.subject)
    message["Date"] = format_datetime(datetime.combine(letter.issued_on, time(9), tzinfo=UTC))
    lines = [_fill(letter.labels["dear"], {"name": letter.customer.name}), "", letter.body, ""]
    lines += [f"{it.document}  {it.due_on}  {it.currency} {it.open:,}" for it in letter.items]
    lines += ["", letter.labels["regards"], letter.company.name]
    message.set_content("\n".join(lines))
    message.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    return bytes(message)
