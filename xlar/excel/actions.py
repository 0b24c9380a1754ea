"""The ribbon's actions: one registry by button tag, one entry point for every button.

Every button of the AR tab calls the VBA callback XlarAction, which runs
`xlar.excel.actions.dispatch(<the button's tag>)`. An action is a few lines over a service,
given a Session: the workbook (through a WorkbookGateway: the live workbook in Excel, or a
file for `xlar excel run`), the store, the user, the date and a Ui to ask and tell. The
same action code runs in Excel, from the CLI and in the tests.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from xlar.domain.documents import LINE_KINDS
from xlar.domain.errors import XlarError
from xlar.reports.catalog import REPORTS, Params
from xlar.reports.catalog import run as run_report
from xlar.schema.messages import localize
from xlar.store.config import acting_user, config_path
from xlar.store.engine import Store
from xlar.store.settings import read_settings
from xlar.sync.engine import Suggest, SyncReport, sync_book
from xlar.workbook.gateway import WorkbookGateway
from xlar.workbook.reader import book_locale
from xlar.workbook.stores import store_url, workbook_folder


class Ui(Protocol):
    """How an action asks the accountant and tells the outcome (a dialog in Excel)."""

    def confirm(self, message: str) -> bool: ...

    def ask(self, prompt: str, default: str = "") -> str | None: ...

    def choose_file(self, title: str) -> Path | None: ...

    def tell(self, message: str) -> None: ...

    def show(self, path: Path) -> None:
        """Open a file the action made (a report, the dashboard)."""
        ...


class TerminalUi:
    """The CLI's answers to an action's questions (given as options) and its messages on stdout."""

    def __init__(self, yes: bool, file: Path | None = None, answer: str | None = None) -> None:
        self.yes, self.file, self.answer = yes, file, answer

    def confirm(self, message: str) -> bool:
        return self.yes

    def ask(self, prompt: str, default: str = "") -> str | None:
        return self.answer

    def choose_file(self, title: str) -> Path | None:
        return self.file

    def tell(self, message: str) -> None:
        print(message)

    def show(self, path: Path) -> None:
        """A file made for the accountant is named in the message: nothing to open on a terminal."""


@dataclass(slots=True)
class Session:
    """One click of a button: on which workbook, store and date, by whom, asking whom."""

    book: WorkbookGateway
    store: Store
    user: str
    as_of: date
    ui: Ui
    folder: Path          # where files the action makes are written (the workbook's folder)

    def sync(self, suggest: Suggest | None = None) -> SyncReport:
        return sync_book(self.book, self.store, self.user, as_of=self.as_of, suggest=suggest)

    locale: str = field(init=False)   # the workbook's language (its sheets' titles): what the accountant is told in

    def __post_init__(self) -> None:
        self.locale = book_locale(self.book.titles())   # once: in Excel each look at the titles is a call to it

    def say(self, en: str, zh: str) -> str:
        return zh if self.locale == "zh-CN" else en


@dataclass(frozen=True, slots=True)
class Action:
    """A ribbon button's action; its icon and tooltip are in macros/customUI14.xml."""

    tag: str
    en: str
    zh: str
    run: Callable[[Session], str]     # returns what the accountant is told


def _sync(s: Session) -> str:
    return s.sync().summary()


def _generate(s: Session) -> str:
    from xlar.services.billing import generate

    first = s.sync()   # deliveries typed just before the click are billed too
    with s.store.write() as conn:
        result = generate(conn, s.as_of, s.user)
    problems = "".join(f"\n- {localize(p, s.locale)}" for p in result.problems)
    return f"{first.summary()}\n{result.summary(s.locale)}{problems}\n{s.sync().summary()}"


def _post(s: Session) -> str:
    from xlar.services import documents as docs
    from xlar.store.tables import documents

    first = s.sync()   # what was typed goes in first
    with s.store.read() as conn:
        drafts = conn.execute(documents.select().where(
            documents.c.status == "draft", documents.c.kind.in_(sorted(k.value for k in LINE_KINDS)),
            documents.c.doc_on <= s.as_of).order_by(documents.c.doc_on, documents.c.id)).mappings().all()
    if not drafts:
        return f"{first.summary()}\n" + s.say(f"no draft invoices dated {s.as_of} or earlier",
                                               f"没有 {s.as_of} 及以前日期的草稿发票")
    if not s.ui.confirm(s.say(f"Post {len(drafts)} draft invoice(s) dated {s.as_of} or earlier?",
                              f"审核过账 {len(drafts)} 张 {s.as_of} 及以前日期的草稿发票？")):
        return s.say("nothing posted", "未过账")
    with s.store.write() as conn:
        posting = docs.Posting()
        numbers = docs.post_many(conn, [docs.load(conn, d["id"], lock=True) for d in drafts], s.user, posting)
    warnings = "".join(s.say("\nwarning: ", "\n提醒：") + localize(w, s.locale) for _, w in posting.warnings)
    done = s.say(f"posted {len(numbers)}: ", f"已过账 {len(numbers)} 张：") + f"{numbers[0]} … {numbers[-1]}"
    return f"{done}{warnings}\n{s.sync().summary()}"


def _match(s: Session) -> str:
    report = s.sync(Suggest())
    return f"{report.summary()}\n" + s.say(
        "the suggested matches are new rows of the Allocations sheet: edit or delete them, then Sync to record them",
        "建议的核销已作为新行列在“核销”表：可修改或删除，然后点“同步”记账")


def _bank_import(s: Session) -> str:
    from xlar.services import bank

    file = s.ui.choose_file(s.say("Bank statement (CSV, MT940, CAMT.053)", "银行对账单（CSV、MT940、CAMT.053）"))
    if file is None:
        return s.say("no file chosen", "未选择文件")
    with s.store.write() as conn:
        result = bank.import_statement(conn, file.read_bytes(), file.name, s.user)
    return f"{result.summary(s.locale)}\n{s.sync().summary()}"


def _current_period(s: Session) -> str:
    with s.store.read() as conn:
        period = read_settings(conn).current_period
    if not period:
        raise XlarError("the book has no current_period setting: set it on the Settings sheet", code="XLAR-E149")
    return period


def _revalue(s: Session) -> str:
    from xlar.services import fx

    first = s.sync()   # the month's rate typed on FxRates just before the click counts
    period = _current_period(s)
    if not s.ui.confirm(s.say(f"Revalue the open foreign-currency items of {period}?",
                              f"对 {period} 未结清的外币项目期末调汇？")):
        return f"{first.summary()}\n" + s.say("nothing booked", "未记账")
    with s.store.write() as conn:
        numbers = fx.revalue(conn, period, s.user)
    booked = s.say(", ", "、").join(numbers) if numbers else s.say("nothing to book: every item is revalued",
                                                                  "无需记账：所有项目均已调汇")
    return f"{period}: {booked}\n{s.sync().summary()}"


def _close(s: Session) -> str:
    from xlar.services import close

    first = s.sync()
    period = _current_period(s)
    if not s.ui.confirm(s.say(f"Close {period}? Its documents are then locked.", f"月结 {period}？结账后本月单据锁定。")):
        return f"{first.summary()}\n" + s.say(f"{period} not closed", f"{period} 未结账")
    with s.store.write() as conn:
        result = close.close(conn, period, s.user, today=s.as_of)
    if result.blockers:
        listed = "".join(f"\n- {b.said(s.locale)}" for b in result.blockers)
        return refusal(s.locale, "XLAR-E030", s.say(f"{period} cannot close: {len(result.blockers)} thing(s) to finish "
                                                    "first:", f"{period} 不能结账：须先处理 {len(result.blockers)} 项：") + listed)
    return s.say(f"{period} closed; current period {result.current_period}",
                 f"{period} 已结账；当前期间 {result.current_period}") + f"\n{s.sync().summary()}"


def _report(s: Session) -> str:
    from xlar.reports.render import write_report

    names = list(REPORTS)
    listed = "\n".join(f"{i}. {REPORTS[n].zh} / {REPORTS[n].en}" for i, n in enumerate(names, start=1))
    answer = s.ui.ask(s.say("Which report?", "哪张报表？") + f"\n{listed}", "1")
    if not answer:
        return s.say("no report chosen", "未选择报表")
    name = names[int(answer) - 1] if answer.strip().isdigit() and 0 < int(answer) <= len(names) else answer.strip()
    if name not in REPORTS:
        raise XlarError(f"no report {answer!r}: give its number or name", code="XLAR-E140")
    with s.store.read() as conn:
        book = read_settings(conn)
        result = run_report(conn, name, Params(s.as_of, date(s.as_of.year, 1, 1), s.as_of, locale=book.locale))
    path = s.folder / f"{name}-{s.as_of.isoformat()}.xlsx"
    write_report(result, path)
    s.ui.show(path)
    return f"{result.title}: " + s.say(f"{len(result.frame)} rows -> {path}", f"{len(result.frame)} 行 -> {path}")


def _dashboard(s: Session) -> str:
    from xlar.reports.dashboard import build_dashboard
    from xlar.reports.kpis import dashboard_data

    with s.store.read() as conn:
        data = dashboard_data(conn, s.as_of, read_settings(conn).locale)
    path = s.folder / f"dashboard-{s.as_of.isoformat()}.xlsx"
    build_dashboard(data, path)
    s.ui.show(path)
    return s.say(f"dashboard as of {s.as_of} -> {path}", f"仪表板（截至 {s.as_of}）-> {path}")


ACTIONS: dict[str, Action] = {a.tag: a for a in (
    Action("sync", "Sync", "同步", _sync),
    Action("generate_invoices", "Generate invoices", "生成发票", _generate),
    Action("post", "Post", "过账", _post),
    Action("match", "Match receipts", "到款核销", _match),
    Action("bank_import", "Import bank statement", "导入银行流水", _bank_import),
    Action("revalue", "Revalue FX", "期末调汇", _revalue),
    Action("close", "Close month", "月结", _close),
    Action("report", "Reports", "报表", _report),
    Action("dashboard", "Dashboard", "仪表板", _dashboard),
)}


def run(tag: str, session: Session) -> str:
    """Run the action of TAG; a user error becomes the message told, never a traceback."""
    action = ACTIONS.get(tag)
    if action is None:
        raise XlarError(f"no action {tag!r}", code="XLAR-E141")
    try:
        message = action.run(session)
    except XlarError as exc:
        message = refusal(session.locale, exc.code, localize(exc.message, session.locale))
    session.ui.tell(message)
    return message


REFUSED = {"en": "error: ", "zh-CN": "错误："}   # how what an action tells starts when it refused


def refusal(locale: str, code: str, message: str) -> str:
    """A refusal as the accountant is told it: 'error: XLAR-E030 …', '错误：XLAR-E030 …' in a zh-CN book."""
    return f"{REFUSED[locale]}{code} {message}"


def is_refusal(message: str) -> bool:
    return message.startswith(tuple(REFUSED.values()))


def current_user() -> str:
    return acting_user()


def dispatch(tag: str) -> None:
    """The entry point of every ribbon button (called from VBA with the button's tag)."""
    import xlwings as xw

    from xlar.excel.live import ExcelUi, XlwingsGateway

    book = xw.Book.caller()
    ui = ExcelUi(book)
    gateway = XlwingsGateway(book)
    try:
        saved_in = workbook_folder(book.fullname)
        folder = saved_in or Path.home()
        store = Store.open(store_url(gateway, saved_in))
        try:
            run(tag, Session(gateway, store, current_user(), date.today(), ui, folder))
        finally:
            store.dispose()
    except XlarError as exc:   # the store cannot be opened
        locale = book_locale(gateway.titles())
        ui.tell(refusal(locale, exc.code, localize(exc.message, locale)))
    except Exception as exc:  # noqa: BLE001 - shown to the accountant in one line, kept whole in the log
        ui.tell(f"XLAR-E142 {tag} failed: {exc}\n(details in {_log_failure(tag, exc)})")


def _log_failure(tag: str, exc: BaseException) -> Path:
    """Append EXC's traceback to xlar.log beside the config file; returns the log."""
    path = config_path().parent / "xlar.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(f"--- {date.today()} {tag}\n{''.join(traceback.format_exception(exc))}")
    return path

