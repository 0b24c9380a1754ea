"""Reports, statements, collection letters and the dashboard."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from xlar.cli.base import (
    BUCKETS,
    ISO_DATE,
    LOCALES,
    PERIOD,
    REPORT_FORMATS,
    Obj,
    _friendly_errors,
    _span,
    main,
)
from xlar.domain.aging import AgingPolicy
from xlar.reports import ledger as reports
from xlar.reports.render import aging_csv, aging_json
from xlar.services.customers import customer_id
from xlar.store.settings import read_settings


@main.group()
def report() -> None:
    """Reports (aging, …)."""


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

    from xlar.reports.pdf_fonts import BatchFonts

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
