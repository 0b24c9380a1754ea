"""Collections, pure: reminder levels by credit class, promises to pay, a credit score from
payment history, and when a customer's open item is expected to be paid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

EVERY_CLASS = "*"


@dataclass(frozen=True, slots=True)
class ReminderLevel:
    credit_class: str
    level: int
    days: int            # after the due date; negative = before it
    channel: str         # email, letter, phone, wechat, visit
    letter_zh: str = ""
    letter_en: str = ""


DEFAULT_LEVELS: tuple[ReminderLevel, ...] = (
    ReminderLevel(EVERY_CLASS, 1, -3, "email",
                  "您好！贵司以下款项将于近日到期，共计 {currency} {amount}，请安排按期付款。如已付款，请忽略本函。",
                  "This is a friendly reminder that {currency} {amount} falls due shortly. Please arrange "
                  "payment on time; if you have already paid, please disregard this note."),
    ReminderLevel(EVERY_CLASS, 2, 7, "email",
                  "截至 {as_of}，贵司以下款项已逾期 {days} 天，共计 {currency} {amount}。请尽快安排付款，并告知预计付款日期。",
                  "As of {as_of}, {currency} {amount} is {days} days overdue. Please arrange payment promptly "
                  "and let us know when to expect it."),
    ReminderLevel(EVERY_CLASS, 3, 30, "phone",
                  "截至 {as_of}，贵司以下款项已逾期 {days} 天，共计 {currency} {amount}。请于七日内付清；如有异议，请即与我司联系。",
                  "As of {as_of}, {currency} {amount} is {days} days overdue. Please pay within seven days; if "
                  "you dispute any item, contact us at once."),
    ReminderLevel(EVERY_CLASS, 4, 60, "letter",
                  "最后通知：截至 {as_of}，贵司以下款项已逾期 {days} 天，共计 {currency} {amount}。如十日内仍未付款，"
                  "我司将暂停发货并保留通过法律途径追收的权利。",
                  "Final notice: as of {as_of}, {currency} {amount} is {days} days overdue. Unless it is paid "
                  "within ten days we will suspend deliveries and reserve the right to recover it by legal means."),
)


def levels_for(levels: Sequence[ReminderLevel], credit_class: str | None) -> list[ReminderLevel]:
    """The levels that apply to a customer of CREDIT_CLASS: its class's own, else the '*' ones,
    else the defaults; ordered by level."""
    own = [lv for lv in levels if credit_class and lv.credit_class == credit_class]
    chosen = own or [lv for lv in levels if lv.credit_class == EVERY_CLASS] or list(DEFAULT_LEVELS)
    return sorted(chosen, key=lambda lv: lv.level)


def level_reached(levels: Sequence[ReminderLevel], days_past_due: int) -> ReminderLevel | None:
    """The highest level whose day has come for an item DAYS_PAST_DUE after its due date
    (negative: before it)."""
    reached = [lv for lv in levels if days_past_due >= lv.days]
    return max(reached, key=lambda lv: lv.level) if reached else None


def next_level(levels: Sequence[ReminderLevel], current: ReminderLevel | None) -> ReminderLevel | None:
    """One level up (a broken promise escalates); the top level stays the top."""
    ordered = sorted(levels, key=lambda lv: lv.level)
    if not ordered:
        return current
    if current is None:
        return ordered[0]
    higher = [lv for lv in ordered if lv.level > current.level]
    return higher[0] if higher else current


@dataclass(frozen=True, slots=True)
class Promise:
    made_on: date
    promise_on: date
    amount: Decimal | None


def promise_state(promise: Promise | None, received_since: Decimal, as_of: date) -> str | None:
    """'pending' until the promised date, then 'kept' when what came in since it was made covers
    the promised amount (any payment when no amount was promised), else 'broken'."""
    if promise is None:
        return None
    paid_enough = received_since >= promise.amount if promise.amount is not None else received_since > 0
    if paid_enough:
        return "kept"
    return "pending" if as_of <= promise.promise_on else "broken"


STATE_ZH = {"pending": "待履行", "kept": "已履行", "broken": "未履行"}


@dataclass(frozen=True, slots=True)
class DueItem:
    """An open item as a collector reads it: what is owed of a document, or a credit not yet matched."""

    document: str
    installment: int
    on: date
    due_on: date
    currency: str
    open: Decimal               # negative: a receipt or credit note not yet matched
    disputed: bool

    def days_past_due(self, as_of: date) -> int:
        return (as_of - self.due_on).days


@dataclass(frozen=True, slots=True)
class Dunning:
    """What to do about one customer today, and why (see `dun`)."""

    level: ReminderLevel | None        # the reminder to send today; None: none
    reached: ReminderLevel | None      # the level its oldest item reached (a broken promise: one up)
    oldest: int | None                 # days past due of its oldest undisputed item (None: all disputed)
    overdue: dict[str, Decimal]        # currency -> overdue, disputed items left out
    held: dict[str, Decimal]           # currency -> disputed and overdue (held out)
    unapplied: dict[str, Decimal]      # currency -> receipts and credits not yet matched (negative)
    covered: bool                      # those cover everything overdue: match them first
    promise: Promise | None
    state: str | None                  # the promise's: pending, kept, broken
    letter: list[DueItem]              # what the letter lists

    def reason(self, zh: bool) -> str:
        """Why, in the book's language."""
        if self.covered:
            total = ", ".join(f"{cur} {-amount:,}" for cur, amount in sorted(self.unapplied.items()))
            return (f"未核销收款 {total} 足以冲抵逾期款项：请先核销" if zh else
                    f"unapplied receipts and credits of {total} cover what is overdue: match them first")
        if self.promise is not None and self.state == "pending" and self.reached is not None:
            return (f"已承诺 {self.promise.promise_on} 前付款：暂缓催收" if zh else
                    f"promised to pay by {self.promise.promise_on}: held until then")
        text = _standing(self.reached, self.oldest, self.overdue, self.held, zh)
        if self.promise is not None and self.state == "broken":
            return (f"未履行 {self.promise.promise_on} 的付款承诺，升级；" if zh else
                    f"promise of {self.promise.promise_on} broken, escalated; ") + text
        return text

    def promise_text(self, zh: bool) -> str:
        """'' or 'pending 2026-11-30 5,000.00' (in Chinese: '待履行 …')."""
        if self.promise is None or self.state is None:
            return ""
        return (f"{STATE_ZH[self.state] if zh else self.state} {self.promise.promise_on}"
                + ("" if self.promise.amount is None else f" {self.promise.amount:,}"))


def dun(items: Sequence[DueItem], levels: Sequence[ReminderLevel], promise: Promise | None,
        received_since: Decimal, as_of: date) -> Dunning | None:
    """A customer's reminder today from its open ITEMS (None when it owes nothing): the level
    its oldest undisputed item reached among LEVELS, one up when a promise was broken; none
    while a promise is pending, or when its unmatched credits cover everything overdue."""
    credits = [it for it in items if it.open < 0]
    owed = [it for it in items if it.open > 0]
    if not owed:
        return None
    live = [it for it in owed if not it.disputed]
    oldest = max((it.days_past_due(as_of) for it in live), default=None)
    reached = None if oldest is None else level_reached(levels, oldest)
    overdue: dict[str, Decimal] = {}
    held: dict[str, Decimal] = {}
    for it in owed:
        if it.days_past_due(as_of) > 0:
            bucket = held if it.disputed else overdue
            bucket[it.currency] = bucket.get(it.currency, Decimal(0)) + it.open
    unapplied: dict[str, Decimal] = {}
    for it in credits:
        unapplied[it.currency] = unapplied.get(it.currency, Decimal(0)) + it.open
    covered = bool(overdue) and all(amount + unapplied.get(cur, Decimal(0)) <= 0 for cur, amount in overdue.items())
    state = promise_state(promise, received_since, as_of)
    if state == "broken" and promise is not None:
        reached = next_level(levels, reached)
    held_by_promise = state == "pending" and reached is not None and promise is not None
    level = None if covered or held_by_promise else reached
    letter = [it for it in live if level is not None and it.days_past_due(as_of) >= min(0, level.days)]
    if letter:   # what the customer paid and we have not matched yet is deducted on the letter
        letter += [it for it in credits if it.currency in {x.currency for x in letter}]
    return Dunning(level, reached, oldest, overdue, held, unapplied, covered, promise, state, letter)


def _standing(level: ReminderLevel | None, oldest: int | None, overdue: dict[str, Decimal],
              held: dict[str, Decimal], zh: bool) -> str:
    total = ", ".join(f"{cur} {amount:,}" for cur, amount in sorted(overdue.items()))
    held_total = ", ".join(f"{cur} {amount:,}" for cur, amount in sorted(held.items()))
    if oldest is None:
        text = "未结款项均有争议：暂缓" if zh else "every open item is disputed: held"
    elif level is None:
        text = ("尚未到期" if zh else "nothing due yet") if oldest < 0 else (
            f"逾期 {oldest} 天，未到第一级" if zh else f"{oldest} days overdue, below the first level")
    elif oldest <= 0:
        text = (f"{-oldest} 天后到期：到期前提醒" if zh else f"due in {-oldest} days: reminder before the due date") \
            if oldest else ("今日到期：提醒" if zh else "due today: reminder")
    else:
        text = (f"逾期 {oldest} 天（{total}）：第 {level.level} 级" if zh else
                f"{oldest} days overdue ({total}): level {level.level} by {level.channel}")
    if held:
        text += f"；争议暂缓 {held_total}" if zh else f"; disputed and held: {held_total}"
    return text


def expected_on(due_on: date, set_by_user: date | None, average_days_late: Decimal, as_of: date) -> date:
    """When an open item is expected to be paid: the date the user typed, else the due date plus
    the customer's own average lateness; never before AS_OF (what is late is expected now)."""
    if set_by_user is not None and set_by_user != due_on:
        return max(set_by_user, as_of)
    late = int(average_days_late.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(due_on + timedelta(days=late), as_of)


@dataclass(frozen=True, slots=True)
class PaymentHabits:
    """A customer's payment history over the look-back window."""

    settled: int                     # invoices settled in the window
    avg_days_late: Decimal
    on_time_share: Decimal           # 0..1
    max_days_overdue: int            # the worst: settled late, or open and overdue now
    trend: Decimal                   # avg days late, recent quarter minus the window before (+: worse)
    dso: Decimal | None
    monthly_sales: Decimal           # average invoiced per month in the window
    terms_days: int


@dataclass(frozen=True, slots=True)
class Score:
    score: int                       # 0..100
    credit_class: str                # A (best) .. D
    limit: Decimal | None            # suggested credit limit


CLASS_FLOORS = (("A", 80), ("B", 60), ("C", 40), ("D", 0))
CLASS_MONTHS = {"A": Decimal("1.5"), "B": Decimal("1.2"), "C": Decimal(1), "D": Decimal("0.5")}


def credit_score(h: PaymentHabits) -> Score | None:
    """100 less points for lateness (2 a day on average, at most 40), for paying late at all
    (30 × the share paid late), for the worst case (0.3 a day, at most 20), for getting worse
    (1 a day of trend, at most 10) and for a DSO beyond terms (0.25 a day, at most 10). The class
    follows the score (A ≥ 80, B ≥ 60, C ≥ 40, else D); the suggested limit covers the months
    of sales the customer takes to pay (terms plus its lateness) times a factor of its class
    (A 1.5, B 1.2, C 1, D 0.5), rounded up to a thousand. None without history."""
    if h.settled == 0:
        return None
    points = Decimal(100)
    points -= min(h.avg_days_late * 2, Decimal(40))
    points -= (1 - h.on_time_share) * 30
    points -= min(Decimal(h.max_days_overdue) * Decimal("0.3"), Decimal(20))
    points -= min(max(h.trend, Decimal(0)), Decimal(10))
    if h.dso is not None and h.dso > h.terms_days:
        points -= min((h.dso - h.terms_days) * Decimal("0.25"), Decimal(10))
    score = max(0, min(100, int(points.quantize(Decimal(1), rounding=ROUND_HALF_UP))))
    klass = next(name for name, floor in CLASS_FLOORS if score >= floor)
    months = (Decimal(h.terms_days) + h.avg_days_late) / 30
    raw = h.monthly_sales * months * CLASS_MONTHS[klass]
    limit = (raw / 1000).quantize(Decimal(1), rounding=ROUND_CEILING) * 1000 if raw > 0 else None
    return Score(score, klass, limit)


def dso(balance: Decimal, sales: Decimal, days: int) -> Decimal | None:
    """Days sales outstanding: the balance over the sales of the last DAYS, times DAYS (one
    decimal); None without sales."""
    if sales <= 0:
        return None
    return (balance / sales * days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
