"""Setting a book up and keeping a workbook in step: init, demo, template, sync, balance, opening balances, codes."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
import sqlalchemy as sa

from xlar.cli.base import (
    ISO_DATE,
    PERIOD,
    WORKBOOK,
    Obj,
    _friendly_errors,
    cli_locale,
    main,
)
from xlar.domain.codes import Code, is_warning
from xlar.domain.money import from_minor
from xlar.domain.periods import period_of
from xlar.reports import ledger as reports
from xlar.reports.render import amount_text
from xlar.store.engine import Store
from xlar.store.settings import write_settings
from xlar.store.tables import customers as customer_table


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
@click.argument("code", required=False)
def codes(code: str | None) -> None:
    """What xlar's codes mean (XLAR-E… refuses, XLAR-W… warns): all of them, or CODE's."""
    from xlar.domain.codes import CODES, meaning

    if code is not None and code.upper() not in CODES:
        raise click.BadParameter(f"{code} is not one of xlar's codes (`xlar codes` lists them)", param_hint="CODE")
    for each in [Code(code.upper())] if code is not None else list(Code):
        click.echo(f"{each} {meaning(each, cli_locale())}")
