"""The `xlar` command: thin click commands over the services."""

from __future__ import annotations

import getpass
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

from xlar.domain.aging import AgingPolicy
from xlar.domain.errors import XlarError
from xlar.domain.periods import period_of
from xlar.reports import ledger as reports
from xlar.reports.render import aging_csv, aging_json, aging_text, amount_text
from xlar.store.engine import Store
from xlar.store.settings import read_settings, write_settings

F = TypeVar("F", bound=Callable[..., Any])


class IsoDate(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-03-31", param, ctx)


ISO_DATE = IsoDate()


class Obj:
    """Shared state of one invocation (ctx.obj): which store, which user."""

    def __init__(self, store_url: str | None, user: str) -> None:
        self.store_url = store_url
        self.user = user

    @contextmanager
    def store(self) -> Iterator[Store]:
        """The opened store, closed again when the command is done."""
        store = Store.open(self.store_url)
        try:
            yield store
        finally:
            store.dispose()


@contextmanager
def _friendly_errors() -> Iterator[None]:
    """User errors and unreachable stores end in one line and exit 1, never a traceback."""
    try:
        yield
    except XlarError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except sa.exc.OperationalError as exc:
        click.echo(f"error: XLAR-E050 store unavailable: {str(exc.orig).strip().splitlines()[0]}", err=True)
        sys.exit(1)


@click.group()
@click.option("--store", "store_url", metavar="URL", help="sqlite:///path.db, postgresql://… or a file path "
              "[default: $XLAR_STORE, else ./xlar.db]")
@click.option("--user", envvar="XLAR_USER", default=None, help="who is acting (audit) [default: login name]")
@click.version_option(package_name="xlar")
@click.pass_context
def main(ctx: click.Context, store_url: str | None, user: str | None) -> None:
    """xlar: accounts receivable for accountants who live in Excel."""
    ctx.obj = Obj(store_url, user or os.environ.get("USER") or getpass.getuser())


@main.command()
@click.option("--company", default="", help="company name shown on reports")
@click.option("--base-currency", default="CNY", show_default=True)
@click.option("--period", default=None, help="current AR period, YYYY-MM [default: this month]")
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
        if not rows:
            click.echo(f"{customer}: 0 as of {as_of.isoformat()}")
        for row in rows:
            click.echo(f"{customer}: {amount_text(row.balance)} {row.currency} as of {as_of.isoformat()}")


@main.command()
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="show what would change; change nothing")
@click.option("--as-of", type=ISO_DATE, default=None, help="date of Balances and Aging [default: today]")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.pass_obj
def sync(obj: Obj, workbook: Path, dry_run: bool, as_of: date | None, as_json: bool) -> None:
    """Push the workbook's changes to the store and pull everyone's work back."""
    from xlar.sync.engine import sync_workbook

    with _friendly_errors(), obj.store() as store:
        result = sync_workbook(workbook, store, obj.user, dry_run=dry_run, as_of=as_of)
    if as_json:
        click.echo(json.dumps({
            "changes": dict(result.counts), "written": result.written, "dry_run": dry_run,
            "issues": [{"sheet": i.sheet, "row": i.excel_row, "column": i.column, "code": i.code,
                        "message": i.message} for i in result.issues],
            "conflicts": [{"sheet": c.sheet, "key": c.key, "reason": c.reason} for c in result.conflicts],
        }, ensure_ascii=False, indent=2))
    else:
        for issue in result.issues:
            click.echo(str(issue))
        click.echo(result.summary())
    errors = [i for i in result.issues if not i.code.startswith("XLAR-W")]
    sys.exit(1 if errors or result.conflicts else 0)


@main.group()
def report() -> None:
    """Reports (aging, …)."""


@report.command("aging")
@click.option("--as-of", type=ISO_DATE, default=None, help="[default: today]")
@click.option("--basis", type=click.Choice(["due", "document"]), default=None, help="[default: the setting]")
@click.option("--buckets", default=None, metavar="30,60,90", help="bucket edges in days [default: the setting]")
@click.option("--customer", default=None, help="one customer only")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_obj
def aging(obj: Obj, as_of: date | None, basis: str | None, buckets: str | None, customer: str | None,
          fmt: str) -> None:
    """Customer aging as of any date; buckets add up to each balance."""
    with _friendly_errors():
        with obj.store() as store, store.read() as conn:
            policy = None
            if basis or buckets:
                book = read_settings(conn).aging
                policy = AgingPolicy.parse(basis or book.basis.value,
                                           buckets or ",".join(map(str, book.edges)))
            result = reports.aging(conn, as_of or date.today(), policy, customer)
        if fmt == "json":
            click.echo(json.dumps(aging_json(result), ensure_ascii=False, indent=2))
        elif fmt == "csv":
            click.echo(aging_csv(result), nl=False)
        else:
            click.echo(aging_text(result))


if __name__ == "__main__":
    main()
