"""A zh-CN book speaks Chinese where the accountant must act: its Errors sheet (issue 20)."""

import re
from datetime import date

import pytest

from tests.sheets import add_rows, read
from xlar.schema.messages import RULES, localize
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import build_template

AS_OF = date(2026, 3, 31)
# what may stay in Latin letters: codes, currencies, Excel's own words, formats
ALLOWED = {"TRUE", "FALSE", "YYYY", "MM", "DD", "CNY", "USD", "Excel", "xlar", "NUL", "DRAFT", "CSV", "camt", "GBK",
           "UTF"}


def english_words(text: str) -> set[str]:
    """Latin words of 3 letters or more outside the user's data (quoted), error codes and document numbers."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"|XLAR-[EW]\d+|\b[A-Z]{2,5}-\d{4}-\d+\b", "", text)   # and document numbers
    return set(re.findall(r"[A-Za-z]{3,}", text)) - ALLOWED


def test_every_bad_cell_and_refused_row_is_told_in_chinese(store, tmp_path):
    """One workbook with a bad cell of every kind the reader finds, and rows the sync refuses: each
    Errors row names the sheet by its Chinese title and says what is wrong in Chinese."""
    path = build_template(tmp_path / "AR.xlsx", "zh-CN")
    add_rows(path, "Customers", [
        {"code": "C001", "name": "甲公司", "currency": "CNY"},
        {"code": "C002", "currency": "CNY"},                               # E102 name blank
        {"code": "C003", "name": "乙公司", "currency": "CNY", "closing_day": 1.5},    # E109
        {"code": "C004", "name": "丙公司", "currency": "CNY", "credit_limit": True},  # E104
        {"code": "C005\n1", "name": "丁公司", "currency": "CNY"},                      # E106
        {"code": 123, "name": "戊公司", "currency": "CNY"},                            # W101
        {"code": "C006", "name": "己", "currency": "CNY", "credit_limit": "12"},       # E107
        {"code": "C007", "name": "庚", "currency": "CNY", "credit_limit": 1.234},      # E103
        {"code": "C008", "name": "辛", "currency": "CNY", "status": "暂停"},            # E116
        {"code": "C009", "name": "壬", "currency": "CNY"},
        {"code": "C009", "name": "重复", "currency": "CNY"}], "zh-CN")                 # E118
    add_rows(path, "PaymentTerms", [{"code": "N30", "name": "月结30天", "basis": "按发票日", "days": 30,
                                     "discount_pct": 13}], "zh-CN")                # E110
    add_rows(path, "Invoices", [
        {"date": "3/15/2026", "customer": "C001", "net": 100},                     # E113
        {"date": "2026-02-30", "customer": "C001", "net": 100},                    # E112
        {"date": 45000, "customer": "C001", "net": 100},                           # E114
        {"date": date(2026, 3, 2), "customer": "C404", "net": 100},                # E010
        {"date": date(2026, 3, 2), "customer": "C001", "net": 100, "tax": 6, "total": 107},   # E021
        {"date": date(2026, 3, 2), "customer": "C001", "tax": 6},                  # E021
        {"number": "甲1", "date": date(2026, 3, 2), "customer": "C001"}], "zh-CN")
    add_rows(path, "InvoiceLines", [
        {"invoice": "甲1", "line": 1, "item": "物料", "qty": "两", "unit_price": 1},   # E108 -> E124
        {"invoice": "无此单", "line": 1, "item": "物料", "qty": 1, "unit_price": 1}],   # E125
        "zh-CN")
    add_rows(path, "Receipts", [{"date": date(2026, 3, 2), "customer": "C001", "amount": 5, "method": "电汇"}],
             "zh-CN")                                                               # E116
    report = sync_workbook(path, store, "alice", as_of=AS_OF)
    errors = read(path, "错误")
    codes = {r["代码"] for r in errors}
    assert {"XLAR-E102", "XLAR-E109", "XLAR-E104", "XLAR-E106", "XLAR-W101", "XLAR-E107", "XLAR-E103",
            "XLAR-E116", "XLAR-E118", "XLAR-E113", "XLAR-E112", "XLAR-E114", "XLAR-E010", "XLAR-E021",
            "XLAR-E108", "XLAR-E110", "XLAR-E124", "XLAR-E125"} <= codes, codes
    assert len(errors) == len(report.issues)
    for row in errors:
        assert row["工作表"] in {"客户", "付款条件", "发票", "发票明细", "收款单"}, row
        assert not english_words(row["说明"]), row
    method = next(r for r in errors if r["工作表"] == "收款单")
    assert method["说明"] == "'电汇' 不是以下之一：银行、现金、银行承兑汇票、冲账"
    # the Errors sheet as written counts as shown: the next sync finds nothing new to write
    again = sync_workbook(path, store, "alice", as_of=AS_OF)
    assert not again.written


@pytest.mark.parametrize("message", [
    "invoice for C001 in USD needs an exchange rate to CNY",
    "credit_note for C9: give the net (or the total) as well as the tax",
    "'0.001': 0.001 has more decimals than CNY allows (2)",
    "unknown customer 'C404'",
    ("invoice INV-2026-00007 cannot be voided: it is dated 2026-09-18, in period 2026-09 which is closed (closed "
    "through 2026-10)"),
    "revaluation of 2026-10 is dated 2026-10-31, in period 2026-10 which is closed (closed through 2026-10)",
    "void of receipt RC-2026-00001 is dated 2026-09-18, in period 2026-09 which is closed (closed through 2026-10)",
    ("write-off of invoice INV-2026-00001 #2 is dated 2026-09-18, in period 2026-09 which is closed (closed through "
    "2026-10)"),
    "match row changed in the workbook is dated 2026-03-25, in period 2026-03 which is closed (closed through 2026-03)",
    "undo of batch 7 is dated 2026-03-25, in period 2026-03 which is closed (closed through 2026-03)",
    "the USD rate of 2026-03 is dated 2026-03-01, in period 2026-03 which is closed (closed through 2026-03)",
    "netting for C001 is dated 2026-03-01, in period 2026-03 which is closed (closed through 2026-03)",
])
def test_known_service_messages_are_chinese(message):
    assert not english_words(localize(message)), localize(message)


def test_an_english_book_keeps_english_and_an_unknown_message_is_left_as_it_is():
    assert localize("unknown customer 'C9'", "en") == "unknown customer 'C9'"
    assert localize("something new: here") == "something new: here"
    assert len(RULES) > 40


def test_the_settings_sheet_names_each_setting_in_the_books_language(store, tmp_path):
    """Every setting has a Chinese name on a zh-CN Settings sheet (the key stays what the store
    keeps); a value changed beside its Chinese name is the setting's."""
    from tests.sheets import edit
    from xlar.schema.sheets import SETTING_ZH
    from xlar.store.settings import DEFAULTS, read_settings

    assert SETTING_ZH.keys() == DEFAULTS.keys()
    path = build_template(tmp_path / "AR.xlsx", "zh-CN", {**DEFAULTS, "locale": "zh-CN"})
    shown = [r["设置项"] for r in read(path, "设置")]
    assert shown == [SETTING_ZH[k] for k in DEFAULTS]
    assert sync_workbook(path, store, "alice", as_of=AS_OF).issues == []
    assert [r["设置项"] for r in read(path, "设置")] == shown
    edit(path, "Settings", {"key": "默认税率（%）"}, {"value": "6"}, "zh-CN")
    report = sync_workbook(path, store, "alice", as_of=AS_OF)
    assert report.issues == [] and report.counts["Settings changed"] + report.counts["Settings added"] == 1
    with store.read() as conn:
        assert str(read_settings(conn).tax_rate) == "0.06"
    # a setting's allowed values read in Chinese, kept as their codes
    assert {r["设置项"]: r["值"] for r in read(path, "设置")}["收款冲账时点"] == "核准后冲账"
    edit(path, "Settings", {"key": "收款核准时核销方式"}, {"value": "先进先出"}, "zh-CN")
    assert sync_workbook(path, store, "alice", as_of=AS_OF).issues == []
    with store.read() as conn:
        assert read_settings(conn).match_at_approval == "fifo"
    assert {r["设置项"]: r["值"] for r in read(path, "设置")}["收款核准时核销方式"] == "先进先出"
    assert not sync_workbook(path, store, "alice", as_of=AS_OF).written


def test_the_memos_xlar_writes_on_allocations_are_chinese_in_a_chinese_book(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "zh-CN")
    add_rows(path, "Customers", [{"code": "C001", "name": "甲公司", "currency": "CNY"}], "zh-CN")
    add_rows(path, "Invoices", [{"number": "甲1", "date": date(2026, 3, 1), "customer": "C001", "net": 100,
                                 "status": "posted"}], "zh-CN")
    add_rows(path, "Receipts", [{"date": date(2026, 3, 5), "customer": "C001", "amount": 50, "reference": "甲1",
                                 "status": "posted"}], "zh-CN")
    assert sync_workbook(path, store, "alice", as_of=AS_OF).issues == []
    [match] = read(path, "核销")
    assert match["备注"] == "RC-2026-00001 的参考号写明了 INV-2026-00001"
    assert not sync_workbook(path, store, "alice", as_of=AS_OF).written


@pytest.mark.parametrize("memo", [
    "takes effect 2026-04-10: invoice INV-2026-00001 has room for it from then",
    "takes effect 2026-04-10: receipt RC-2026-00002 has room for it from then",
    "takes effect 2026-03-20, when the match it replaces is undone",
    "takes effect 2026-04-01, the first day of an open period",
    "match row changed in the workbook",
])
def test_why_a_match_takes_effect_later_is_said_in_chinese(memo):
    from xlar.schema.messages import localize_memo

    assert not english_words(localize_memo(memo, "zh-CN")), localize_memo(memo, "zh-CN")


def test_mainland_wording_and_an_earlier_books_headers_still_read(store, tmp_path):
    """物料编码 is the item's header now; a book made with the earlier 品号 still syncs."""
    import openpyxl

    path = build_template(tmp_path / "AR.xlsx", "zh-CN")
    wb = openpyxl.load_workbook(path)
    ws = wb["发票明细"]
    [cell] = [c for c in ws[2] if c.value == "物料编码"]
    cell.value = "品号"
    wb.save(path)
    add_rows(path, "Customers", [{"code": "C001", "name": "甲公司", "currency": "CNY"}], "zh-CN")
    add_rows(path, "Invoices", [{"number": "甲1", "date": date(2026, 3, 1), "customer": "C001"}], "zh-CN")
    wb = openpyxl.load_workbook(path)
    ws = wb["发票明细"]
    for col, value in enumerate(["甲1", 1, None, None, "P-1", 2, 50], start=1):
        ws.cell(3, col, value)
    wb.save(path)
    assert sync_workbook(path, store, "alice", as_of=AS_OF).issues == []
    assert read(path, "发票明细")[0]["品号"] == "P-1"


def test_a_refusal_of_every_kind_the_services_give_is_chinese(store, tmp_path):
    """One refusal per error code the services give through a sync (E002 … E060), in a zh-CN book."""
    from tests.sheets import edit
    from xlar.store.settings import set_periods

    path = build_template(tmp_path / "AR.xlsx", "zh-CN")
    add_rows(path, "Customers", [{"code": "C001", "name": "甲公司", "currency": "CNY"},
                                 {"code": "C002", "name": "乙公司", "currency": "CNY", "credit_limit": 50}], "zh-CN")
    add_rows(path, "Invoices", [{"number": "甲1", "date": date(2026, 3, 1), "customer": "C001", "net": 100,
                                 "status": "posted"}], "zh-CN")
    add_rows(path, "Receipts", [{"number": "收1", "date": date(2026, 3, 2), "customer": "C001", "amount": 500,
                                 "status": "posted"}], "zh-CN")
    assert sync_workbook(path, store, "alice", as_of=AS_OF).issues == []
    with store.write() as conn:
        set_periods(conn, closed="2026-01", current_period="2026-02", user="alice")
    add_rows(path, "PaymentTerms", [{"code": "N9", "name": "九天", "basis": "按发票日", "days": 9,
                                     "discount_days": 5}], "zh-CN")                               # E004
    edit(path, "Settings", {"key": "默认税率（%）"}, {"value": "abc"}, "zh-CN")                     # E005
    add_rows(path, "Customers", [{"code": "C003", "name": "丙公司", "currency": "XYZ"}], "zh-CN")   # E002
    edit(path, "Invoices", {"number": "INV-2026-00001"}, {"memo": "改了"}, "zh-CN")                  # E020
    add_rows(path, "Invoices", [
        {"date": date(2026, 3, 3), "customer": "C001", "currency": "XYZ", "fx_rate": 1.5, "net": 1},  # E103
        {"date": date(2026, 1, 5), "customer": "C001", "net": 1},                                 # E030
        {"date": date(2026, 3, 5), "customer": "C002", "net": 100, "status": "posted"}], "zh-CN")  # E060
    add_rows(path, "Allocations", [{"credit_doc": "RC-2026-00001", "invoice": "INV-2026-00001", "amount": 400},  # E040
                                   {"invoice": "INV-2026-00001", "amount": 1}], "zh-CN")            # E041
    report = sync_workbook(path, store, "alice", as_of=AS_OF)
    errors = read(path, "错误")
    codes = {r["代码"] for r in errors}
    assert {"XLAR-E002", "XLAR-E004", "XLAR-E005", "XLAR-E020", "XLAR-E030", "XLAR-E040", "XLAR-E041",
            "XLAR-E060"} <= codes, (codes, report.issues)
    for row in errors:
        assert not english_words(row["说明"]), row


BANK_CSV = """账号:6222 0000 1111 2222
交易日期,借方金额,贷方金额,币种,对方户名,对方账号,摘要,附言
2026/03/25,,"50.00",人民币,甲公司,6222000011113333,货款,INV-2026-00001
2026/03/26,,"80.00",人民币,不认识的公司,6222000011114444,货款,
"""


def test_every_ribbon_button_speaks_the_workbooks_language(store, tmp_path):
    """In a zh-CN workbook each button of the AR tab asks and tells in Chinese: its questions, what
    it did, what keeps a month from closing, and a refusal (issue 20: no English outside codes, data,
    document numbers, file paths and the commands it names)."""
    from tests.test_excel_live import ScriptedUi
    from xlar.actions import ribbon as actions
    from xlar.actions.session import Session
    from xlar.workbook.gateway import FileGateway

    path = build_template(tmp_path / "AR.xlsx", "zh-CN")
    add_rows(path, "Customers", [{"code": "C001", "name": "甲公司", "currency": "CNY"},
                                 {"code": "C002", "name": "乙公司", "currency": "USD"}], "zh-CN")
    add_rows(path, "Invoices", [
        {"date": date(2026, 3, 1), "customer": "C001", "net": 100, "status": "posted"},
        {"date": date(2026, 3, 20), "customer": "C001", "net": 50},
        {"date": date(2026, 3, 21), "customer": "C002", "net": 10, "fx_rate": 7.1, "status": "posted"}], "zh-CN")
    statement = tmp_path / "流水.csv"
    statement.write_text(BANK_CSV, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,a,bank,would,write\n1,2,3,4,5\n", encoding="utf-8")
    told, asked, outcomes = {}, [], {}
    for tag, answers, file in (("sync", (), None), ("post", (), None), ("match", (), None),
                               ("generate_invoices", (), None), ("bank_import", (), statement),
                               ("bank_import", (), bad), ("bank_import", (), None), ("revalue", (), None),
                               ("close", (), None), ("report", ("1",), None), ("report", ("99",), None),
                               ("dashboard", (), None)):
        ui = ScriptedUi(answers, file)
        gateway = FileGateway(path)
        try:
            on = date(2026, 4, 2) if tag == "close" else AS_OF   # a month closes once it has ended
            said = actions.run(tag, Session(gateway, store, "alice", on, ui, tmp_path))
        finally:
            gateway.close()
        told.setdefault(tag, []).append(said.told)
        outcomes.setdefault(tag, []).append(said)
        asked += ui.asked
    for tag, messages in told.items():
        for said in messages:
            shown = re.sub(r"-> \S+|xlar [a-z]+ [a-z]+ --\w+ \S+", "", said)   # file paths, commands named
            assert not english_words(shown), (tag, said)
    for question in asked:
        assert not english_words(re.sub(r"\d+\. .*? / .*", "", question)), question
    assert "已过账 1 张：" in told["post"][0]
    assert told["close"][0].startswith("错误：XLAR-E030 ") and "不能结账" in told["close"][0], told["close"]
    assert "USD 汇率：“汇率”表没有 USD 在 2026-03 的汇率" in told["close"][0]
    assert told["bank_import"][0].startswith("读取 2 行") and "未选择文件" in told["bank_import"][2]
    assert told["report"][1].startswith("错误：XLAR-E140")
    assert [(o.status, o.code) for o in outcomes["close"] + outcomes["report"]] == [
        ("refused", "XLAR-E030"), ("done", None), ("refused", "XLAR-E140")]
    assert [o.status for o in outcomes["bank_import"]] == ["done", "refused", "cancelled"]
    assert outcomes["post"][0].counts["posted"] == 1 and outcomes["report"][0].files[0].exists()
