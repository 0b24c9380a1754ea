"""The figures of the Dashboard (仪表板): receivable, overdue, DSO, allowance and expected
receipts as of a date, the aging by bucket, the DSO of the last twelve month ends, the weekly
forecast and the customers most overdue; all in base currency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.engine import Connection

from xlar.domain.aging import NOT_DUE, UNAPPLIED, AgingPolicy, Basis
from xlar.domain.collections import dso
from xlar.domain.money import from_minor
from xlar.domain.periods import last_day, period_of, previous_period
from xlar.reports.collection import _owed, forecast_detail, history
from xlar.reports.dashboard import DashboardData, Kpi
from xlar.reports.labels import bucket_text
from xlar.reports.ledger import aging
from xlar.reports.receivables import allowance_of, allowance_rates
from xlar.store.settings import read_settings

TITLES = {
    "zh-CN": {"sheet": "仪表板", "data_sheet": "仪表板数据", "title": "应收账款仪表板", "aging": "账龄分布",
              "dso": "应收周转天数（DSO）趋势", "forecast": "未来13周预计回款", "top": "逾期金额前十客户",
              "amount": "金额", "days": "天数", "week": "周起始日", "customer": "客户", "bucket": "账龄区间",
              "period": "月份", "as_of": "截至"},
    "en": {"sheet": "Dashboard", "data_sheet": "Dashboard data", "title": "Receivables dashboard",
           "aging": "Aging by bucket", "dso": "DSO trend", "forecast": "Expected receipts, next 13 weeks",
           "top": "Top 10 overdue customers", "amount": "Amount", "days": "Days", "week": "Week of",
           "customer": "Customer", "bucket": "Bucket", "period": "Month", "as_of": "As of"},
}
KPI_LABELS = {
    "zh-CN": ("应收余额", "逾期金额", "逾期占比", "应收周转天数", "坏账准备", "未来30天预计回款"),
    "en": ("Receivable", "Overdue", "Overdue share", "DSO (90 days)", "Bad-debt allowance", "Expected in 30 days"),
}
DSO_DAYS = 90


def dashboard_data(conn: Connection, as_of: date, locale: str) -> DashboardData:
    book = read_settings(conn)
    base = book.base_currency
    report = aging(conn, as_of)
    balance, buckets = report.total_base
    allowance = sum(allowance_of(report, allowance_rates(book, report.policy)).values(), Decimal(0))
    by_due = report if report.policy.basis is Basis.DUE else \
        aging(conn, as_of, AgingPolicy(Basis.DUE, book.aging.edges))          # overdue means past the due date
    overdue = sum((v for k, v in by_due.total_base[1].items() if k not in (NOT_DUE, UNAPPLIED)), Decimal(0))
    found = history(conn, as_of)
    trend = tuple((period, value) for period, value in _dso_trend(found, as_of, base) if value is not None)
    detail = forecast_detail(conn, as_of, found=found)
    dated = detail[detail["expected"].notna()]
    horizon = as_of + timedelta(days=30)
    soon = sum((v for v, on in zip(dated["base_open"].tolist(), dated["expected"].tolist(), strict=True)
                if on <= horizon), Decimal(0))
    first_week = as_of - timedelta(days=as_of.weekday())
    weeks = [first_week + timedelta(weeks=i) for i in range(13)]
    expected: dict[date, Decimal] = {}
    for v, w in zip(dated["base_open"].tolist(), dated["week"].tolist(), strict=True):
        expected[w] = expected.get(w, Decimal(0)) + v
    forecast = tuple((week, expected.get(week, Decimal(0))) for week in weeks)
    top = _top_overdue(by_due, as_of)
    labels = KPI_LABELS[locale]
    share = (overdue * 100 / balance).quantize(Decimal("0.1"), ROUND_HALF_UP) if balance > 0 else Decimal(0)
    current_dso = trend[-1][1] if trend and trend[-1][0] == period_of(as_of) else Decimal(0)
    kpis = (Kpi(labels[0], balance, "#,##0.00"), Kpi(labels[1], overdue, "#,##0.00"),
            Kpi(labels[2], share / 100, "0.0%"), Kpi(labels[3], current_dso, "0.0"),
            Kpi(labels[4], allowance, "#,##0.00"), Kpi(labels[5], soon, "#,##0.00"))
    return DashboardData(locale, book.company, as_of, base, kpis,
                         tuple((bucket_text(k, locale), v) for k, v in buckets.items()), trend, forecast, top,
                         TITLES[locale])


def _dso_trend(found, as_of: date, base: str) -> list[tuple[str, Decimal | None]]:  # type: ignore[no-untyped-def]  # FOUND is a pandas frame: pandas has no stubs here
    """The company's DSO at the last twelve month ends (the last one: AS_OF), at booked rates."""
    owed = _owed(found)
    ends, period = [], period_of(as_of)
    for _ in range(12):
        ends.append(min(last_day(period), as_of))
        period = previous_period(period)
    trend = []
    dated, amounts = found["date"].to_numpy(), found["base_amount_minor"].to_numpy()   # two columns, not
    owed_on, owed_amounts = owed["date"].to_numpy(), owed["base_amount_minor"].to_numpy()  # the frames
    for end in sorted(ends):
        balance = from_minor(int(amounts[dated <= end].sum()), base)
        window = owed_amounts[(owed_on <= end) & (owed_on > end - timedelta(days=DSO_DAYS))]
        trend.append((period_of(end), dso(balance, from_minor(int(window.sum()), base), DSO_DAYS)))
    return trend


def _top_overdue(report, as_of: date) -> tuple[tuple[str, Decimal], ...]:  # type: ignore[no-untyped-def]  # REPORT is the aging report's frame-backed rows: pandas has no stubs here
    per: dict[str, Decimal] = {}
    for r in report.rows:
        late = sum((v for k, v in r.base_buckets.items() if k not in (NOT_DUE, UNAPPLIED)), Decimal(0))
        if late > 0:
            key = f"{r.customer} {r.name}"
            per[key] = per.get(key, Decimal(0)) + late
    return tuple(sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
