"""Documents and money: invoices, receipts, matching, settlements, the bank."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from xlar.cli.base import (
    AMOUNT,
    ISO_DATE,
    WORKBOOK,
    Obj,
    _friendly_errors,
    cli_locale,
    main,
)
from xlar.domain.money import parse_decimal
from xlar.reports.render import amount_text
from xlar.schema.messages import localize
from xlar.store.settings import read_settings


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
    from xlar.services import posting as posting_service
    from xlar.store import documents as stored

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        drafts = [stored.find(conn, n, lock=True) for n in numbers]
        posting = posting_service.Posting(override_credit)
        done = posting_service.post_many(conn, drafts, obj.user, posting)
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
    from xlar.store import documents as stored

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        doc = stored.find(conn, number, lock=True)
        rev = booking.void(conn, doc.id, on or date.today(), obj.user, reason)
        rev_number = stored.load(conn, rev).number
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
    from xlar.services import receipts
    from xlar.store import documents as stored

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        done = receipts.approve(conn, [stored.find(conn, n, lock=True).id for n in numbers], obj.user)
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
    from xlar.services import settle
    from xlar.store import documents as stored

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        wo = settle.write_off(conn, invoice_number, parse_decimal(amount), reason_code, on or date.today(),
                              obj.user, installment=installment)
        number = stored.load(conn, wo).number
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
    from xlar.services import settle
    from xlar.store import documents as stored

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        old, new = settle.transfer(conn, number, to, on or date.today(), obj.user, installment=installment,
                                   amount=None if amount is None else parse_decimal(amount), reason=reason)
        names = [stored.load(conn, i).number for i in (old, new)]
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
    from xlar.services import settle
    from xlar.store import documents as stored

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        refund_id = settle.refund(conn, number, on or date.today(), obj.user, method=method, reason=reason,
                                  amount=None if amount is None else parse_decimal(amount))
        made = stored.load(conn, refund_id).number
    click.echo(f"{number} refunded by {made}")


@main.command()
@click.argument("customer")
@click.option("--amount", type=AMOUNT, default=None, help="[default: as much as both sides hold]")
@click.option("--currency", default=None, help="[default: the customer's]")
@click.option("--on", "on", type=ISO_DATE, default=None, help="[default: today]")
@click.pass_obj
def net(obj: Obj, customer: str, amount: str | None, currency: str | None, on: date | None) -> None:
    """Net a customer-vendor's payables (Payables sheet) against its receivables (应收应付对冲)."""
    from xlar.services import settle
    from xlar.store import documents as stored

    with _friendly_errors(), obj.store() as store, store.write() as conn:
        doc_id = settle.net(conn, customer, on or date.today(), obj.user, currency=currency,
                            amount=None if amount is None else parse_decimal(amount))
        doc = stored.load(conn, doc_id)
    click.echo(f"{customer}: {amount_text(doc.amount.amount)} {doc.currency} of payables and receivables netted by "
               f"{doc.number}")


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
