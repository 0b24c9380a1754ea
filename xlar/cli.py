"""The `xlar` command: thin click commands over the services."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.aging import AgingPolicy
from xlar.domain.codes import Code, is_warning
from xlar.domain.errors import NotAllowed, XlarError
from xlar.domain.money import from_minor, parse_decimal
from xlar.domain.periods import parse_period, period_of
from xlar.reports import ledger as reports
from xlar.reports.render import aging_csv, aging_json, amount_text
from xlar.schema.cells import EARLIEST, LATEST
from xlar.schema.messages import localize
from xlar.services.customers import customer_id
from xlar.store import audit, seals
from xlar.store.config import acting_user
from xlar.store.engine import Store
from xlar.store.settings import read_settings, write_settings
from xlar.store.tables import customers as customer_table

F = TypeVar("F", bound=Callable[..., Any])


class IsoDate(click.ParamType[date, Any]):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            found = date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-03-31", param, ctx)
        if not EARLIEST <= found <= LATEST:
            self.fail(f"{value!r} is out of range ({EARLIEST} to {LATEST})", param, ctx)
        return found


ISO_DATE = IsoDate()


class Checked(click.ParamType[Any, Any]):
    """Text that CHECK (a domain parser) accepts, passed on as typed: a refusal is a bad
    argument (exit 2), found before anything opens the store."""

    def __init__(self, name: str, check: Callable[[str], object]) -> None:
        self.name, self.check = name, check

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            self.check(str(value))
        except XlarError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


PERIOD = Checked("YYYY-MM", parse_period)
AMOUNT = Checked("AMOUNT", parse_decimal)
BUCKETS = Checked("30,60,90", lambda text: AgingPolicy.parse("due", text))


class WorkbookFile(click.Path):
    """An existing .xlsx (or .xlsm) workbook file; a CSV or an old .xls is refused by name."""

    SUFFIXES = (".xlsx", ".xlsm")

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        assert isinstance(path, Path)   # path_type=Path
        if path.suffix.lower() == ".xls":
            self.fail(f"{path.name} is an Excel 97-2003 workbook: open it in Excel and save it as .xlsx", param, ctx)
        if path.suffix.lower() not in self.SUFFIXES:
            self.fail(f"{path.name} is not an Excel workbook (.xlsx): `xlar template` makes one", param, ctx)
        return path


WORKBOOK = WorkbookFile()


class Obj:
    """Shared state of one invocation (ctx.obj): which store, which user."""

    def __init__(self, store_url: str | None, user: str, locale: str | None = None) -> None:
        self.store_url = store_url
        self.user = user
        self.locale = locale                    # --locale
        self.book_locale: str | None = None     # the locale setting of the store the command opened

    def asked_locale(self) -> str | None:
        """The language the messages were asked in: --locale, else $XLAR_LOCALE; None: not asked."""
        if self.locale:
            return self.locale
        return _language(os.environ["XLAR_LOCALE"]) if os.environ.get("XLAR_LOCALE") else None

    def url_for(self, workbook: Path | None) -> str | None:
        """--store; else, for a command on WORKBOOK, the store the workbook uses, as in Excel
        (its xlar.conf sheet, XLAR_STORE, xlar.db beside it); else None (XLAR_STORE, ./xlar.db)."""
        if self.store_url or workbook is None:
            return self.store_url
        from xlar.workbook.stores import file_store_url

        return file_store_url(workbook)

    @contextmanager
    def store(self, workbook: Path | None = None) -> Iterator[Store]:
        """The opened store (WORKBOOK's, for a command on a workbook), closed again when the
        command is done."""
        store = Store.open(self.url_for(workbook))
        try:
            if self.asked_locale() is None:   # messages in the book's language
                with store.read() as conn:
                    self.book_locale = read_settings(conn).locale
            yield store
        finally:
            store.dispose()


@contextmanager
def _friendly_errors() -> Iterator[None]:
    """User errors, unreachable stores and files that cannot be read or written end in one
    line and exit 1, never a traceback."""
    try:
        yield
    except XlarError as exc:
        _refused(exc.code, exc.message)
        sys.exit(1)
    except sa.exc.OperationalError as exc:
        unavailable = "账簿无法连接" if cli_locale() == "zh-CN" else "store unavailable"
        _refused(Code.E050, f"{unavailable}: {str(exc.orig).strip().splitlines()[0]}")
        sys.exit(1)
    except OSError as exc:
        what = f"{exc.filename}: " if exc.filename else ""
        _refused(Code.E051, f"{what}{exc.strerror or exc}")
        sys.exit(1)


def _refused(code: Code, message: str) -> None:
    """'error: CODE message' on stderr, the message in the command's language."""
    click.echo(f"error: {code} {localize(message, cli_locale())}", err=True)


def cli_locale() -> str:
    """The language of the command's messages: --locale or $XLAR_LOCALE; else the locale setting of
    the book the command opened; else the system's (LC_ALL, LC_MESSAGES, LANG: zh_CN.UTF-8 is
    zh-CN); else English."""
    ctx = click.get_current_context(silent=True)
    obj = (ctx.find_object(Obj) if ctx is not None else None) or Obj(None, "")
    asked = obj.asked_locale() or obj.book_locale
    if asked:
        return asked
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return _language(value)
    return "en"


def _language(value: str) -> str:
    return "zh-CN" if value.replace("_", "-").lower().startswith("zh") else "en"


class XlarGroup(click.Group):
    """The `xlar` group: every command's user errors end in one line (_friendly_errors)."""

    def invoke(self, ctx: click.Context) -> Any:
        with _friendly_errors():
            return super().invoke(ctx)


@click.group(cls=XlarGroup)
@click.option("--store", "store_url", metavar="URL", help="sqlite:///path.db, postgresql://… or a file path "
              "[default: for a command on a workbook, the store it names on its xlar.conf sheet; else "
              "$XLAR_STORE; else xlar.db beside the workbook, or ./xlar.db]")
@click.option("--user", default=None, help="who is acting (audit, roles) [default: $XLAR_USER, else XLAR_USER in "
              "the xlar config file, else the login name]")
@click.option("--locale", "locale", type=click.Choice(["zh-CN", "en"]), default=None,
              help="language of the messages [default: $XLAR_LOCALE, else the book's locale setting, else $LANG]")
@click.version_option(package_name="xlar")
@click.pass_context
def main(ctx: click.Context, store_url: str | None, user: str | None, locale: str | None) -> None:
    """xlar: accounts receivable for accountants who live in Excel."""
    ctx.obj = Obj(store_url, acting_user(user), locale)


@main.command()
@click.option("--company", default="", help="company name shown on reports")
@click.option("--base-currency", default="CNY", show_default=True)
@click.option("--period", type=PERIOD, default=None, help="current AR period [default: this month]")
@click.pass_obj
def init(obj: Obj, company: str, base_currency: str, period: str | None) -> None:
    """Create the store (or bring its schema up to date)."""
    with _friendly_errors():
        store = Store.connect(obj.store_url)
        try:
            fresh = store.schema_revision() is None
            store.upgrade()
            if fresh:
                with store.write() as conn:
                    write_settings(conn, {"company": company, "base_currency": base_currency.upper(),
                                          "current_period": period or period_of(date.today())}, obj.user)
        finally:
            store.dispose()
        click.echo(f"{'created' if fresh else 'up to date'}: {store.safe_url}")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--through", type=ISO_DATE, default=None, help="last day of the demo's three months [default: today]")
@click.option("--replace", is_flag=True, help="replace a demo store already in DIRECTORY")
@click.pass_obj
def demo(obj: Obj, directory: Path, through: date | None, replace: bool) -> None:
    """Create a demo company in a new store in DIRECTORY and print its aging."""
    from xlar.demo import build_demo

    with _friendly_errors():
        summary = build_demo(directory, through or date.today(), user=obj.user, replace=replace)
        click.echo(summary)
    click.echo(_demo_next_steps(directory.resolve()))


def _demo_next_steps(folder: Path) -> str:
    """What to type next, valid from any folder: the workbook finds the xlar.db beside it
    (unless XLAR_STORE names another store: then --store says which)."""
    import shlex

    from xlar.store.config import STORE_KEY, configured

    store = "--store " + shlex.quote(f"sqlite:///{folder / 'xlar.db'}") + " "
    book = shlex.quote(str(folder / "AR.xlsx"))
    return (f"\nnext: type on the workbook's sheets, then\n"
            f"  xlar {store if configured(STORE_KEY) else ''}sync {book}\n"
            f"  xlar {store}report aging --format xlsx -o aging.xlsx")


@main.command()
@click.option("--locale", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def template(locale: str, output: Path) -> None:
    """Write an empty AR workbook (every input sheet, lists, output sheets)."""
    from xlar.store.settings import DEFAULTS
    from xlar.workbook.template import build_template

    build_template(output, locale, {**DEFAULTS, "locale": locale})
    click.echo(f"wrote {output}")


@main.command()
@click.argument("customer")
@click.option("--as-of", type=ISO_DATE, default=None, help="[default: today]")
@click.pass_obj
def balance(obj: Obj, customer: str, as_of: date | None) -> None:
    """A customer's balance as of a date, per currency."""
    with _friendly_errors():
        as_of = as_of or date.today()
        with obj.store() as store, store.read() as conn:
            rows = reports.balances(conn, as_of, customer)
            currency = conn.execute(sa.select(customer_table.c.currency).where(customer_table.c.code == customer)).scalar_one()
        if not rows:   # nothing owed yet: zero in the customer's currency, with its decimals
            click.echo(f"{customer}: {amount_text(from_minor(0, currency))} {currency} as of {as_of.isoformat()}")
        for row in rows:
            click.echo(f"{customer}: {amount_text(row.balance)} {row.currency} as of {as_of.isoformat()}")


@main.command()
@click.argument("workbook", type=WORKBOOK)
@click.option("--dry-run", is_flag=True, help="show what would change; change nothing")
@click.option("--as-of", type=ISO_DATE, default=None, help="date of Balances and Aging [default: today]")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.option("--force", is_flag=True, help="sync although a lock file says the workbook is open in "
                                             "Excel or LibreOffice (a lock left by a program that crashed)")
@click.pass_obj
def sync(obj: Obj, workbook: Path, dry_run: bool, as_of: date | None, as_json: bool, force: bool) -> None:
    """Push the workbook's changes to the store and pull everyone's work back. A workbook open in
    Excel is refused (its ribbon's Sync syncs the open workbook)."""
    from xlar.sync.engine import sync_workbook
    from xlar.workbook.gateway import refuse_open

    with _friendly_errors():
        if not (dry_run or force):
            refuse_open(workbook)   # before the store is touched
        with obj.store(workbook) as store:
            result = sync_workbook(workbook, store, obj.user, dry_run=dry_run, as_of=as_of, force=force)
    if as_json:
        click.echo(json.dumps({
            "changes": dict(result.counts), "plan": dict(result.planned), "written": result.written,
            "dry_run": dry_run,
            "issues": [{"sheet": i.sheet, "row": i.excel_row, "column": i.column, "code": i.code,
                        "message": i.message} for i in result.issues],
            "conflicts": [{"sheet": c.sheet, "key": c.key, "reason": c.reason} for c in result.conflicts],
        }, ensure_ascii=False, indent=2))
    else:
        for issue in result.issues:
            click.echo(str(issue))
        if dry_run and result.planned:   # the sheets' plans, before the store had its say on each row
            click.echo("plan: " + ", ".join(f"{what} {n}" for what, n in sorted(result.planned.items())))
        click.echo(result.summary())
    errors = [i for i in result.issues if not is_warning(i.code)]
    sys.exit(1 if errors or result.conflicts else 0)


@main.group()
def report() -> None:
    """Reports (aging, …)."""


FORMATS = click.Choice(["table", "csv", "json"])
REPORT_FORMATS = click.Choice(["table", "csv", "json", "xlsx"])
LOCALES = click.Choice(["zh-CN", "en"])


def _show(title: str, frame: Any, fmt: str) -> None:
    from xlar.reports.render import frame_csv, frame_json, frame_text

    if fmt == "json":
        click.echo(json.dumps(frame_json(frame), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(frame_csv(frame), nl=False)
    else:
        click.echo(frame_text(title, frame))


def _span(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    to = date_to or date.today()
    return date_from or date(to.year, 1, 1), to


def _report_command(name: str) -> click.Command:
    """`xlar report NAME`: the same options for every report of the catalog."""
    from xlar.reports.catalog import REPORTS

    spec = REPORTS[name]

    @click.pass_obj
    def command(obj: Obj, /, fmt: str, output: Path | None, locale: str | None, as_of: date | None = None,
                date_from: date | None = None, date_to: date | None = None, customer: str | None = None,
                salesperson: str | None = None, **extra: Any) -> None:
        from xlar.reports.catalog import Params, run
        from xlar.reports.render import report_json, report_text, write_report

        if (fmt == "xlsx") != (output is not None):
            raise click.UsageError("-o FILE.xlsx goes with --format xlsx (and only with it)")
        start, end = _span(date_from, date_to)
        with _friendly_errors(), obj.store() as store, store.read() as conn:
            book = read_settings(conn)
            policy = None
            if extra.get("basis") or extra.get("buckets"):
                policy = AgingPolicy.parse(extra.get("basis") or book.aging.basis.value,
                                           extra.get("buckets") or ",".join(map(str, book.aging.edges)))
            params = Params(as_of or date_to or date.today(), start, end, customer, salesperson,
                            locale or book.locale, policy, {k: v for k, v in extra.items() if isinstance(v, str)})
            if customer:
                customer_id(conn, customer)
            result = run(conn, name, params)
            if name == "aging" and fmt in ("json", "csv"):   # the aging's structured formats of issue 3
                aging_report = reports.aging(conn, params.as_of, policy, customer)
                if salesperson:
                    aging_report = reports.AgingReport(aging_report.as_of, aging_report.policy,
                                                       aging_report.base_currency,
                                                       [r for r in aging_report.rows if r.salesperson == salesperson])
        if name == "aging" and fmt == "json":
            click.echo(json.dumps(aging_json(aging_report, result.frame), ensure_ascii=False, indent=2))
        elif name == "aging" and fmt == "csv":
            click.echo(aging_csv(aging_report), nl=False)
        elif fmt == "json":
            click.echo(json.dumps(report_json(result), ensure_ascii=False, indent=2))
        elif fmt == "csv":
            from xlar.reports.render import frame_csv

            click.echo(frame_csv(result.frame), nl=False)   # for programs: stable keys, exact values
        elif fmt == "xlsx":
            assert output is not None
            write_report(result, output)
            click.echo(f"{result.title}: {len(result.frame)} rows -> {output}")
        else:
            click.echo(report_text(result))

    options: list[click.Parameter] = [click.Option(["--as-of"], type=ISO_DATE, default=None, help="[default: --to, else today]")] \
        if spec.as_of else []
    if spec.span:
        options += [
            click.Option(["--from", "date_from"], type=ISO_DATE, default=None, help="[default: 1 Jan of --to's year]"),
            click.Option(["--to", "date_to"], type=ISO_DATE, default=None, help="[default: today]")]
    if spec.customer:
        options.append(click.Option(["--customer"], default=None, help="one customer only"))
    if spec.salesperson:
        options.append(click.Option(["--salesperson"], default=None, help="one salesperson's customers only"))
    options += [
        click.Option(["--format", "fmt"], type=REPORT_FORMATS, default="table", show_default=True),
        click.Option(["-o", "--output"], type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="the xlsx file (--format xlsx)"),
        click.Option(["--locale"], type=LOCALES, default=None, help="[default: the book's setting]"),
    ]
    if name in ("aging", "salesperson-aging"):
        options += [click.Option(["--basis"], type=click.Choice(["due", "document"]), default=None,
                                 help="[default: the setting]"),
                    click.Option(["--buckets"], type=BUCKETS, default=None,
                                 help="bucket edges in days [default: the setting]")]
    if name == "revaluation":
        options.append(click.Option(["--period"], type=PERIOD, default=None,
                                    help="[default: the month of --as-of]"))
    if name == "installments":
        options.append(click.Option(["--contract"], default=None, help="one contract (or order) only"))
    if name == "forecast":
        options.append(click.Option(["--by"], type=click.Choice(["week", "month"]), default="week",
                                    show_default=True))
    return click.Command(name, callback=command, params=options,
                         help=f"{spec.en} ({spec.zh}): {spec.help}.")


def _add_reports() -> None:
    from xlar.reports.catalog import SPECS

    for spec in SPECS:
        report.add_command(_report_command(spec.name))


_add_reports()


@main.group()
def invoice() -> None:
    """Invoices: generate them from deliveries, post, void, reissue."""


@invoice.command("generate")
@click.option("--through", type=ISO_DATE, required=True, help="bill the billing cycles ended by this date")
@click.option("--customer", default=None, help="one billed customer (or a subsidiary of it) only")
@click.option("--dry-run", is_flag=True, help="show what would be created; create nothing")
@click.pass_obj
def generate(obj: Obj, through: date, customer: str | None, dry_run: bool) -> None:
    """Draft invoices from deliveries per customer billing cycle (结帐), with deposit pre-invoices."""
    from xlar.services.billing import generate as run

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        result = run(conn, through, obj.user, customer=customer, dry_run=dry_run)
    for doc_id, planned in result.created:
        click.echo(f"draft #{doc_id}: {planned.describe()}")
    if dry_run:
        for planned in result.planned:
            click.echo(f"would create {planned.describe()}")
    for problem in result.problems:
        click.echo(f"problem: {problem}", err=True)
    click.echo(result.summary())
    sys.exit(1 if result.problems else 0)


@invoice.command("post")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--override-credit", is_flag=True, help="post over the credit limit (approvers only; audited)")
@click.pass_obj
def post(obj: Obj, numbers: tuple[str, ...], override_credit: bool) -> None:
    """Post drafts (DRAFT-12 or 12), all or none."""
    from xlar.services import booking
    from xlar.services import documents as docs

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        drafts = [booking.find(conn, n, lock=True) for n in numbers]
        posting = docs.Posting(override_credit)
        done = docs.post_many(conn, drafts, obj.user, posting)
    for name, number in zip(numbers, done, strict=True):
        click.echo(f"{name} posted as {number}")
    for _doc_id, warning in posting.warnings:
        click.echo(f"warning: {warning}", err=True)


@invoice.command("void")
@click.argument("number")
@click.option("--reason", required=True)
@click.option("--on", "on", type=ISO_DATE, default=None, help="date of the reversal [default: today]")
@click.pass_obj
def void_cmd(obj: Obj, number: str, reason: str, on: date | None) -> None:
    """Void a posted document by a reversal (never by deletion)."""
    from xlar.services import booking

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        doc = booking.find(conn, number, lock=True)
        rev = booking.void(conn, doc["id"], on or date.today(), obj.user, reason)
        rev_number = booking.load(conn, rev)["number"]
    click.echo(f"{number} voided by {rev_number}")


@invoice.command("reissue")
@click.argument("number")
@click.option("--reason", required=True)
@click.option("--on", "on", type=ISO_DATE, default=None, help="date of the reversal [default: today]")
@click.pass_obj
def reissue(obj: Obj, number: str, reason: str, on: date | None) -> None:
    """Void a posted invoice and create its corrected copy as a draft (作废重开)."""
    from xlar.services.billing import reissue as run

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        new_id = run(conn, number, on or date.today(), obj.user, reason)
    click.echo(f"{number} voided; its copy is draft #{new_id} (DRAFT-{new_id}): correct it, then post it")


@main.command()
@click.argument("customer")
@click.option("--as-of", type=ISO_DATE, default=None, help="[default: today]")
@click.pass_obj
def credit(obj: Obj, customer: str, as_of: date | None) -> None:
    """A customer's exposure against its credit limit (its subsidiaries count with it)."""
    from xlar.services.credit import exposure

    with _friendly_errors(), obj.store() as store, store.read() as conn:
        exp = exposure(conn, customer, as_of or date.today(), read_settings(conn))
    cur = exp.currency
    for label, value in (("open AR", exp.open_ar), ("billed, not posted", exp.billed_not_posted),
                         ("delivered, not billed", exp.delivered_not_billed), ("open orders", exp.open_orders),
                         ("exposure", exp.total)):
        click.echo(f"{label:>22}: {amount_text(value)} {cur}")
    limit = "none" if exp.limit is None else f"{amount_text(exp.limit)} {cur}"
    click.echo(f"{'credit limit':>22}: {limit}" + (f" (class {exp.credit_class})" if exp.credit_class else ""))
    if exp.available is not None:
        click.echo(f"{'available':>22}: {amount_text(exp.available)} {cur}")


@main.group()
def receipt() -> None:
    """Receipts (收款单): approve (they are confirmed by posting, on the sheet or with invoice post)."""


@receipt.command("approve")
@click.argument("numbers", nargs=-1, required=True)
@click.pass_obj
def approve(obj: Obj, numbers: tuple[str, ...]) -> None:
    """Approve confirmed receipts (an approver who did not enter them); they are then matched
    to the invoices their reference names (setting match_at_approval)."""
    from xlar.services import booking, receipts

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        done = receipts.approve(conn, [booking.find(conn, n, lock=True)["id"] for n in numbers], obj.user)
    for number in done:
        click.echo(f"{number} approved by {obj.user}")


STRATEGY = click.Choice(["auto", "reference", "exact", "fifo", "installment", "product"])


@main.command()
@click.option("--suggest", "workbook", type=WORKBOOK, default=None,
              help="sync WORKBOOK and add the suggested matches to its Allocations sheet, to edit and commit "
                   "at the next sync")
@click.option("--apply", "apply_now", is_flag=True, help="record the suggested matches now")
@click.option("--strategy", type=STRATEGY, default="auto", show_default=True)
@click.option("--customer", default=None, help="one customer only")
@click.option("--undo", "undo_batch", type=int, default=None, metavar="BATCH", help="undo a match batch")
@click.option("--on", "on", type=ISO_DATE, default=None, help="date of an undo or write-off [default: today]")
@click.pass_obj
def match(obj: Obj, workbook: Path | None, apply_now: bool, strategy: str, customer: str | None,
          undo_batch: int | None, on: date | None) -> None:
    """Match receipts and credits to invoices (到款核销); without --suggest or --apply, list
    what the strategy would match."""
    from xlar.services import matching, suggest

    with _friendly_errors(), obj.store(workbook) as store:
        if undo_batch is not None:
            with store.write() as conn:
                undone = matching.undo(conn, undo_batch, on=on or date.today(), user=obj.user)
            click.echo(f"match batch {undo_batch} undone by batch {undone}")
            return
        if workbook is not None:
            from xlar.sync.engine import Suggest, sync_workbook

            result = sync_workbook(workbook, store, obj.user, suggest=Suggest(strategy, customer))
            click.echo(result.summary())
            return
        with store.write() if apply_now else store.read() as conn:
            proposals = suggest.propose(conn, strategy, customer=customer)
            for p in proposals:
                what = p.credit.number if p.credit else f"write-off ({p.reason_code})"
                click.echo(f"{what:>16} -> {p.debit.number:<16} {amount_text(p.amount):>14} {p.debit.currency}"
                           f"  [{p.method}] {p.reason}")
            applied = suggest.apply(conn, proposals, obj.user, on=on) if apply_now and proposals else None
            if applied is not None and applied.batches:
                click.echo(f"recorded as match batches {', '.join(map(str, applied.batches))}")
            for p, exc in applied.refused if applied is not None else []:
                what = p.credit.number if p.credit else "write-off"
                click.echo(f"refused: {what} -> {p.debit.number} {amount_text(p.amount)} {p.debit.currency}: "
                           f"{exc.code} {localize(exc.message, cli_locale())}", err=True)
        if not proposals:
            click.echo("nothing to match")
        if applied is not None and applied.refused:
            sys.exit(1)


@main.command("write-off")
@click.argument("invoice_number")
@click.option("--amount", type=AMOUNT, required=True, help="what is written off")
@click.option("--reason", "reason_code", required=True, help="a code from the setting write_off_reasons")
@click.option("--installment", type=int, default=1, show_default=True)
@click.option("--on", "on", type=ISO_DATE, default=None, help="[default: today]")
@click.pass_obj
def write_off_cmd(obj: Obj, invoice_number: str, amount: str, reason_code: str, installment: int,
                  on: date | None) -> None:
    """Write off a small open difference of an invoice (within write_off_tolerance, or by an approver)."""
    from xlar.domain.money import parse_decimal
    from xlar.services import booking, settle

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        wo = settle.write_off(conn, invoice_number, parse_decimal(amount), reason_code, on or date.today(),
                              obj.user, installment=installment)
        number = booking.load(conn, wo)["number"]
    click.echo(f"{amount} of {invoice_number} written off by {number}")


@main.command()
@click.argument("number")
@click.option("--to", "to", required=True, help="the customer that takes the balance over")
@click.option("--amount", type=AMOUNT, default=None, help="[default: all that is open]")
@click.option("--installment", type=int, default=1, show_default=True)
@click.option("--reason", default="")
@click.option("--on", "on", type=ISO_DATE, default=None, help="[default: today]")
@click.pass_obj
def transfer(obj: Obj, number: str, to: str, amount: str | None, installment: int, reason: str,
             on: date | None) -> None:
    """Move an open invoice (or an unapplied receipt) to another customer (应收款转销)."""
    from xlar.domain.money import parse_decimal
    from xlar.services import booking, settle

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        old, new = settle.transfer(conn, number, to, on or date.today(), obj.user, installment=installment,
                                   amount=None if amount is None else parse_decimal(amount), reason=reason)
        names = [booking.load(conn, i)["number"] for i in (old, new)]
    click.echo(f"{number} moved to {to}: {names[0]} on the old side, {names[1]} on {to}")


@main.command()
@click.argument("number")
@click.option("--amount", type=AMOUNT, default=None, help="[default: all that is unapplied]")
@click.option("--method", type=click.Choice(["bank", "cash"]), default="bank", show_default=True)
@click.option("--reason", default="")
@click.option("--on", "on", type=ISO_DATE, default=None, help="[default: today]")
@click.pass_obj
def refund(obj: Obj, number: str, amount: str | None, method: str, reason: str, on: date | None) -> None:
    """Pay back the unapplied part of a receipt or credit note."""
    from xlar.domain.money import parse_decimal
    from xlar.services import booking, settle

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        refund_id = settle.refund(conn, number, on or date.today(), obj.user, method=method, reason=reason,
                                  amount=None if amount is None else parse_decimal(amount))
        made = booking.load(conn, refund_id)["number"]
    click.echo(f"{number} refunded by {made}")


@main.command()
@click.argument("customer")
@click.option("--amount", type=AMOUNT, default=None, help="[default: as much as both sides hold]")
@click.option("--currency", default=None, help="[default: the customer's]")
@click.option("--on", "on", type=ISO_DATE, default=None, help="[default: today]")
@click.pass_obj
def net(obj: Obj, customer: str, amount: str | None, currency: str | None, on: date | None) -> None:
    """Net a customer-vendor's payables (Payables sheet) against its receivables (应收应付对冲)."""
    from xlar.domain.money import parse_decimal
    from xlar.services import booking, settle

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        doc_id = settle.net(conn, customer, on or date.today(), obj.user, currency=currency,
                            amount=None if amount is None else parse_decimal(amount))
        doc = booking.load(conn, doc_id)
        netted = from_minor(doc["amount_minor"], doc["currency"])
    click.echo(f"{customer}: {amount_text(netted)} {doc['currency']} of payables and receivables netted by "
               f"{doc['number']}")


@main.command("void")
@click.argument("number")
@click.option("--reason", required=True)
@click.option("--on", "on", type=ISO_DATE, default=None, help="[default: today]")
@click.pass_obj
def void_settlement(obj: Obj, number: str, reason: str, on: date | None) -> None:
    """Void a write-off, refund, netting or transfer (its matches undone first)."""
    from xlar.services import settle

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        reversals = settle.void(conn, number, on or date.today(), obj.user, reason)
    click.echo(f"{number} voided by {', '.join(reversals)}")


@main.group()
def bank() -> None:
    """Bank statements: import, resolve the exception queue."""


@bank.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "mt940", "camt053"]), default=None,
              help="[default: detected]")
@click.option("--workbook", type=WORKBOOK, default=None,
              help="sync this workbook afterwards (BankLines, BankExceptions, the draft receipts); the store "
                   "is the workbook's")
@click.pass_obj
def bank_import(obj: Obj, file: Path, fmt: str | None, workbook: Path | None) -> None:
    """Import a statement (CSV, MT940, CAMT.053): sure lines become draft receipts, the rest
    wait in the exception queue with the reason; a file imported twice adds nothing."""
    from xlar.services import bank as service

    with _friendly_errors(), obj.store(workbook) as store:
        with store.write() as conn:
            result = service.import_statement(conn, file.read_bytes(), file.name, obj.user, fmt=fmt)
        click.echo(result.summary())
        if workbook is not None:
            from xlar.sync.engine import sync_workbook

            click.echo(sync_workbook(workbook, store, obj.user).summary())


@bank.command("resolve")
@click.argument("line", type=int)
@click.option("--customer", required=True)
@click.option("--invoice", "invoices", multiple=True, help="an invoice the money pays (repeatable)")
@click.pass_obj
def bank_resolve(obj: Obj, line: int, customer: str, invoices: tuple[str, ...]) -> None:
    """Make a draft receipt of a queued bank line, for CUSTOMER."""
    from xlar.services import bank as service

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        receipt_id = service.resolve(conn, line, customer, obj.user, invoices=invoices)
    click.echo(f"bank line {line}: draft receipt DRAFT-{receipt_id} for {customer}")


@main.command("close")
@click.option("--period", type=PERIOD, required=True)
@click.option("--reopen", is_flag=True, help="reopen the latest closed month (admins, with --reason)")
@click.option("--reason", default="", help="why the month is reopened (audited)")
@click.option("--recompute", is_flag=True, help="rebuild the month's statistics from the ledger, show the "
              "differences against the stored snapshot, then replace it")
@click.option("--dry-run", is_flag=True, help="with --recompute: only show the differences")
@click.pass_obj
def close_month(obj: Obj, period: str, reopen: bool, reason: str, recompute: bool, dry_run: bool) -> None:
    """Month-end close (应收月结): refuse while anything is unfinished (and list it), snapshot
    MonthlyStats per customer, lock the month."""
    from xlar.services import close

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        if reopen:
            still = close.reopen(conn, period, obj.user, reason)
            click.echo(f"{period} reopened by {obj.user}; closed through {still}")
            return
        if recompute:
            found = close.recompute(conn, period, obj.user, apply=not dry_run)
            base = read_settings(conn).base_currency
            for d in found:
                cur = base if d.column.startswith("base_") else d.currency
                click.echo(f"{d.customer} {d.currency} {d.column}: stored {_minor(d.stored, cur)} "
                           f"-> ledger {_minor(d.computed, cur)}")
            click.echo(f"{period}: {len(found)} difference(s)"
                       + ("" if dry_run else "; the snapshot now holds the ledger's figures"))
            return
        result = close.close(conn, period, obj.user, today=date.today())
        if result.blockers:
            for blocker in result.blockers:
                click.echo(f"  {blocker}", err=True)
            _refused(Code.E030, f"{period} cannot close: {len(result.blockers)} thing(s) to finish first (above)")
            sys.exit(1)
    click.echo(f"{period} closed: MonthlyStats for {result.customers} customer-currencies; "
               f"current period {result.current_period}")


def _minor(value: int | None, currency: str) -> str:
    return "-" if value is None else amount_text(from_minor(value, currency))


@main.command()
@click.option("--period", type=PERIOD, required=True)
@click.option("--preview", is_flag=True, help="only show what would be booked")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
def revalue(obj: Obj, period: str, preview: bool, fmt: str) -> None:
    """FX revaluation (期末调汇): bring open foreign-currency items to the period's rate
    (FxRates); the differences reverse on the 1st of the next month."""
    from xlar.reports.fx import revaluation
    from xlar.services import fx

    with _friendly_errors(), obj.store() as store:
        with store.read() as conn:
            frame = revaluation(conn, period)
        _show(f"Revaluation {period}{' (preview)' if preview else ''}", frame, fmt)
        if preview:
            return
        with store.write() as conn:
            numbers = fx.revalue(conn, period, obj.user)
    click.echo(f"{period}: {', '.join(numbers) if numbers else 'nothing to book: every item is revalued'}",
               err=fmt != "table")


@main.group("journal")
def journal_group() -> None:
    """The general-ledger journal of posted documents."""


@journal_group.command("export")
@click.option("--period", type=PERIOD, default=None, help="one month [default: --from/--to]")
@click.option("--from", "date_from", type=ISO_DATE, default=None)
@click.option("--to", "date_to", type=ISO_DATE, default=None)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def journal_export(obj: Obj, period: str | None, date_from: date | None, date_to: date | None, fmt: str,
                   output: Path) -> None:
    """Write the journal lines (account, debit, credit, currency, base amounts, document,
    customer) for import into a general ledger."""
    from xlar.domain.periods import first_day, last_day
    from xlar.reports.journal import journal
    from xlar.reports.render import write_frame

    with _friendly_errors(), obj.store() as store, store.read() as conn:
        if period:
            date_from, date_to = first_day(period), last_day(period)
        frame = journal(conn, date_from, date_to or date.today())
    write_frame(frame, output, fmt, "Journal")
    click.echo(f"wrote {len(frame)} journal lines to {output}")


@main.command()
@click.option("--as-of", type=ISO_DATE, default=None, help="[default: today]")
@click.option("--month-ends", is_flag=True, help="prove every month end from the first document on, too")
@click.pass_obj
def check(obj: Obj, as_of: date | None, month_ends: bool) -> None:
    """Prove the book: debits = credits; AR control = open items = aging buckets (exit 1 if not)."""
    from xlar.reports.journal import proof
    from xlar.services.close import month_ends as ends_of
    from xlar.store.tables import documents

    as_of = as_of or date.today()
    with _friendly_errors(), obj.store() as store, store.snapshot() as conn:
        dates = [as_of]
        first = conn.execute(sa.select(sa.func.min(documents.c.doc_on))).scalar()
        if month_ends and first is not None:
            dates = sorted({*ends_of(first, as_of), as_of})
        proofs = [proof(conn, on) for on in dates]
        chain, ledger = _verify_book(conn, [])
    for found in proofs:
        click.echo(found.text())
    bad = [p.as_of.isoformat() for p in proofs if not p.holds]
    if bad:
        _refused(Code.E090, f"the book does not hold together as of {', '.join(bad)}")
    if not _report_verified(chain, ledger) or bad:
        sys.exit(1)


def _verify_book(conn: Connection, anchors: list[tuple[int, str]]) -> tuple[audit.Verdict, seals.LedgerVerdict]:
    """The audit chain (held against ANCHORS and the heads the month-end closes noted) and
    every row of the book against its seal."""
    from xlar.services.close import periods_closed

    closes = [(int(p["chain_seq"]), str(p["chain_hash"])) for p in periods_closed(conn) if p["chain_seq"]]
    chain = audit.verify(conn, [*closes, *anchors])
    return chain, seals.verify(conn, chain.seals)


def _report_verified(chain: audit.Verdict, ledger: seals.LedgerVerdict) -> bool:
    click.echo(chain.text())
    click.echo(ledger.text())
    if not chain.holds:
        _refused(Code.E091, "the audit log was changed outside xlar")
    if not ledger.holds:
        _refused(Code.E092, "rows of the book were changed outside xlar: an admin who has checked them takes them "
                            "as they are with `xlar audit accept`")
    return chain.holds and ledger.holds


def _anchor(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[tuple[int, str]]:
    anchors = []
    for value in values:
        place, _, digest = value.partition(":")
        if not place.isdigit() or len(digest) != 64 or not all(c in "0123456789abcdefABCDEF" for c in digest):
            raise click.BadParameter(f"{value!r} is not SEQ:HASH (as `xlar audit verify` prints the head)")
        anchors.append((int(place), digest.lower()))
    return anchors


@main.group("audit")
def audit_group() -> None:
    """The audit log: every change, who made it and when, in a hash chain."""


@audit_group.command("verify")
@click.option("--anchor", "anchors", multiple=True, callback=_anchor, metavar="SEQ:HASH",
              help="a head noted earlier, outside the store (repeatable): the log must still hold it")
@click.pass_obj
def audit_verify(obj: Obj, anchors: list[tuple[int, str]]) -> None:
    """Walk the audit chain; name the first record edited, deleted, inserted or moved
    directly in the database, and every row of the book that is not as xlar wrote it (exit 1).
    Prints the head to note as a later anchor."""
    with _friendly_errors(), obj.store() as store, store.snapshot() as conn:
        chain, ledger = _verify_book(conn, anchors)
    if not _report_verified(chain, ledger):
        sys.exit(1)


@audit_group.command("accept")
@click.option("--yes", is_flag=True, help="accept without asking")
@click.pass_obj
def audit_accept(obj: Obj, yes: bool) -> None:
    """Take the rows changed outside xlar as they now are (admins): each is audited in your
    name with its content, and sealed. Check them first (`xlar check` names them)."""
    with _friendly_errors(), obj.store() as store, store.write() as conn:
        book = read_settings(conn)
        if not book.may_administer(obj.user):
            raise NotAllowed(f"{obj.user} cannot accept rows changed outside xlar: it needs the admin role"
                             + (f" ({', '.join(sorted(book.admins))})" if book.admins
                                else "; no admin is set (Settings: admins)"))
        found = seals.differences(conn)
        if not found:
            click.echo("nothing to accept: every row is as xlar wrote it")
            return
        for d in found:
            click.echo(f"  {d.text()}")
        if not yes and not click.confirm(f"accept these {len(found)} row(s) as they are?", default=False):
            raise click.Abort()
        seals.accept(conn, obj.user, found)
    click.echo(f"accepted {len(found)} row(s) changed outside xlar (audited as {obj.user})")


@main.group("import")
def import_group() -> None:
    """Import data from the system the book replaces."""


@import_group.command("opening")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def import_opening(obj: Obj, file: Path) -> None:
    """Opening balances (期初余额) from a CSV or xlsx: customer, original number, date, due date,
    currency, FX rate, amount, open amount, memo. Bad rows are listed; the rest is imported."""
    from xlar.services.opening import import_opening as service

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        result = service(conn, file, obj.user)
    for issue in result.issues:
        click.echo(str(issue), err=True)
    click.echo(f"{len(result.documents)} opening balance(s) imported"
               + (f", {len(result.skipped)} imported before" if result.skipped else "")
               + (f", {len(result.issues)} row(s) refused" if result.issues else ""))
    sys.exit(1 if result.issues else 0)


@main.command()
@click.argument("customers", nargs=-1)
@click.option("--all", "everyone", is_flag=True, help="every customer with a balance at the end")
@click.option("--from", "date_from", type=ISO_DATE, default=None, help="[default: the 1st of --to's month]")
@click.option("--to", "date_to", type=ISO_DATE, default=None, help="[default: today]")
@click.option("--cycle", type=PERIOD, default=None,
              help="each customer's billing cycle closing in that month (by its closing day), instead of --from/--to")
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx"]), default="pdf", show_default=True)
@click.option("--locale", type=LOCALES, default=None, help="[default: the book's setting]")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="folder the statements are written to")
@click.pass_obj
def statement(obj: Obj, customers: tuple[str, ...], everyone: bool, date_from: date | None, date_to: date | None,
              cycle: str | None, fmt: str, locale: str | None, output: Path) -> None:
    """Statements of account (对账单) as PDF or xlsx: one customer, several, or --all with a balance."""
    from xlar.reports.pdf import statement_pdf
    from xlar.reports.statements import (
        Span,
        cycle_spans,
        file_name,
        statement_xlsx,
        statements,
        unique_names,
    )

    if not customers and not everyone:
        raise click.UsageError("name the customers, or --all")
    with _friendly_errors():
        with obj.store() as store, store.read() as conn:
            for code in customers:
                customer_id(conn, code)
            book = read_settings(conn)
            if cycle:
                spans: Any = cycle_spans(conn, cycle, list(customers) or None)
            else:
                end = date_to or date.today()
                spans = Span(date_from or end.replace(day=1), end)
            papers = statements(conn, spans, locale or book.locale, date.today(), list(customers) or None,
                                with_balance_only=everyone and not customers)
        output.mkdir(parents=True, exist_ok=True)
        names = unique_names(p.customer.code for p in papers)
        written: set[Path] = set()
        with _batch_fonts(papers if fmt == "pdf" else []) as fonts, \
                click.progressbar(papers, label="statements", file=sys.stderr, show_pos=True,
                                  item_show_func=lambda p: p.customer.code if p else None) as bar:
            for paper in bar:
                path = _fresh(output / file_name(paper, f".{fmt}", names), written)
                if fmt == "pdf":
                    statement_pdf(paper, path, fonts)
                else:
                    statement_xlsx(paper, path)
    click.echo(f"{len(written)} statement(s) written to {output}")


def _fresh(path: Path, written: set[Path]) -> Path:
    """PATH, noted as written by this batch; a second file of the batch by that name is a fault."""
    if path in written:
        raise RuntimeError(f"two files of one batch would be {path.name}")
    written.add(path)
    return path


@contextmanager
def _batch_fonts(papers: Any) -> Iterator[Any]:
    """The CJK font cut once for the whole batch (in a temporary folder)."""
    import tempfile

    from xlar.reports.pdf import BatchFonts

    with tempfile.TemporaryDirectory(prefix="xlar-fonts-") as folder:
        yield BatchFonts(list(papers), Path(folder))


@main.group()
def collections() -> None:
    """Collections (催收): the worklist is `xlar report worklist`; letters to send here."""


@collections.command("letters")
@click.option("--as-of", type=ISO_DATE, default=None, help="[default: today]")
@click.option("--customer", default=None, help="one customer only")
@click.option("--salesperson", default=None, help="one salesperson's customers only")
@click.option("--locale", type=LOCALES, default=None, help="[default: the book's setting]")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--record", is_flag=True, help="record each reminder as a Contacts row (who, when, which level)")
@click.option("--sender", default=None, help="From: address of the .eml files [default: the company email]")
@click.pass_obj
def letters_cmd(obj: Obj, as_of: date | None, customer: str | None, salesperson: str | None, locale: str | None,
                output: Path, record: bool, sender: str | None) -> None:
    """Dunning letters (催收函) at each customer's reminder level: a PDF and an .eml ready to send."""
    from xlar.reports.dunning import eml, letters
    from xlar.reports.pdf import letter_pdf
    from xlar.reports.statements import unique_names
    from xlar.services.collections import record_reminders, worklist

    as_of = as_of or date.today()
    with _friendly_errors():
        with obj.store() as store, store.read() as conn:
            if customer:
                customer_id(conn, customer)
            book = read_settings(conn)
            language = locale or book.locale
            work = worklist(conn, as_of, customer, salesperson, language)
            papers = letters(conn, work, as_of, language)
        output.mkdir(parents=True, exist_ok=True)
        word = "催收函" if language == "zh-CN" else "reminder"
        names = unique_names(p.customer.code for p in papers)
        written: set[Path] = set()
        with _batch_fonts(papers) as fonts, \
                click.progressbar(papers, label="letters", file=sys.stderr, show_pos=True) as bar:
            for paper in bar:
                stem = f"{word}_{names[paper.customer.code]}_L{paper.level}_{as_of}"
                pdf = letter_pdf(paper, _fresh(output / f"{stem}.pdf", written), fonts)
                _fresh(output / f"{stem}.eml", written).write_bytes(
                    eml(paper, pdf, sender or book.company_email or "ar@localhost"))
        sent = [w for w in work if w.level is not None and w.items]
        if record and sent:
            with obj.store() as store, store.write() as conn:
                record_reminders(conn, sent, as_of, obj.user)
    held = sum(1 for w in work if w.level is None)
    click.echo(f"{len(written) // 2} letter(s) written to {output}" + (f", {held} customer(s) held or not due" if held else "")
               + (", recorded on Contacts" if record and sent else ""))


@main.command()
@click.option("--as-of", type=ISO_DATE, default=None, help="[default: today]")
@click.option("--locale", type=LOCALES, default=None, help="[default: the book's setting]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def dashboard(obj: Obj, as_of: date | None, locale: str | None, output: Path) -> None:
    """The Dashboard workbook (仪表板): KPIs and native Excel charts, no add-in needed."""
    from xlar.reports.dashboard import build_dashboard
    from xlar.reports.kpis import dashboard_data

    with _friendly_errors(), obj.store() as store, store.read() as conn:
        data = dashboard_data(conn, as_of or date.today(), locale or read_settings(conn).locale)
    build_dashboard(data, output)
    click.echo(f"dashboard as of {data.as_of} -> {output}")


@main.command()
@click.argument("code", required=False)
def codes(code: str | None) -> None:
    """What xlar's codes mean (XLAR-E… refuses, XLAR-W… warns): all of them, or CODE's."""
    from xlar.domain.codes import CODES, meaning

    if code is not None and code.upper() not in CODES:
        raise click.BadParameter(f"{code} is not one of xlar's codes (`xlar codes` lists them)", param_hint="CODE")
    for each in [Code(code.upper())] if code is not None else list(Code):
        click.echo(f"{each} {meaning(each, cli_locale())}")


@main.group()
def excel() -> None:
    """The Excel add-in (AR 应收 ribbon tab, =AR_BALANCE and the other worksheet functions)."""


_STARTUP = click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Excel's startup folder [default: XLSTART on Windows, Excel's on a Mac]")


@excel.command("build")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("xlar.xlam"),
              show_default=True)
def excel_build(output: Path) -> None:
    """Build xlar.xlam from macros/ and the installed xlwings (same sources, same bytes)."""
    from xlar.addin.build import build

    with _friendly_errors():
        click.echo(f"add-in -> {build(output)}")


@excel.command("install")
@_STARTUP
def excel_install(folder: Path | None) -> None:
    """Put the add-in in Excel's startup folder, set to run this Python (close Excel first)."""
    from xlar.addin.build import install

    with _friendly_errors():
        for line in install(folder):
            click.echo(line)


@excel.command("uninstall")
@_STARTUP
def excel_uninstall(folder: Path | None) -> None:
    """Take the add-in out of Excel's startup folder."""
    from xlar.addin.build import uninstall

    with _friendly_errors():
        for line in uninstall(folder):
            click.echo(line)


@excel.command("status")
@_STARTUP
def excel_status(folder: Path | None) -> None:
    """Is the add-in installed, is it this version's, which Python and store does it use."""
    from xlar.addin.build import status

    with _friendly_errors():
        for line in status(folder).lines():
            click.echo(line)


@excel.command("run")
@click.argument("tag")
@click.option("--workbook", type=WORKBOOK, required=True)
@click.option("--as-of", type=ISO_DATE, default=None, help="[default: today]")
@click.option("--yes", is_flag=True, help="answer yes to the action's questions")
@click.option("--file", "chosen", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="the file an action asks for (Import bank statement)")
@click.option("--answer", default=None, help="the answer an action asks for (Reports: the report's name)")
@click.pass_obj
def excel_run(obj: Obj, tag: str, workbook: Path, as_of: date | None, yes: bool, chosen: Path | None,
              answer: str | None) -> None:
    """Run a ribbon button's action (TAG: sync, post, close …) on a workbook file, as Excel would."""
    from xlar.actions.ribbon import ACTIONS, run
    from xlar.actions.session import Session, TerminalUi
    from xlar.sync.recovery import finish_interrupted_sync
    from xlar.workbook.gateway import FileGateway, refuse_open

    if tag not in ACTIONS:
        raise click.BadParameter(f"one of {', '.join(ACTIONS)}", param_hint="TAG")
    with _friendly_errors():
        refuse_open(workbook)
        store = Store.open(obj.url_for(workbook))
        try:
            finished = finish_interrupted_sync(workbook, store)
            with FileGateway(workbook) as gateway:
                outcome = run(tag, Session(gateway, store, obj.user, as_of or date.today(),
                                           TerminalUi(yes, chosen, answer), workbook.parent))
        finally:
            store.dispose()
        if finished:
            click.echo(finished)
    sys.exit(1 if outcome.refused else 0)


if __name__ == "__main__":
    main()
