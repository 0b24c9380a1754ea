"""`xlar excel …`: the add-in file (build, install, status) and a ribbon button's action on a file."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from xlar.cli.base import (
    ISO_DATE,
    WORKBOOK,
    Obj,
    _friendly_errors,
    main,
)
from xlar.store.engine import Store


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
