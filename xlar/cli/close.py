"""Month end and proof: close, revaluation, the journal, check and the audit log."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.cli.base import (
    FORMATS,
    ISO_DATE,
    PERIOD,
    Obj,
    _friendly_errors,
    _minor,
    _refused,
    _show,
    main,
)
from xlar.domain.codes import Code
from xlar.domain.errors import NotAllowed
from xlar.store import audit, sealcheck
from xlar.store.settings import read_settings


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


def _verify_book(conn: Connection, anchors: list[tuple[int, str]]) -> tuple[audit.Verdict, sealcheck.LedgerVerdict]:
    """The audit chain (held against ANCHORS and the heads the month-end closes noted) and
    every row of the book against its seal."""
    from xlar.services.close import periods_closed

    closes = [(p.chain_seq, str(p.chain_hash)) for p in periods_closed(conn) if p.chain_seq]
    chain = audit.verify(conn, [*closes, *anchors])
    return chain, sealcheck.verify(conn, chain.seals)


def _report_verified(chain: audit.Verdict, ledger: sealcheck.LedgerVerdict) -> bool:
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
        found = sealcheck.differences(conn)
        if not found:
            click.echo("nothing to accept: every row is as xlar wrote it")
            return
        for d in found:
            click.echo(f"  {d.text()}")
        if not yes and not click.confirm(f"accept these {len(found)} row(s) as they are?", default=False):
            raise click.Abort()
        sealcheck.accept(conn, obj.user, found)
    click.echo(f"accepted {len(found)} row(s) changed outside xlar (audited as {obj.user})")
