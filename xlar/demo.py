"""A demo company: ~50 customers, three months of invoices, receipts, credit notes,
partial payments, a void and an undone match, built through the same services users run."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Connection

from xlar.domain.customers import Customer
from xlar.domain.documents import DocKind, LineInput
from xlar.domain.drafts import DraftDocument
from xlar.domain.errors import XlarError
from xlar.domain.money import round_money
from xlar.domain.periods import period_of
from xlar.domain.terms import PaymentTerms, TermsBasis, add_months
from xlar.reports import ledger as reports
from xlar.reports.render import aging_text
from xlar.services import booking, close, fx, matching, receipts
from xlar.services import documents as docs
from xlar.services import posting as posting_service
from xlar.services.customers import save_customer, save_terms
from xlar.store.engine import Store
from xlar.store.settings import DEFAULTS, write_settings
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import build_template

TERMS = [
    PaymentTerms("NET30", "30 days net 30天", TermsBasis.INVOICE_DATE, 30, 10, Decimal(2)),
    PaymentTerms("NET60", "60 days net 60天", TermsBasis.INVOICE_DATE, 60),
    PaymentTerms("EOM30", "month end + 30 月结30天", TermsBasis.MONTH_END, 30),
    PaymentTerms("EOM60", "month end + 60 月结60天", TermsBasis.MONTH_END, 60),
    PaymentTerms("PROX10", "closing day, due the 10th next month 结账日次月10日", TermsBasis.CLOSING_DATE, 10),
    PaymentTerms("COD", "cash on delivery 货到付款", TermsBasis.INVOICE_DATE, 0),
]
NAMES = ["华东精密机械", "深圳宏达电子", "苏州立信纺织", "北京安和医疗", "上海汇丰五金", "广州南方塑胶",
         "杭州天成包装", "宁波海通物流", "成都蜀光照明", "武汉长江化工", "天津滨海仪表", "重庆山城汽配",
         "青岛海纳食品", "厦门鹭岛贸易", "东莞永盛模具", "无锡新锐电机", "南京金陵建材", "合肥科大讯通",
         "长沙湘江钢构", "西安秦川光电", "郑州中原农机", "济南泉城制药", "福州闽江陶瓷", "昆明滇池花卉",
         "大连星海船舶", "沈阳北方重工", "佛山顺德家电", "温州瓯江鞋业", "常州龙城轴承", "嘉兴南湖丝绸",
         "绍兴越州印染", "台州椒江阀门", "泉州晋江体育", "中山火炬灯饰", "珠海横琴游艇", "惠州大亚湾石化",
         "烟台芝罘葡萄酒", "潍坊风筝文化", "扬州运河漆器", "镇江金山香醋"]
FOREIGN = [("Pacific Rim Traders Inc.", "USD"), ("Lone Star Components LLC", "USD"),
           ("Maple Leaf Supply Ltd.", "USD"), ("Golden Gate Imports", "USD"), ("Hudson Bay Tools", "USD"),
           ("Victoria Harbour Trading 維港貿易", "HKD"), ("Kowloon Electronics 九龍電子", "HKD"),
           ("Rhein Maschinenbau GmbH", "EUR"), ("Lyon Textiles SARL", "EUR"), ("Osaka Seiki K.K. 大阪精機", "JPY")]
ITEMS = [("A-100", "精密轴承 bearing", Decimal("12.50")), ("B-220", "电机 motor", Decimal("860.00")),
         ("C-310", "控制板 control board", Decimal("1240.00")), ("D-405", "包装箱 carton", Decimal("3.65")),
         ("E-512", "传感器 sensor", Decimal("98.40")), ("F-618", "服务费 service", Decimal("500.00"))]
RATES = {"CNY": Decimal(1), "USD": Decimal("7.1284"), "HKD": Decimal("0.91562"),
         "EUR": Decimal("7.7391"), "JPY": Decimal("0.047215")}
SALES = ["王芳", "李强", "张伟", "Chen Li"]


def _rate(currency: str, rng: random.Random) -> Decimal | None:
    if currency == "CNY":
        return None
    drift = Decimal(rng.randint(-150, 150)) / Decimal(10000)
    return (RATES[currency] * (1 + drift)).quantize(Decimal("0.000001"))


def _customers(conn: Connection, rng: random.Random, user: str) -> list[Customer]:
    for terms in TERMS:
        save_terms(conn, terms, user)
    people = [(f"{n}有限公司", "CNY") for n in NAMES] + FOREIGN
    result = []
    for i, (name, currency) in enumerate(people, start=1):
        terms = rng.choice(TERMS)
        limit = Decimal(rng.choice([50_000, 100_000, 200_000, 500_000])) * (1 if currency != "JPY" else 20)
        result.append(Customer(
            code=f"C{i:03d}", name=name, currency=currency, payment_terms=terms.code,
            closing_day=25 if terms.basis is TermsBasis.CLOSING_DATE else None,
            credit_limit=limit, category="export" if currency != "CNY" else "domestic",
            salesperson=rng.choice(SALES), credit_class=rng.choice("ABC")))
        save_customer(conn, result[-1], user)
    return result


def _invoice_lines(rng: random.Random, currency: str) -> tuple[LineInput, ...]:
    factor = Decimal(1) if currency in ("CNY",) else Decimal("0.14")
    if currency == "JPY":
        factor = Decimal(21)
    lines = []
    for _ in range(rng.randint(1, 3)):
        item, desc, price = rng.choice(ITEMS)
        unit = round_money(price * factor, currency)
        rate = Decimal("0.13") if currency == "CNY" and item != "F-618" else (
            Decimal("0.06") if currency == "CNY" else Decimal(0))
        lines.append(LineInput(item, Decimal(rng.choice([1, 2, 5, 10, 24, 50, 120])), unit, rate, desc))
    return tuple(lines)


APPROVER = "wang.fang"
ADMIN = "zhao.min"


def _post(conn: Connection, draft: DraftDocument, user: str) -> int:
    doc_id = docs.create_draft(conn, draft, user)
    posting_service.post(conn, doc_id, user)
    return doc_id


def _history(conn: Connection, rng: random.Random, people: list[Customer], through: date, user: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    start = add_months(through.replace(day=1), -2)
    days = (through - start).days
    for cust in people:
        if rng.random() < 0.2:  # older balances brought over when the book started
            opening_on = start - timedelta(days=1)
            amount = round_money(Decimal(rng.randint(2_000, 80_000)) * (21 if cust.currency == "JPY" else 1), cust.currency)
            _post(conn, DraftDocument(DocKind.OPENING_BALANCE, cust.code, opening_on, amount=amount,
                                           fx_rate=_rate(cust.currency, rng),
                                           due_on=opening_on - timedelta(days=rng.randint(20, 240)),
                                           memo="opening balance 期初余额"), user)
            counts["opening_balance"] += 1
        for _ in range(rng.randint(2, 7)):
            on = start + timedelta(days=rng.randint(0, days))
            _post(conn, DraftDocument(DocKind.INVOICE, cust.code, on, _invoice_lines(rng, cust.currency),
                                           fx_rate=_rate(cust.currency, rng)), user)
            counts["invoice"] += 1
        if rng.random() < 0.15:
            on = start + timedelta(days=rng.randint(days // 2, days))
            credit = _post(conn, DraftDocument(
                DocKind.CREDIT_NOTE, cust.code, on, _invoice_lines(rng, cust.currency)[:1],
                fx_rate=_rate(cust.currency, rng), memo="return 退货"), user)
            matching.match_fifo(conn, credit, user=user)
            counts["credit_note"] += 1
        _receipts(conn, rng, cust, through, user, counts)
    return counts


def _receipts(conn: Connection, rng: random.Random, cust: Customer, through: date,
              user: str, counts: Counter[str]) -> None:
    """Most customers pay what fell due, some late, some in part; a few pay in advance."""
    for row in reports.open_items(conn, cust.code, through):
        if row.open.minor <= 0 or row.kind == "opening_balance" and rng.random() < 0.5:
            continue
        on = row.due_on + timedelta(days=rng.randint(-10, 45))
        luck = rng.random()
        if on > through or luck < 0.15:
            continue  # not paid yet: this is what aging shows as overdue
        amount = row.open.amount if luck > 0.3 else round_money(row.open.amount * Decimal("0.5"), cust.currency)
        receipt = _post(conn, DraftDocument(
            DocKind.RECEIPT, cust.code, max(on, row.doc_on), amount=amount, fx_rate=_rate(cust.currency, rng),
            method=rng.choice(["bank", "bank", "bank", "cash"]), reference=f"{row.number} BANK-{rng.randint(10000, 99999)}"), user)
        counts["receipt"] += 1
        receipts.approve(conn, [receipt], APPROVER)  # matched to the invoice its reference names
    if rng.random() < 0.1:  # an advance receipt (预收款), unapplied until invoiced
        amount = round_money(Decimal(rng.randint(1_000, 20_000)) * (21 if cust.currency == "JPY" else 1), cust.currency)
        advance = _post(conn, DraftDocument(
            DocKind.RECEIPT, cust.code, through - timedelta(days=rng.randint(0, 20)), amount=amount,
            fx_rate=_rate(cust.currency, rng), reference="ADVANCE 预收"), user)
        receipts.approve(conn, [advance], APPROVER)
        counts["receipt"] += 1


def build_demo(directory: Path, through: date, *, user: str, replace: bool = False) -> str:
    """Create DIRECTORY/xlar.db with the demo company; returns a summary and the aging."""
    db = directory / "xlar.db"
    if db.exists():
        if not replace:
            raise XlarError(f"{db} already exists: use another directory or --replace")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        for name in ("AR.xlsx", "AR.xlsx.bak"):
            (directory / name).unlink(missing_ok=True)
    directory.mkdir(parents=True, exist_ok=True)
    store = Store.connect(f"sqlite:///{db.resolve()}")
    store.upgrade()
    with store.write() as conn:
        people, counts = populate(conn, through, user)
    with store.read() as conn:
        report = reports.aging(conn, through)
    workbook = directory / "AR.xlsx"
    build_template(workbook, "zh-CN", {**DEFAULTS, "locale": "zh-CN"})
    synced = sync_workbook(workbook, store, user, as_of=through)
    store.dispose()
    made = ", ".join(f"{n} {kind}s" for kind, n in sorted(counts.items()))
    return (f"demo company in {db} ({len(people)} customers; {made})\n"
            f"store: sqlite:///{db.resolve()}\n"
            f"workbook: {workbook.resolve()} ({synced.summary()})\n\n{aging_text(report)}")


def populate(conn: Connection, through: date, user: str) -> tuple[list[Customer], Counter[str]]:
    """The demo company's three months to THROUGH, in any store: customers, invoices, receipts,
    corrections, the months' FX rates; the two earlier months revalued and closed."""
    rng = random.Random(20260331)
    start = add_months(through.replace(day=1), -2)
    write_settings(conn, {"company": "示例贸易有限公司 Demo Trading Co.", "base_currency": "CNY",
                          "current_period": period_of(start),
                          # the demo's classes warn when a customer goes over its limit, not refuse
                          "credit_warning_classes": "A,B,C",
                          # the demo user enters; receipts are approved by another person; the
                          # controller reopens a closed month and keeps the settings and users
                          "clerks": user, "approvers": APPROVER, "admins": ADMIN}, user)
    people = _customers(conn, rng, user)
    counts = _history(conn, rng, people, through, user)
    _void_and_undo(conn, people, through, user)
    counts["reversal"] += 1
    for month in range(3):
        period = period_of(add_months(start, month))
        for currency, rate in RATES.items():
            if currency != "CNY":
                fx.set_rate(conn, currency, period, _rate(currency, rng) or rate, user)
        if month < 2:
            fx.revalue(conn, period, user)
            result = close.close(conn, period, user, today=through)
            if result.blockers:
                raise XlarError(f"the demo's {period} does not close: {result.blockers[0]}")
            counts["closed month"] += 1
    return people, counts


def _void_and_undo(conn: Connection, people: list[Customer], through: date, user: str) -> None:
    """Show the two corrections accountants make: void a wrong invoice, undo a wrong match."""
    cust = people[0].code
    wrong = _post(conn, DraftDocument(DocKind.INVOICE, cust, through - timedelta(days=3),
                                           (LineInput("A-100", Decimal(40), Decimal("12.50"), Decimal("0.13")),),
                                           memo="entered twice 重复录入"), user)
    booking.void(conn, wrong, through, user, "duplicate of an earlier invoice")
    paid = _post(conn, DraftDocument(DocKind.RECEIPT, cust, through - timedelta(days=1),
                                          amount=Decimal("100.00"), reference="BANK-MISPOSTED"), user)
    receipts.approve(conn, [paid], APPROVER)
    batch = matching.match_fifo(conn, paid, user=user)
    if batch is not None:
        matching.undo(conn, batch, on=through, user=user)
