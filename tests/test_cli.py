"""The xlar command as a user types it, on SQLite and PostgreSQL."""

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from tests.render import to_pdf
from tests.sheets import read
from xlar.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_demo_then_aging_json_adds_up(runner, tmp_path):
    result = run(runner, "--user", "demo", "demo", tmp_path / "d", "--through", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "50 customers" in result.output and "TOTAL (CNY)" in result.output
    url = f"sqlite:///{tmp_path / 'd' / 'xlar.db'}"
    assert url in result.output
    out = run(runner, "--store", url, "report", "aging", "--as-of", "2026-11-20", "--format", "json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert set(report) >= {"as_of", "basis", "rows", "total"}
    assert report["as_of"] == "2026-11-20" and report["basis"] == "due"
    assert len(report["rows"]) >= 45
    for row in report["rows"]:
        assert sum(Decimal(v) for v in row["buckets"].values()) == Decimal(row["balance"])
        assert sum(Decimal(v) for v in row["base_buckets"].values()) == Decimal(row["base_balance"])
        assert all(isinstance(v, str) for v in row["buckets"].values())
    total = report["total"]
    assert sum(Decimal(v) for v in total["buckets"].values()) == Decimal(total["balance"])
    assert sum(Decimal(r["base_balance"]) for r in report["rows"]) == Decimal(total["balance"])
    assert any(Decimal(r["buckets"]["unapplied"]) < 0 for r in report["rows"])
    assert any(r["currency"] == "JPY" for r in report["rows"])
    # the demo workbook is synced: every posted invoice is on its sheet, and LibreOffice opens it
    workbook = tmp_path / "d" / "AR.xlsx"
    invoices = read(workbook, "发票")
    assert len(invoices) >= 150 and all(r["状态"] in ("已审核", "作废") for r in invoices)
    aging = read(workbook, "账龄")
    assert aging[-1]["余额 (CNY)"] == pytest.approx(float(total["balance"]))
    assert sum(r["余额 (CNY)"] for r in aging[:-1]) == pytest.approx(aging[-1]["余额 (CNY)"])   # they add up
    pdf = to_pdf(workbook, tmp_path)
    assert pdf.stat().st_size > 20_000
    again = run(runner, "demo", tmp_path / "d")
    assert again.exit_code == 1 and "--replace" in again.output


def test_init_balance_and_report_on_each_backend(runner, backend):
    url = backend.url()
    assert run(runner, "--store", url, "init", "--company", "ACME", "--period", "2026-03").exit_code == 0
    assert "up to date" in run(runner, "--store", url, "init").output
    from datetime import date

    from tests.books import customer, invoice, line
    from xlar.store.engine import Store

    store = Store.open(url)
    with store.write() as conn:
        customer(conn, "C1")
        invoice(conn, "C1", date(2026, 3, 1), line("2", "50", "0.13"), due=date(2026, 3, 31))
    store.dispose()
    out = run(runner, "--store", url, "balance", "C1", "--as-of", "2026-03-31")
    assert out.output.strip() == "C1: 113.00 CNY as of 2026-03-31"
    assert "C1: 0.00 CNY as of 2026-02-28" in run(runner, "--store", url, "balance", "C1", "--as-of", "2026-02-28").output
    csv = run(runner, "--store", url, "report", "aging", "--as-of", "2026-05-15", "--buckets", "30,60",
              "--format", "csv").output.splitlines()
    assert csv[0] == "customer,name,currency,not_due,1-30,31-60,61+,unapplied,balance," \
                     "base_not_due,base_1-30,base_31-60,base_61+,base_unapplied,base_balance"
    assert csv[1].startswith("C1,C1 Ltd.,CNY,0.00,0.00,113.00,0.00,0.00,113.00")
    table = run(runner, "--store", url, "report", "aging", "--as-of", "2026-05-15", "--basis", "document",
                "--locale", "en").output
    assert "61-90 days" in table and "\nTotal " in table and "Allowance %" in table
    assert "61-90天" in run(runner, "--store", url, "report", "aging", "--as-of", "2026-05-15", "--basis",
                            "document").output          # the book's locale: zh-CN


@pytest.mark.parametrize("args, message, code", [
    (["balance", "NOPE"], "error: XLAR-E010 unknown customer 'NOPE'", 1),
    (["report", "aging", "--buckets", "30,x"], "XLAR-E005 aging buckets must be whole days", 2),
    (["report", "aging", "--buckets", "60,30"], "XLAR-E005 aging bucket edges must be positive and increasing", 2),
    (["report", "aging", "--customer", "Q"], "error: XLAR-E010 unknown customer 'Q'", 1),
    (["balance", "C1", "--as-of", "31/03/2026"], "'31/03/2026' is not a date like 2026-03-31", 2),
    (["report", "aging", "--format", "pdf"], "Invalid value for '--format'", 2),
])
def test_bad_arguments_give_one_line_and_an_exit_code(runner, tmp_path, args, message, code):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run(runner, "--store", url, "init").exit_code == 0
    result = run(runner, "--store", url, *args)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


NO_LOCALE = {"XLAR_LOCALE": "", "LC_ALL": "", "LC_MESSAGES": ""}
IN_ZH, IN_EN = "error: XLAR-E010 未知客户 'NOPE'", "error: XLAR-E010 unknown customer 'NOPE'"


@pytest.mark.parametrize(("env", "book", "args", "said"), [
    ({"XLAR_LOCALE": "zh-CN"}, "en", (), IN_ZH),                            # asked for, over the book's
    ({"XLAR_LOCALE": "en"}, "zh-CN", (), IN_EN),
    ({**NO_LOCALE, "LANG": "en_US.UTF-8"}, "zh-CN", (), IN_ZH),               # the book's, over the system's
    ({**NO_LOCALE, "LANG": "zh_CN.UTF-8"}, "en", (), IN_EN),
    ({"XLAR_LOCALE": "zh-CN"}, "zh-CN", ("--locale", "en"), IN_EN),           # --locale over everything
])
def test_a_refusal_is_said_in_the_books_language_unless_asked_otherwise(runner, tmp_path, monkeypatch, env, book,
                                                                         args, said):
    from xlar.store.engine import Store
    from xlar.store.settings import write_settings

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run(runner, "--store", url, "init").exit_code == 0
    store = Store.open(url)
    with store.write() as conn:
        write_settings(conn, {"locale": book}, "tester")
    store.dispose()
    result = run(runner, "--store", url, *args, "balance", "NOPE")
    assert result.exit_code == 1 and result.output.strip() == said


def test_before_any_book_is_open_the_systems_language_is_used(runner, tmp_path, monkeypatch):
    for name, value in {**NO_LOCALE, "LANG": "zh_CN.UTF-8"}.items():
        monkeypatch.setenv(name, value)
    result = run(runner, "--store", f"sqlite:///{tmp_path / 'none.db'}", "balance", "C1")
    assert result.exit_code == 1 and result.output.startswith("error: XLAR-E050 ") and "处没有账簿：请运行 `xlar" in result.output


def test_a_missing_store_or_dead_server_is_one_line(runner, tmp_path):
    result = run(runner, "--store", f"sqlite:///{tmp_path / 'none.db'}", "balance", "C1")
    assert result.exit_code == 1
    assert result.output.startswith("error: XLAR-E050 no store at") and len(result.output.splitlines()) == 1
    dead = run(runner, "--store", "postgresql://nobody@127.0.0.1:1/none", "balance", "C1")
    assert dead.exit_code == 1 and dead.output.startswith("error: XLAR-E050")
    assert len(dead.output.splitlines()) == 1


def test_invoice_generate_post_and_reports_from_the_command_line(runner, tmp_path):
    from datetime import date
    from decimal import Decimal

    from xlar.domain.customers import Customer
    from xlar.services.customers import save_customer
    from xlar.services.deliveries import DeliveryLine, add_deliveries
    from xlar.store.engine import Store

    url = f"sqlite:///{tmp_path / 'b.db'}"
    assert run(runner, "--store", url, "init", "--period", "2026-06").exit_code == 0
    store = Store.open(url)
    with store.write() as conn:
        save_customer(conn, Customer("C1", "Acme", "CNY", closing_day=25, credit_limit=Decimal(100000)), "t")
        add_deliveries(conn, [DeliveryLine("SH1", 1, "C1", date(2026, 6, 10), "A", Decimal(3), unit_price=Decimal(10),
                                           tax_rate=Decimal("0.13"))], "t")
    store.dispose()
    dry = run(runner, "--store", url, "invoice", "generate", "--through", "2026-06-30", "--dry-run")
    assert dry.exit_code == 0 and "would create invoice for C1 dated 2026-06-25 in CNY: 33.90" in dry.output
    made = run(runner, "--store", url, "invoice", "generate", "--through", "2026-06-30")
    assert made.exit_code == 0 and "created 1 draft documents" in made.output
    posted = run(runner, "--store", url, "invoice", "post", "DRAFT-1")
    assert posted.exit_code == 0 and "DRAFT-1 posted as INV-2026-00001" in posted.output
    report = run(runner, "--store", url, "report", "delivery-difference", "--from", "2026-06-01", "--to", "2026-06-30",
                 "--format", "csv")
    assert report.exit_code == 0
    assert report.output.splitlines()[1].startswith("SH1,1,delivery,2026-06-10,C1,A,CNY,3,30.00,3,30.00,30.00,0.00,0")
    exposure = run(runner, "--store", url, "credit", "C1")
    assert "open AR: 33.90 CNY" in exposure.output and "available: 99,966.10 CNY" in exposure.output
    again = run(runner, "--store", url, "invoice", "post", "INV-2026-00001")
    assert again.exit_code == 1 and "is already posted" in again.output


def test_the_demo_proves_at_every_month_end_and_exports_its_journal(runner, tmp_path):
    """The demo closes its first two months: `xlar check` proves every month end, the journal
    exports to CSV and xlsx, and the third month closes only once revalued and over."""
    import csv

    import openpyxl

    assert run(runner, "--user", "demo", "demo", tmp_path / "d", "--through", "2026-11-20").exit_code == 0
    url = f"sqlite:///{tmp_path / 'd' / 'xlar.db'}"
    checked = run(runner, "--store", url, "check", "--as-of", "2026-11-20", "--month-ends")
    assert checked.exit_code == 0, checked.output
    assert [line.split(":")[0] for line in checked.output.splitlines() if line.startswith("Proof")] == [
        "Proof as of 2026-08-31", "Proof as of 2026-09-30", "Proof as of 2026-10-31", "Proof as of 2026-11-20"]
    assert "BAD" not in checked.output
    out = run(runner, "--store", url, "journal", "export", "--period", "2026-10", "-o", tmp_path / "j.csv")
    assert out.exit_code == 0, out.output
    with (tmp_path / "j.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all("2026-10-01" <= r["date"] <= "2026-10-31" for r in rows)
    assert sum(Decimal(r["base_debit"]) for r in rows) == sum(Decimal(r["base_credit"]) for r in rows)
    assert {r["kind"] for r in rows} >= {"invoice", "receipt", "fx_adjustment", "reversal"}
    assert run(runner, "--store", url, "journal", "export", "--period", "2026-10", "--format", "xlsx",
               "-o", tmp_path / "j.xlsx").exit_code == 0
    sheet = openpyxl.load_workbook(tmp_path / "j.xlsx").active
    assert sheet.max_row == len(rows) + 1 and sheet.cell(1, 5).value == "account"
    early = run(runner, "--store", url, "--user", "demo", "close", "--period", "2099-12")
    assert early.exit_code == 1 and "close 2026-11 first" in early.output
    reopen = run(runner, "--store", url, "--user", "demo", "close", "--period", "2026-10", "--reopen",
                 "--reason", "late invoice")
    assert reopen.exit_code == 1 and "needs the admin role (zhao.min)" in reopen.output
    reopen = run(runner, "--store", url, "--user", "zhao.min", "close", "--period", "2026-10", "--reopen",
                 "--reason", "a late USD invoice")
    assert reopen.exit_code == 0 and "closed through 2026-09" in reopen.output
    from datetime import date

    from tests.books import line
    from xlar.services import documents as docs
    from xlar.store.engine import Store

    store = Store.open(url)
    with store.write() as conn:   # the late invoice, in USD: October must be revalued again
        doc = docs.create_draft(conn, docs.DraftDocument(docs.DocKind.INVOICE, "C041", date(2026, 10, 30),
                                                         (line("3", "100"),), fx_rate=Decimal("7.3")), "demo")
        docs.post(conn, doc, "demo")
    store.dispose()
    shut = run(runner, "--store", url, "--user", "demo", "close", "--period", "2026-10")
    assert shut.exit_code == 1 and "not revalued (xlar revalue --period 2026-10)" in shut.output
    assert "INV-2026-00" in shut.output and "cannot close: 1 thing(s) to finish" in shut.output
    preview = run(runner, "--store", url, "revalue", "--period", "2026-10", "--preview")
    assert preview.exit_code == 0 and "to_post" in preview.output
    assert run(runner, "--store", url, "--user", "demo", "revalue", "--period", "2026-10").exit_code == 0
    recomputed = run(runner, "--store", url, "close", "--period", "2026-10", "--recompute", "--dry-run")
    assert recomputed.exit_code == 0 and "C041 USD invoiced: stored " in recomputed.output
    shut = run(runner, "--store", url, "--user", "demo", "close", "--period", "2026-10")
    assert shut.exit_code == 0 and "2026-10 closed" in shut.output, shut.output
    bad = run(runner, "--store", url, "journal", "export", "--period", "2026-13", "-o", tmp_path / "x.csv")
    assert bad.exit_code == 2 and "period must look like 2026-03" in bad.output   # a bad argument


def test_demo_data_proves_at_every_month_end_on_each_backend(store):
    from datetime import date

    from xlar.demo import populate
    from xlar.reports.journal import proof
    from xlar.services.close import month_ends

    through = date(2026, 11, 20)
    with store.write() as conn:
        populate(conn, through, "demo")
    with store.read() as conn:
        for on in month_ends(date(2026, 8, 31), through):
            found = proof(conn, on)
            assert found.holds, found.text()
