"""The ribbon's actions: one registry by button tag, each a few lines over a service.

Every button of the AR tab runs `run(<its tag>, session)` (in Excel through
xlar.excel.actions.dispatch, from the CLI through `xlar excel run`). An action syncs what
was typed, calls its service and returns an Outcome; a user error becomes a refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from xlar.actions.session import Outcome, Session
from xlar.domain.codes import Code
from xlar.domain.errors import XlarError
from xlar.reports.catalog import REPORTS, Params
from xlar.reports.catalog import run as run_report
from xlar.schema.messages import localize
from xlar.store.settings import read_settings
from xlar.sync.engine import Suggest


@dataclass(frozen=True, slots=True)
class Action:
    """A ribbon button's action; its icon and tooltip are in macros/customUI14.xml."""

    tag: str
    en: str
    zh: str
    run: Callable[[Session], Outcome]


def _sync(s: Session) -> Outcome:
    return s.done(s.sync().summary())


def _generate(s: Session) -> Outcome:
    from xlar.services.billing import generate

    first = s.sync()   # deliveries typed just before the click are billed too
    with s.store.write() as conn:
        result = generate(conn, s.as_of, s.user)
    problems = "".join(f"\n- {localize(p, s.locale)}" for p in result.problems)
    told = f"{first.summary()}\n{result.summary(s.locale)}{problems}\n{s.sync().summary()}"
    return s.done(told, created=len(result.created), **{"billing problems": len(result.problems)})


def _post(s: Session) -> Outcome:
    from xlar.services import documents as docs
    from xlar.services import posting as posting_service
    from xlar.store import documents as stored

    first = s.sync()   # what was typed goes in first
    with s.store.read() as conn:
        due = docs.due_drafts(conn, s.as_of)
    if not due:
        return s.done(f"{first.summary()}\n" + s.say(f"no draft invoices dated {s.as_of} or earlier",
                                                     f"没有 {s.as_of} 及以前日期的草稿发票"))
    if not s.ui.confirm(s.say(f"Post {len(due)} draft invoice(s) dated {s.as_of} or earlier?",
                              f"审核过账 {len(due)} 张 {s.as_of} 及以前日期的草稿发票？")):
        return s.cancelled(s.say("nothing posted", "未过账"))
    with s.store.write() as conn:
        posting = posting_service.Posting()
        numbers = posting_service.post_many(conn, [stored.load(conn, doc_id, lock=True) for doc_id in due], s.user, posting)
    warnings = "".join(s.say("\nwarning: ", "\n提醒：") + localize(w, s.locale) for _, w in posting.warnings)
    done = s.say(f"posted {len(numbers)}: ", f"已过账 {len(numbers)} 张：") + f"{numbers[0]} … {numbers[-1]}"
    return s.done(f"{done}{warnings}\n{s.sync().summary()}", posted=len(numbers), warnings=len(posting.warnings))


def _match(s: Session) -> Outcome:
    report = s.sync(Suggest())
    return s.done(f"{report.summary()}\n" + s.say(
        "the suggested matches are new rows of the Allocations sheet: edit or delete them, then Sync to record them",
        "建议的核销已作为新行列在“核销”表：可修改或删除，然后点“同步”记账"))


def _bank_import(s: Session) -> Outcome:
    from xlar.services import bank

    file = s.ui.choose_file(s.say("Bank statement (CSV, MT940, CAMT.053)", "银行对账单（CSV、MT940、CAMT.053）"))
    if file is None:
        return s.cancelled(s.say("no file chosen", "未选择文件"))
    with s.store.write() as conn:
        result = bank.import_statement(conn, file.read_bytes(), file.name, s.user)
    return s.done(f"{result.summary(s.locale)}\n{s.sync().summary()}", **{
        "lines read": result.read, "lines new": result.new, "draft receipts": result.receipts,
        "queued": sum(result.queued.values())})


def _current_period(s: Session) -> str:
    with s.store.read() as conn:
        period = read_settings(conn).current_period
    if not period:
        raise XlarError("the book has no current_period setting: set it on the Settings sheet", code=Code.E149)
    return period


def _revalue(s: Session) -> Outcome:
    from xlar.services import fx

    first = s.sync()   # the month's rate typed on FxRates just before the click counts
    period = _current_period(s)
    if not s.ui.confirm(s.say(f"Revalue the open foreign-currency items of {period}?",
                              f"对 {period} 未结清的外币项目期末调汇？")):
        return s.cancelled(f"{first.summary()}\n" + s.say("nothing booked", "未记账"))
    with s.store.write() as conn:
        numbers = fx.revalue(conn, period, s.user)
    booked = s.say(", ", "、").join(numbers) if numbers else s.say("nothing to book: every item is revalued",
                                                                  "无需记账：所有项目均已调汇")
    return s.done(f"{period}: {booked}\n{s.sync().summary()}", booked=len(numbers))


def _close(s: Session) -> Outcome:
    from xlar.services import close

    first = s.sync()
    period = _current_period(s)
    if not s.ui.confirm(s.say(f"Close {period}? Its documents are then locked.", f"月结 {period}？结账后本月单据锁定。")):
        return s.cancelled(f"{first.summary()}\n" + s.say(f"{period} not closed", f"{period} 未结账"))
    with s.store.write() as conn:
        result = close.close(conn, period, s.user, today=s.as_of)
    if result.blockers:
        s.counts["blockers"] = len(result.blockers)
        listed = "".join(f"\n- {b.said(s.locale)}" for b in result.blockers)
        return s.refused(Code.E030, s.say(f"{period} cannot close: {len(result.blockers)} thing(s) to finish first:",
                                            f"{period} 不能结账：须先处理 {len(result.blockers)} 项：") + listed)
    return s.done(s.say(f"{period} closed; current period {result.current_period}",
                        f"{period} 已结账；当前期间 {result.current_period}") + f"\n{s.sync().summary()}")


def _report(s: Session) -> Outcome:
    from xlar.reports.render import write_report

    names = list(REPORTS)
    listed = "\n".join(f"{i}. {REPORTS[n].zh} / {REPORTS[n].en}" for i, n in enumerate(names, start=1))
    answer = s.ui.ask(s.say("Which report?", "哪张报表？") + f"\n{listed}", "1")
    if not answer:
        return s.cancelled(s.say("no report chosen", "未选择报表"))
    name = names[int(answer) - 1] if answer.strip().isdigit() and 0 < int(answer) <= len(names) else answer.strip()
    if name not in REPORTS:
        raise XlarError(f"no report {answer!r}: give its number or name", code=Code.E140)
    with s.store.read() as conn:
        book = read_settings(conn)
        result = run_report(conn, name, Params(s.as_of, date(s.as_of.year, 1, 1), s.as_of, locale=book.locale))
    path = s.folder / f"{name}-{s.as_of.isoformat()}.xlsx"
    write_report(result, path)
    s.made(path)
    rows = len(result.frame)
    return s.done(f"{result.title}: " + s.say(f"{rows} rows -> {path}", f"{rows} 行 -> {path}"), rows=rows)


def _dashboard(s: Session) -> Outcome:
    from xlar.reports.dashboard import build_dashboard
    from xlar.reports.kpis import dashboard_data

    with s.store.read() as conn:
        data = dashboard_data(conn, s.as_of, read_settings(conn).locale)
    path = s.folder / f"dashboard-{s.as_of.isoformat()}.xlsx"
    build_dashboard(data, path)
    s.made(path)
    return s.done(s.say(f"dashboard as of {s.as_of} -> {path}", f"仪表板（截至 {s.as_of}）-> {path}"))


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


def run(tag: str, session: Session) -> Outcome:
    """Run the action of TAG and tell its outcome; a user error becomes a refusal, never a traceback."""
    action = ACTIONS.get(tag)
    if action is None:
        raise XlarError(f"no action {tag!r}", code=Code.E141)
    try:
        outcome = action.run(session)
    except XlarError as exc:
        outcome = session.refused(exc.code, localize(exc.message, session.locale))
    session.ui.tell(outcome.told)
    return outcome
