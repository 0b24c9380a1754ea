"""Settings of the book: stored as key/value text, read as typed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.aging import AgingPolicy
from xlar.domain.documents import Accounts
from xlar.domain.errors import InvalidSetting, NotAllowed
from xlar.domain.money import exponent
from xlar.domain.periods import parse_period
from xlar.store import roles
from xlar.store.audit import SETTING_ENTITY, record
from xlar.store.tables import documents, journal_lines
from xlar.store.tables import settings as settings_table

DEFAULTS: dict[str, str] = {
    "company": "",
    "base_currency": "CNY",
    "current_period": "",
    "closed_period": "",
    "locale": "zh-CN",
    "aging_basis": "due",
    "aging_buckets": "30,60,90,120,180",
    "match_mode": "document",
    "revenue_recognition": "invoice",
    "delivery_difference": "reverse",
    "tax_rate": "13",
    "account_receivable": "1122",
    "account_revenue": "6001",
    "account_output_vat": "222101",
    "account_bank": "1002",
    "account_cash": "1001",
    "account_opening": "9999",
    "account_unbilled": "112299",
    "account_vat_unbilled": "222102",
    "account_advances": "2203",
    "account_notes": "1121",
    "account_payable": "2202",
    "account_fx_gain": "6603",
    "account_fx_loss": "6603",
    "account_write_off": "6711",
    "credit_warning_classes": "",
    "approvers": "",
    "admins": "",
    "receipt_clearing": "approved",
    "match_at_approval": "reference",
    "write_off_tolerance": "0",
    "write_off_reasons": "ROUNDING,BANK_FEE,DISCOUNT,SHORT_PAYMENT",
    "bank_auto_confidence": "80",
    "bad_debt_allowance": "0,1,5,10,30,50,100",
    "company_address": "",
    "company_phone": "",
    "company_email": "",
    "company_tax_id": "",
    "clerks": "",
    "authentication": "claimed",
}
CHOICES: dict[str, tuple[str, ...]] = {
    "match_mode": ("document", "product"),
    "revenue_recognition": ("invoice", "delivery"),
    "delivery_difference": ("reverse", "difference"),
    "locale": ("zh-CN", "en"),
    "receipt_clearing": ("approved", "confirmed"),
    "match_at_approval": ("reference", "fifo", "none"),
    "authentication": ("claimed", "database"),
}


def _names(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.replace("，", ",").split(",") if part.strip())


def _amount(key: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip() or "0")
    except InvalidOperation:
        raise InvalidSetting(f"setting {key} must be an amount, not {text!r}") from None
    if not value.is_finite() or value < 0:
        raise InvalidSetting(f"setting {key} must be an amount of 0 or more, not {text!r}")
    return value


def _percentages(key: str, text: str) -> tuple[Decimal, ...]:
    values = tuple(_amount(key, part) for part in text.replace("，", ",").replace("%", "").split(",") if part.strip())
    if any(v > 100 for v in values):
        raise InvalidSetting(f"setting {key} holds percentages from 0 to 100, not {text!r}")
    return values


def _percent(key: str, text: str) -> Decimal:
    value = _amount(key, text.replace("%", ""))
    if value >= 100:
        raise InvalidSetting(f"setting {key} is a percentage from 0 to below 100, not {text!r}")
    return value


def _number(key: str, text: str, low: int, high: int) -> int:
    if not text.strip().isdigit() or not low <= int(text) <= high:
        raise InvalidSetting(f"setting {key} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class BookSettings:
    company: str
    base_currency: str
    current_period: str | None
    closed_period: str | None
    aging: AgingPolicy
    accounts: Accounts
    revenue_recognition: str = "invoice"
    delivery_difference: str = "reverse"
    credit_warning_classes: frozenset[str] = frozenset()
    clerks: frozenset[str] = frozenset()    # enter and sync (see store.roles)
    approvers: frozenset[str] = frozenset()  # approve receipts, override credit, write off beyond tolerance
    admins: frozenset[str] = frozenset()    # reopen closed months, change settings and users
    authentication: str = "claimed"         # database: the acting user is the PostgreSQL login
    match_mode: str = "document"            # product: matches pay invoice lines item by item
    receipt_clearing: str = "approved"      # which receipts clear invoices: approved, or confirmed too
                                            # (confirmed while the book names no users at all)
    match_at_approval: str = "reference"    # what a receipt is matched to when it starts clearing
    write_off_tolerance: Decimal = Decimal(0)  # in the document's currency
    write_off_reasons: tuple[str, ...] = ()
    bank_auto_confidence: int = 80          # bank lines this sure become draft receipts
    bad_debt_allowance: tuple[Decimal, ...] = ()  # percent per age bucket, youngest first
    company_address: str = ""
    company_phone: str = ""
    company_email: str = ""
    company_tax_id: str = ""
    locale: str = "zh-CN"
    tax_rate: Decimal = Decimal("0.13")     # an invoice typed by its net alone: its tax rate (a fraction)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> BookSettings:
        merged = {**DEFAULTS, **values}
        return cls(
            company=merged["company"],
            base_currency=merged["base_currency"],
            current_period=merged["current_period"] or None,
            closed_period=merged["closed_period"] or None,
            aging=AgingPolicy.parse(merged["aging_basis"], merged["aging_buckets"]),
            accounts=Accounts(
                receivable=merged["account_receivable"],
                revenue=merged["account_revenue"],
                output_vat=merged["account_output_vat"],
                bank=merged["account_bank"],
                cash=merged["account_cash"],
                opening=merged["account_opening"],
                unbilled=merged["account_unbilled"],
                vat_unbilled=merged["account_vat_unbilled"],
                advances=merged["account_advances"],
                notes=merged["account_notes"],
                payable=merged["account_payable"],
                fx_gain=merged["account_fx_gain"],
                fx_loss=merged["account_fx_loss"],
                write_off=merged["account_write_off"],
            ),
            revenue_recognition=merged["revenue_recognition"],
            delivery_difference=merged["delivery_difference"],
            credit_warning_classes=_names(merged["credit_warning_classes"]),
            clerks=_names(merged["clerks"]),
            approvers=_names(merged["approvers"]),
            admins=_names(merged["admins"]),
            authentication=merged["authentication"],
            match_mode=merged["match_mode"],
            # a book that names no users at all is kept by one person: nobody could approve a
            # receipt, so confirmed receipts clear; naming the first approver switches approval on
            receipt_clearing=merged["receipt_clearing"] if any(_names(merged[k]) for k in ("clerks", "approvers", "admins"))
            else "confirmed",
            match_at_approval=merged["match_at_approval"],
            write_off_tolerance=_amount("write_off_tolerance", merged["write_off_tolerance"]),
            write_off_reasons=tuple(sorted(_names(merged["write_off_reasons"]))),
            bank_auto_confidence=_number("bank_auto_confidence", merged["bank_auto_confidence"], 0, 100),
            bad_debt_allowance=_percentages("bad_debt_allowance", merged["bad_debt_allowance"]),
            company_address=merged["company_address"], company_phone=merged["company_phone"],
            company_email=merged["company_email"], company_tax_id=merged["company_tax_id"],
            locale=merged["locale"],
            tax_rate=_percent("tax_rate", merged["tax_rate"]) / 100,
        )

    def allowance_rates(self) -> dict[str, Decimal]:
        """Bad-debt allowance percent per age bucket, youngest first: with fewer percentages
        than buckets the last goes on for the older ones; with more, the oldest bucket takes
        the last (so the oldest debts keep the highest rate whatever the bucket edges)."""
        labels = self.aging.age_labels
        given = self.bad_debt_allowance or (Decimal(0),)
        if len(given) > len(labels):
            given = (*given[:len(labels) - 1], given[-1])
        return {label: given[min(i, len(given) - 1)] for i, label in enumerate(labels)}

    def may_approve(self, user: str) -> bool:
        return user in self.approvers

    def may_administer(self, user: str) -> bool:
        return user in self.admins


def validate(key: str, value: str) -> None:
    """Refuse unknown keys and values the book could not work with."""
    if key not in DEFAULTS:
        raise InvalidSetting(f"unknown setting {key!r}")
    if key == "base_currency":
        exponent(value)
    elif key in ("current_period", "closed_period") and value:
        parse_period(value)
    elif key in CHOICES and value not in CHOICES[key]:
        raise InvalidSetting(f"setting {key} must be one of {', '.join(CHOICES[key])}, not {value!r}")
    BookSettings.from_mapping({key: value})


def read_settings(conn: Connection) -> BookSettings:
    rows = conn.execute(sa.select(settings_table.c.key, settings_table.c.value))
    return BookSettings.from_mapping({key: value for key, value in rows})


# Settings that loosen a control: until the book has admins, once it has approvers only they
# change these (once it has admins, admins change every setting: store.roles).
CONTROLS = frozenset({"clerks", "approvers", "receipt_clearing", "write_off_tolerance", "write_off_reasons",
                      "credit_warning_classes", "authentication"})
# The periods move only by closing and reopening a month (services/close.py), the current
# period is set freely until the first close.
PERIOD_KEYS = ("closed_period", "current_period")


def set_periods(conn: Connection, *, closed: str, current_period: str, user: str) -> None:
    """Move the closed and current periods (the close service's: see PERIOD_KEYS)."""
    current = dict(conn.execute(sa.select(settings_table.c.key, settings_table.c.value)
                                .where(settings_table.c.key.in_(PERIOD_KEYS))).all())
    _put(conn, current, {"closed_period": closed, "current_period": current_period}, user)


def write_settings(conn: Connection, values: Mapping[str, str], user: str) -> None:
    """Set several settings at once (validated first, audited one by one)."""
    for key, value in values.items():
        validate(key, value)
    current = dict(conn.execute(sa.select(settings_table.c.key, settings_table.c.value)).all())
    changed = {k for k, v in values.items() if current.get(k, DEFAULTS[k]) != v}
    if "account_receivable" in changed and conn.execute(sa.select(journal_lines.c.id).where(
            journal_lines.c.account == current.get("account_receivable", DEFAULTS["account_receivable"]))
            .limit(1)).first() is not None:
        raise InvalidSetting("account_receivable cannot change once documents are posted on it: the general "
                             "ledger would split the receivables")
    if "closed_period" in changed or "current_period" in changed and current.get("closed_period"):
        raise NotAllowed("the closed and current periods move only by closing a month (xlar close) or "
                         "reopening it (xlar close --reopen)")
    base = values.get("base_currency")
    if base is not None and base != current.get("base_currency", DEFAULTS["base_currency"]) and \
            conn.execute(sa.select(documents.c.id).limit(1)).first() is not None:
        raise InvalidSetting(f"the base currency cannot change to {base} once documents exist")
    if changed:
        book = BookSettings.from_mapping(current)
        if book.authentication == "database" or values.get("authentication") == "database":
            roles.authenticate(conn, user)   # the same login check every other change passes
        check_settings_change(book, user, changed)
    _put(conn, current, values, user)


def check_settings_change(book: BookSettings, user: str, changed: set[str]) -> None:
    """Refuse unless USER may change the settings CHANGED: once the book has admins, only an
    admin changes settings and users; before that, approvers guard the CONTROLS and name the
    first admins; and a book with users at all hears no one else."""
    users = roles.roster(book)
    if users and user not in users:
        raise NotAllowed(roles.stranger(user, users))
    keys = ", ".join(sorted(changed))
    if book.admins:
        if user not in book.admins:
            raise NotAllowed(f"{user} cannot change {keys}: settings and users are changed by an admin "
                             f"({', '.join(sorted(book.admins))})")
        return
    guarded = sorted(changed & (CONTROLS | {"admins"}))
    if guarded and book.approvers and user not in book.approvers:
        raise NotAllowed(f"{user} cannot change {', '.join(guarded)}: these settings are changed by an approver "
                         f"({', '.join(sorted(book.approvers))}) until the book has an admin")


def _put(conn: Connection, current: Mapping[str, str], values: Mapping[str, str], user: str) -> None:
    """Store VALUES over CURRENT (the stored ones), auditing each change."""
    for key, value in values.items():
        if current.get(key) == value:
            continue
        if key in current:
            conn.execute(settings_table.update().where(settings_table.c.key == key).values(value=value))
        else:
            conn.execute(settings_table.insert().values(key=key, value=value))
        record(conn, user, "set", SETTING_ENTITY, key,
               None if key not in current else {"value": current[key]}, {"value": value})
    roles.forget(conn)
