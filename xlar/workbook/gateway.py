"""Where a sync reads a workbook and writes it back: the file on disk (here), or the
workbook open in Excel (xlar.excel.live, through xlwings). Both hand the reader the same
grids and take the writer's same sheets, so the schema and sync code is one.

A grid is what python-calamine gives: a list of rows of cell values (str, float, int,
bool, date, datetime; "" for an empty cell), from A1; formulas and error values are
reported apart, as SpecialCells, because a value alone cannot tell them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, Self, cast

from python_calamine import CalamineError, CalamineWorkbook, WorkbookClosed

from xlar.domain.errors import Interrupted, WorkbookNotWritten, WorkbookOpen, XlarError
from xlar.workbook.package import (
    MAX_CELLS,
    BrokenWorkbook,
    SpecialCell,
    first_line,
    reading,
    sheet_parts,
    special_cells,
    used_range_end,
)
from xlar.workbook.state import STATE_SHEET, SyncState, unchanged_since_sync
from xlar.workbook.writer import (
    Output,
    SheetRows,
    replace_with_backup,
    stage_backup,
    staged_backup_path,
    staged_path,
    write_workbook,
)

Cell = tuple[int, int]


class Grids(Protocol):
    """A workbook's sheets as grids, read sheet by sheet."""

    def titles(self) -> list[str]: ...

    def grid(self, title: str) -> list[list[object]]: ...

    def special(self, title: str) -> Mapping[Cell, SpecialCell]:
        """(0-based row, column) -> the formula or error value of the sheet's cells that hold one."""
        ...

    def prefetch(self, titles: Iterable[str]) -> None:
        """A hint that TITLES' special cells will be asked for (a file finds them on another thread)."""
        ...


class WorkbookGateway(Grids, Protocol):
    """What a sync needs of a workbook: its grids to read, and a place to write the result."""

    @property
    def name(self) -> str: ...

    def untouched(self, state: SyncState) -> bool:
        """True when nothing was changed since the sync that wrote STATE (no cell need be read)."""
        ...

    def stage(self, sheets: Sequence[SheetRows], outputs: Sequence[Output], state: SyncState,
              locale: str) -> None:
        """Prepare the synced workbook; nothing the user sees changes until commit()."""
        ...

    def commit(self) -> str | None:
        """Make the staged workbook the workbook (called once the store has committed); returns
        a note for the user when it was done, but not quite as usual (the .bak kept elsewhere)."""
        ...

    def close(self) -> None: ...


def _open(path: Path) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except CalamineError as exc:
        raise BrokenWorkbook(f"{path.name} cannot be read as a workbook ({first_line(exc)}); the file is "
                             "damaged: open it in Excel and save it again") from None


class FileGrids:
    """An .xlsx file's grids: values through python-calamine; formulas and errors found in the
    sheets' XML on a second thread (unzipping releases the GIL) while calamine reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.book = _open(path)
        self._parts: dict[str, str] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._found: dict[str, Future[dict[Cell, SpecialCell]]] = {}

    @property
    def parts(self) -> dict[str, str]:
        if self._parts is None:
            self._parts = sheet_parts(self.path)
        return self._parts

    def titles(self) -> list[str]:
        return list(self.book.sheet_names)

    def grid(self, title: str) -> list[list[object]]:
        part = self.parts.get(title)
        with reading(f"sheet {title!r}"):
            end = used_range_end(self.path, part) if part else None
        if end is not None and end[1] * end[2] > MAX_CELLS:
            raise BrokenWorkbook(f"sheet {title!r} uses cells as far as {end[0]} ({end[1]:,} rows by {end[2]:,} "
                                 "columns): delete the stray cells beyond its table (Ctrl+End goes to the last "
                                 "one) and save")
        # calamine's cells (str, float, int, bool, dates, durations) are read as any cell is: objects
        return cast("list[list[object]]", self.book.get_sheet_by_name(title).to_python(skip_empty_area=False))

    def prefetch(self, titles: Iterable[str]) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1)
        for title in titles:
            if title not in self._found and title in self.parts:
                self._found[title] = self._pool.submit(special_cells, self.path, self.parts[title])

    def special(self, title: str) -> Mapping[Cell, SpecialCell]:
        if title in self._found:
            return self._found[title].result()
        part = self.parts.get(title)
        return special_cells(self.path, part) if part else {}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._release()

    def _release(self) -> None:
        """Let go of the file (on Windows an open reader keeps it from being renamed over)."""
        try:
            self.book.close()
        except WorkbookClosed:
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FileGateway(FileGrids):
    """The workbook as a file: written to a temporary file beside it, renamed over it (after a
    backup) once the store has committed."""

    def __init__(self, path: Path) -> None:
        self.source = file_digest(path)   # the file as read (finish_interrupted compares it)
        super().__init__(path)
        self._temp: Path | None = None
        self._backup: Path | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def untouched(self, state: SyncState) -> bool:
        return unchanged_since_sync(self.path, state)

    def stage(self, sheets: Sequence[SheetRows], outputs: Sequence[Output], state: SyncState,
              locale: str) -> None:
        state = dataclasses.replace(state, source=self.source)
        try:
            self._temp = write_workbook(self.path, sheets, outputs, state, locale)
            durable(self._temp)   # on disk before the store commits: finish_interrupted may need it
            self._backup = stage_backup(self.path)
        except OSError as exc:    # before the commit: the store rolls back, nothing is lost
            staged_backup_path(self.path).unlink(missing_ok=True)
            self._discard()
            raise WorkbookNotWritten(
                f"cannot write the synced workbook beside {self.path.name} in {self.path.parent} "
                f"({exc.strerror or exc}): nothing was changed; free disk space or make the folder "
                "writable, then sync again") from None

    def commit(self) -> str | None:
        if self._temp is None:
            return None
        self._release()
        try:
            note = replace_with_backup(self.path, self._temp, self._backup)
        except OSError as exc:
            # both kept: the next sync finishes with them (finish_interrupted)
            temp, self._temp, self._backup = self._temp, None, None
            raise not_replaced(self.path, temp, exc) from None
        self._temp = self._backup = None     # renamed, or kept under its staged name (the note says)
        self._reopen()  # a second sync through this gateway reads what the first one wrote
        return note

    def _reopen(self) -> None:
        FileGrids.close(self)
        self.book = _open(self.path)
        self._parts, self._found = None, {}

    def close(self) -> None:
        super().close()
        self._discard()

    def _discard(self) -> None:
        """What was staged and never committed (the store rolled back) is removed; the staged
        workbook a failed rename left stays (self._temp is None then): the next sync uses it."""
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None
        if self._backup is not None:
            self._backup.unlink(missing_ok=True)
            self._backup = None


def not_replaced(path: Path, temp: Path, exc: OSError) -> WorkbookNotWritten:
    """The one line for a workbook the store's changes could not be written into."""
    why = exc.strerror or str(exc)
    names = [Path(str(f)).name for f in (exc.filename, exc.filename2) if f]
    backup = next((n for n in names if n.endswith(".bak")), None)
    if backup is not None:   # the copy of the previous version (no staged one) failed
        fix = f"make {backup} writable (or close it, or free disk space)"
        why = f"{why} on {backup}"
    else:
        fix = f"close it in Excel (or free disk space, or make {path.parent} writable)"
    return WorkbookNotWritten(
        f"the store has taken the changes, but {path.name} could not be replaced ({why}): {fix} and sync "
        f"{path.name} again: that sync writes them into it from {temp.name} beside it, entering nothing twice")


LOCK_FILES = ("~${name}", ".~lock.{name}#")   # Excel's owner file, LibreOffice's lock


def lock_file(path: Path) -> Path | None:
    """The lock file Excel or LibreOffice keeps beside PATH while it has PATH open, if any."""
    for pattern in LOCK_FILES:
        lock = path.with_name(pattern.format(name=path.name))
        if lock.exists():
            return lock
    return None


def refuse_open(path: Path) -> None:
    """Refuse to rewrite PATH while Excel or LibreOffice has it open: the rename would fail (on
    Windows) or the program would later save its old copy over the synced one."""
    lock = lock_file(path)
    if lock is not None:
        raise WorkbookOpen(f"{path.name} is open in Excel or LibreOffice ({lock.name} is beside it): close it "
                           "and sync again, or press Sync on the AR 应收 tab, which syncs the open workbook; "
                           f"if no program has it open, the lock is stale: delete {lock.name} or sync with --force")


def file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def durable(path: Path) -> None:
    """Make PATH's bytes reach the disk (a power cut after this leaves them whole)."""
    with path.open("rb") as f:
        os.fsync(f.fileno())


_KEPT = ".synced-before-interruption"


def kept_path(path: Path) -> Path:
    """A free name beside PATH for the workbook an interrupted sync wrote."""
    for n in range(1, 1000):
        kept = path.with_name(f"{path.stem}{_KEPT}{'' if n == 1 else f'-{n}'}{path.suffix}")
        if not kept.exists():
            return kept
    raise Interrupted(f"too many workbooks set aside beside {path.name}: resolve them first")


def kept_beside(path: Path) -> list[Path]:
    """The workbooks interrupted syncs of PATH set aside (kept_path), oldest name first."""
    return sorted(path.parent.glob(f"{path.stem}{_KEPT}*{path.suffix}"))


def _state_of(path: Path) -> SyncState | None:
    """The sync state a workbook file carries; None when it cannot be read."""
    try:
        with FileGrids(path) as grids:
            return SyncState.from_rows(grids.grid(STATE_SHEET)) if STATE_SHEET in grids.titles() else SyncState()
    except (XlarError, ValueError):   # cut short or damaged
        return None


def finish_interrupted(path: Path, recorded: Callable[[str], bool]) -> str | None:
    """Finish or undo a sync of the file PATH that was stopped (killed, power cut) after it
    staged the next workbook beside it: if the store RECORDED the staged workbook's mark, the
    store committed, and the staged file becomes the workbook (when PATH is still the file that
    sync read; if it was changed since, the staged file is set aside and PATH is refused until
    the user has moved to it). If not, the store rolled back and the staged file is deleted (it
    reached the disk before the commit, so one that cannot be read was never committed).
    Returns what was done, or None. Raises Interrupted when the staged file is set aside (the
    store then refuses PATH's new rows: sync.engine's check of superseded workbooks)."""
    temp = staged_path(path)
    if not temp.exists():
        return _finish_backup(path)
    state = _state_of(temp) or SyncState()
    if state.token is None or not recorded(state.token):
        temp.unlink()
        staged_backup_path(path).unlink(missing_ok=True)
        return None
    if state.source is not None and path.exists() and file_digest(path) != state.source:
        kept = kept_path(path)
        temp.replace(kept)
        raise Interrupted(f"an earlier sync of {path.name} was interrupted after the store took its changes, "
                          f"and {path.name} was changed afterwards: the workbook that sync wrote is {kept.name}. "
                          f"Copy your later changes into {kept.name}, sync it and use it as {path.name}")
    try:   # the sync staged PATH's backup too, of PATH as it still is (the digest says so)
        note = replace_with_backup(path, temp, staged_backup_path(path))
    except OSError as exc:
        raise not_replaced(path, temp, exc) from None
    done = f"finished an interrupted sync of {path.name} (the store had its changes)"
    return done if note is None else f"{done}; {note}"


def _finish_backup(path: Path) -> str | None:
    """A sync stopped between its two renames (the workbook replaced, its .bak not yet): the
    previous version staged beside it becomes PATH.bak now. None when there is nothing to do, or
    when the .bak still cannot be replaced (the staged copy stays, and says so next time)."""
    staged = staged_backup_path(path)
    if not staged.exists() or not path.exists():
        return None
    try:
        os.replace(staged, path.with_name(path.name + ".bak"))
    except OSError:
        return None
    return f"finished an interrupted sync of {path.name}: its previous version is {path.name}.bak"


def pending_interruption(path: Path) -> str | None:
    """What finish_interrupted would deal with, for a dry run (which changes no file)."""
    if staged_path(path).exists():
        return f"an interrupted sync of {path.name} left its workbook beside it: the next sync deals with it first"
    return None
