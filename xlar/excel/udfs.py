"""Worksheet functions: =AR_BALANCE("C001") and friends (xlwings UDFs, Windows Excel).

Read-only and thin: each answers from the snapshot xlar.reports.facts keeps (one statement per
recalculation, whatever the number of cells). A bad argument, an unknown customer or a store
that cannot be read gives a short #XLAR-… code in the cell, never a traceback. Amounts are
in the customer's currency unless IN_CURRENCY is given ("BASE" for the book's base currency,
or a currency code for that currency's items only); a customer with items in several
currencies needs IN_CURRENCY. Off Windows, `xw.func` leaves plain functions, which the tests,
the `formulas` evaluator and the benchmark call directly.

The argument names are the VBA wrappers' parameter names too, shown to the Excel user:
none may be a VBA keyword (`currency` is a VBA type, and the module would not compile;
tests/test_vba_identifiers.py checks every name).

Which store: XLAR_STORE on the calling workbook's `xlar.conf` sheet (relative to its folder),
else XLAR_STORE (environment or xlar config), else xlar.db beside the workbook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
import xlwings as xw

from xlar.domain.aging import AgingPolicy
from xlar.domain.collections import dso
from xlar.domain.errors import XlarError
from xlar.domain.items import OpenItem
from xlar.domain.money import Money, from_minor
from xlar.domain.terms import add_months
from xlar.reports.facts import FACTS, Ledger
from xlar.reports.labels import BUCKET_ZH

F = TypeVar("F", bound=Callable[..., Any])
EXCEL_EPOCH = dt.date(1899, 12, 30)
CATEGORY = "xlar 应收"


class UdfError(Exception):
    """A cell's answer is a #XLAR-… code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def answers(f: F) -> F:
    """Turn every failure into a short code: bad input and unknown names by their own code, a
    store that cannot be read #XLAR-STORE, anything else #XLAR-ERROR."""
    @wraps(f)
    def cell(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except UdfError as exc:
            return exc.code
        except (sa.exc.SQLAlchemyError, XlarError, OSError):
            return "#XLAR-STORE"
        except Exception:  # noqa: BLE001 - a cell shows a code, never a traceback
            return "#XLAR-ERROR"
    return cell  # type: ignore[return-value]  # wraps keeps the function's signature: the wrapper is called as it is


# ---- arguments as Excel passes them -------------------------------------------------------

def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def customer_code(value: object) -> str:
    """A code from a cell: text, or a number typed as a code (1001.0 -> '1001')."""
    if isinstance(value, bool) or _blank(value):
        raise UdfError("#XLAR-ARG")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value).strip()


def day(value: object, default: dt.date | None = None) -> dt.date:
    """A date from a cell: a date, an Excel serial number, or text YYYY-MM-DD; blank -> DEFAULT."""
    if _blank(value):
        if default is None:
            raise UdfError("#XLAR-ARG")
        return default
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise UdfError("#XLAR-DATE")


def whole(value: object, default: int) -> int:
    if _blank(value):
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer() and value > 0:
        return int(value)
    raise UdfError("#XLAR-ARG")


def number(amount: Decimal) -> float:
    """An amount for a cell (an Excel cell holds a double)."""
    return float(amount)


# ---- the store and the snapshot -----------------------------------------------------------

def store_url(caller: Any = None) -> str:
    """Which store the calling workbook uses (see the module doc); worked out once per
    recalculation, as reading the workbook's config sheet or the config file per cell would cost more
    than the cell."""
    book = caller.sheet.book if caller is not None else None
    key = book.fullname if book is not None else ""
    now = FACTS.clock()
    seen = FACTS.urls.get(key)
    url = seen[1] if seen is not None and now - seen[0] < FACTS.idle else _resolve(book)
    FACTS.urls[key] = (now, url)
    return url


def _resolve(book: Any) -> str:
    """workbook.stores.store_url for the calling workbook (an unsaved one: the home folder)."""
    from xlar.excel.live import XlwingsGateway
    from xlar.workbook.stores import store_url as workbook_store_url
    from xlar.workbook.stores import workbook_folder

    if book is None:
        return workbook_store_url(None, None)
    return workbook_store_url(XlwingsGateway(book), workbook_folder(book.fullname))


@dataclass(frozen=True, slots=True)
class View:
    """One customer's items in one currency, as of a date."""

    ledger: Ledger
    currency: str
    items: list[OpenItem]
    base: bool                 # amounts in the base currency

    def amount(self, item: OpenItem) -> Money:
        return item.open_base if self.base else item.open

    def total(self, keep: Callable[[OpenItem], bool] = lambda _: True) -> Decimal:
        """What is open of the items KEEP keeps, in the view's currency (summed in minor units)."""
        return from_minor(sum(self.amount(i).minor for i in self.items if keep(i)), self.currency)


def view(customer: object, as_of: object, currency: object, caller: Any = None) -> View:
    code = customer_code(customer)
    ledger = FACTS.ledger(store_url(caller), day(as_of, dt.date.today()))
    if code not in ledger.currencies:
        raise UdfError("#XLAR-CUSTOMER")
    items = ledger.items.get(code, [])
    wanted = "" if _blank(currency) else str(currency).strip().upper()
    if wanted == "BASE":
        return View(ledger, ledger.base_currency, items, True)
    if not wanted:
        wanted = ledger.currencies[code]
        if any(i.currency != wanted for i in items):
            raise UdfError("#XLAR-CURRENCY")   # items in several currencies: say which
    return View(ledger, wanted, [i for i in items if i.currency == wanted], wanted == ledger.base_currency)


def bucket_label(value: object, policy: AgingPolicy) -> str:
    """A bucket by its label in either language ("31-60", "未到期", "not_due") or its 1-based position."""
    labels = policy.labels
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and 1 <= value <= len(labels):
            return labels[int(value) - 1]
        raise UdfError("#XLAR-BUCKET")
    text = "" if value is None else str(value).strip()
    names = {label.lower(): label for label in labels}
    names |= {BUCKET_ZH[label]: label for label in labels if label in BUCKET_ZH}
    names |= {label.replace("_", " "): label for label in labels}
    found = names.get(text.lower())
    if found is None:
        raise UdfError("#XLAR-BUCKET")
    return found


# ---- the functions ------------------------------------------------------------------------

@xw.func(category=CATEGORY)
@answers
def AR_BALANCE(customer: Any, as_of: Any = None, in_currency: Any = None, caller: Any = None) -> Any:
    """Customer's balance (应收余额) as of a date (blank: today); each customer and currency
    summed once per snapshot, the other cells asking for it answered from the sum."""
    ledger = FACTS.ledger(store_url(caller), day(as_of, dt.date.today()))
    key = (customer.__class__, customer, in_currency.__class__, in_currency)   # True and 1 are equal keys
    try:
        return ledger.balances[key]
    except KeyError:
        found = ledger.balances[key] = number(view(customer, as_of, in_currency, caller).total())
        return found
    except TypeError:   # arguments that are not hashable (a range): no memo
        return number(view(customer, as_of, in_currency, caller).total())


@xw.func(category=CATEGORY)
@answers
def AR_AGING(customer: Any, bucket: Any, as_of: Any = None, in_currency: Any = None, caller: Any = None) -> Any:
    """What a customer owes in one age bucket (账龄区间), e.g. "31-60" or its position 1..n."""
    v = view(customer, as_of, in_currency, caller)
    policy = v.ledger.policy
    label = bucket_label(bucket, policy)
    return number(v.total(lambda i: v.ledger.bucket_of(i, policy) == label))


@xw.func(category=CATEGORY)
@answers
def AR_OVERDUE(customer: Any, as_of: Any = None, in_currency: Any = None, caller: Any = None) -> Any:
    """What is past its due date (逾期金额) as of a date."""
    v = view(customer, as_of, in_currency, caller)
    return number(v.total(lambda i: not i.credit and i.due_on < v.ledger.as_of))


@xw.func(category=CATEGORY)
@answers
def AR_DUE(customer: Any, date_from: Any, date_to: Any, in_currency: Any = None, caller: Any = None) -> Any:
    """What falls due between two dates (到期金额), of what is open today."""
    start, end = day(date_from), day(date_to)
    if end < start:
        raise UdfError("#XLAR-ARG")
    v = view(customer, None, in_currency, caller)
    return number(v.total(lambda i: not i.credit and start <= i.due_on <= end))


@xw.func(category=CATEGORY)
@answers
def AR_CREDIT_AVAILABLE(customer: Any, caller: Any = None) -> Any:
    """Credit limit less exposure (可用额度), in the base currency; blank without a limit."""
    from xlar.services.credit import exposure
    from xlar.store.settings import read_settings

    code = customer_code(customer)
    url = store_url(caller)
    ledger = FACTS.ledger(url, dt.date.today())
    if code not in ledger.currencies:
        raise UdfError("#XLAR-CUSTOMER")
    found = FACTS.derived(url, f"credit {code}", lambda conn: exposure(conn, code, dt.date.today(),
                                                                        read_settings(conn)))
    return "" if found.available is None else number(found.available)


@xw.func(category=CATEGORY)
@answers
def AR_DSO(customer: Any, months: Any = None, caller: Any = None) -> Any:
    """Days sales outstanding (应收账款周转天数) over the last MONTHS (default 3); blank without sales."""
    today = dt.date.today()
    span = whole(months, 3)
    start = add_months(today, -span)
    v = view(customer, today, "BASE", caller)
    sales = FACTS.sales(store_url(caller), today, (today - start).days, v.ledger.base_currency)
    found = dso(v.total(), sales.get(customer_code(customer), Decimal(0)), (today - start).days)
    return "" if found is None else number(found)


OPEN_ITEM_HEADERS = ["Document", "Installment", "Date", "Due date", "Currency", "Open", "Days overdue"]


@xw.func(category=CATEGORY)
@answers
def AR_OPEN_ITEMS(customer: Any, as_of: Any = None, caller: Any = None) -> Any:
    """A customer's open items (未清项), oldest due first: a table that spills."""
    v = view(customer, as_of, "BASE", caller)
    rows: list[list[object]] = [list(OPEN_ITEM_HEADERS)]
    shown = [i for i in v.items if i.open]   # an exchange difference has no open amount of its own
    for i in sorted(shown, key=lambda i: (i.due_on, i.number, i.installment_no)):
        late = (v.ledger.as_of - i.due_on).days if not i.credit else 0
        rows.append([i.number, i.installment_no, i.doc_on, i.due_on, i.currency, number(i.open.amount), max(late, 0)])
    return rows


@xw.func(category=CATEGORY)
@xw.arg("customers", ndim=2)
@answers
def AR_BALANCES(customers: Any, as_of: Any = None, in_currency: Any = None, caller: Any = None) -> Any:
    """Balances of a whole range of customer codes in one call: a same-shaped range back."""
    grid = customers if isinstance(customers, Sequence) and not isinstance(customers, str) else [[customers]]
    grid = [row if isinstance(row, Sequence) and not isinstance(row, str) else [row] for row in grid]
    return [["" if _blank(code) else AR_BALANCE(code, as_of, in_currency, caller) for code in row] for row in grid]


@xw.func(category=CATEGORY)
@answers
def AR_PERIOD(caller: Any = None) -> Any:
    """The book's current (open) period, e.g. 2026-03 (当前会计期间)."""
    return FACTS.ledger(store_url(caller), dt.date.today()).settings.get("current_period") or ""


FUNCTIONS = {f.__name__: f for f in (AR_BALANCE, AR_AGING, AR_OVERDUE, AR_DUE, AR_CREDIT_AVAILABLE, AR_DSO,
                                     AR_OPEN_ITEMS, AR_BALANCES, AR_PERIOD)}
