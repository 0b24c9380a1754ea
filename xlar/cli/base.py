"""The `xlar` command's group, its shared option types and how it reports errors."""

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

from xlar.domain.aging import AgingPolicy
from xlar.domain.codes import Code
from xlar.domain.errors import XlarError
from xlar.domain.money import from_minor, parse_decimal
from xlar.domain.periods import parse_period
from xlar.reports.render import amount_text
from xlar.schema.cells import EARLIEST, LATEST
from xlar.schema.messages import localize
from xlar.store.config import acting_user
from xlar.store.engine import Store
from xlar.store.settings import read_settings

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


def _minor(value: int | None, currency: str) -> str:
    return "-" if value is None else amount_text(from_minor(value, currency))
