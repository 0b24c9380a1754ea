"""One click of a button (Session), how it asks (Ui) and what comes of it (Outcome)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

from xlar.domain.codes import is_warning
from xlar.store.engine import Store
from xlar.sync.engine import Suggest, sync_book
from xlar.sync.report import SyncReport
from xlar.workbook.gateway import WorkbookGateway
from xlar.workbook.reader import book_locale

Status = Literal["done", "cancelled", "refused"]

REFUSED = {"en": "error: ", "zh-CN": "错误："}   # how what an action tells starts when it refused


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of an action. TOLD is the whole message the accountant reads, in the book's
    language (a refusal's starts 'error: CODE', '错误：CODE' in a zh-CN book); COUNTS are what its
    syncs and its service did ('Invoices added': 3, 'posted': 2); FILES are what it made."""

    status: Status
    told: str
    code: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    files: tuple[Path, ...] = ()

    @property
    def refused(self) -> bool:
        return self.status == "refused"


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
    """One click of a button: on which workbook, store and date, by whom, asking whom. It
    counts what its syncs and the action did, for the Outcome."""

    book: WorkbookGateway
    store: Store
    user: str
    as_of: date
    ui: Ui
    folder: Path          # where files the action makes are written (the workbook's folder)
    locale: str = field(init=False)   # the workbook's language (its sheets' titles): what the accountant is told in
    counts: Counter[str] = field(init=False, default_factory=Counter)
    files: list[Path] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.locale = book_locale(self.book.titles())   # once: in Excel each look at the titles is a call to it

    def sync(self, suggest: Suggest | None = None) -> SyncReport:
        report = sync_book(self.book, self.store, self.user, as_of=self.as_of, suggest=suggest)
        self.counts.update(report.counts)
        problems = sum(1 for i in report.issues if not is_warning(i.code))
        if problems:
            self.counts["problems"] += problems
        return report

    def say(self, en: str, zh: str) -> str:
        return zh if self.locale == "zh-CN" else en

    def done(self, told: str, **counts: int) -> Outcome:
        self.counts.update({what: n for what, n in counts.items() if n})
        return Outcome("done", told, None, dict(self.counts), tuple(self.files))

    def cancelled(self, told: str) -> Outcome:
        return Outcome("cancelled", told, None, dict(self.counts), tuple(self.files))

    def refused(self, code: str, message: str) -> Outcome:
        """A refusal as the accountant is told it: 'error: XLAR-E030 …', '错误：XLAR-E030 …' in a zh-CN book."""
        return Outcome("refused", refusal(self.locale, code, message), code, dict(self.counts), tuple(self.files))

    def made(self, path: Path) -> Path:
        """PATH, a file made for the accountant: shown to them and named in the Outcome."""
        self.files.append(path)
        self.ui.show(path)
        return path


def refusal(locale: str, code: str, message: str) -> str:
    return f"{REFUSED[locale]}{code} {message}"
