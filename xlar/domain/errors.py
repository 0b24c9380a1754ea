"""Errors a user can cause, each with a stable code; and the Issue record for bad input."""

from __future__ import annotations

from dataclasses import dataclass

from xlar.domain.codes import Code


class XlarError(Exception):
    """A refusal caused by the user's input or request, never a programming fault.

    The CLI prints `code message` on one line and exits 1; sync turns it into an Issue.
    The code is the class's, or CODE for a refusal that needs no class of its own; MESSAGE
    never starts with a code (str() puts the one code in front).
    """

    code: Code = Code.E000

    def __init__(self, message: str, *, code: Code | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


class InvalidAmount(XlarError):
    code = Code.E001


class UnknownCurrency(XlarError):
    code = Code.E002


class CurrencyMismatch(XlarError):
    code = Code.E003


class InvalidTerms(XlarError):
    code = Code.E004


class InvalidSetting(XlarError):
    code = Code.E005


class NotFound(XlarError):
    code = Code.E010


class Immutable(XlarError):
    code = Code.E020


class InvalidDocument(XlarError):
    code = Code.E021


class PeriodClosed(XlarError):
    code = Code.E030


class OverAllocation(XlarError):
    code = Code.E040


class InvalidAllocation(XlarError):
    code = Code.E041


class StoreError(XlarError):
    code = Code.E050


class Interrupted(XlarError):
    """A sync was stopped half way and cannot be finished safely without the user."""

    code = Code.E061


class WorkbookOpen(XlarError):
    """The workbook file is open in Excel or LibreOffice (its lock file is beside it)."""

    code = Code.E062


class WorkbookNotWritten(XlarError):
    """The store took a sync's changes but the workbook file could not be replaced; the next
    sync finishes the job from the staged copy."""

    code = Code.E063


class NotAllowed(XlarError):
    """The user may not do this: a role is missing, or duties must be separated."""

    code = Code.E070


@dataclass(frozen=True, slots=True)
class Issue:
    """One bad cell or row, reported instead of raised."""

    sheet: str
    excel_row: int
    column: str | None
    code: Code
    message: str

    def __str__(self) -> str:
        if not self.sheet:   # the book's, not a sheet's
            return f"{self.code} {self.message}"
        where = f"{self.sheet}!{self.excel_row}" + (f" [{self.column}]" if self.column else "")
        return f"{where} {self.code} {self.message}"
