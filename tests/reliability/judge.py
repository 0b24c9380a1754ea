"""How one malformed input is judged: crash, clean refusal, or rows through (see fuzz.py's doc).

A target hands `judge` the valid keys it planted and a function that feeds the input to the
product and says which keys came out (`Found`). Everything else — exceptions, hangs, issues
that span lines, valid rows that went missing — is decided here, once for every target.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from xlar.domain.errors import Issue, XlarError

TIME_LIMIT = 10.0            # seconds one input may take before it counts as a hang
WHOLE_SHEET = frozenset({"XLAR-E120", "XLAR-E121", "XLAR-E122"})   # a sheet refused whole, said once


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` in the product eats it."""


@dataclass(frozen=True, slots=True)
class Found:
    """What the product made of one input: the planted keys that came through, intact."""

    keys: frozenset[str]
    refused: str | None = None          # a whole-file or whole-sheet refusal, as the user is told
    messages: tuple[str, ...] = ()      # the issues' messages (each must be one line)


@dataclass(frozen=True, slots=True)
class Outcome:
    case: str             # "<target> <kind>: <detail>", short enough to print
    crash: str | None     # what went wrong, one line; None when the product coped
    lost: int             # valid rows that did not come through
    tried: int = 1        # malformed inputs this outcome stands for (a sync batch holds several)
    untidy: str | None = None   # an issue whose message is not one line (the Errors sheet, the CLI)


def refused(message: str) -> Found:
    return Found(frozenset(), refused=message)


def sheet_found(keys: Iterable[str], issues: Iterable[Issue], title: str) -> Found:
    """Keys read from sheet TITLE, which ISSUES may refuse whole (no header, a required column missing)."""
    issues = list(issues)
    whole = next((str(i) for i in issues if i.code in WHOLE_SHEET and i.sheet == title), None)
    return Found(frozenset(keys), whole, tuple(i.message for i in issues))


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Hang in the main thread after SECONDS, and again every half second until the block
    ends (so a wait in a clean-up is interrupted too). Elsewhere only the elapsed time is judged."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(_signum: int, _frame: object) -> None:
        raise Hang(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 160 else line[:157] + "..."


def attempt(run: Callable[[], Found], seconds: float = TIME_LIMIT) -> Found | str:
    """RUN's answer, or a crash described in one line."""
    start = time.perf_counter()
    try:
        with time_limit(seconds):
            found = run()
    except Hang as exc:
        return f"hang: {exc}"
    except XlarError as exc:
        text = str(exc)
        if not text.strip() or "\n" in text or "\r" in text:
            return f"refusal not on one line: {text[:120]!r}"
        return refused(text)
    except Exception as exc:  # noqa: BLE001 (any other exception is exactly what this counts)
        return f"{type(exc).__module__}.{type(exc).__name__}: {first_line(str(exc))}"
    if time.perf_counter() - start > seconds:
        return f"hang: {time.perf_counter() - start:.1f} s (limit {seconds:g} s)"
    return found


def judge(case: str, good: Iterable[str], run: Callable[[], Found], seconds: float = TIME_LIMIT,
          tried: int = 1) -> Outcome:
    """Feed one input (RUN) and count: a crash, or the valid rows (GOOD keys) that did not come through."""
    answer = attempt(run, seconds)
    if isinstance(answer, str):
        return Outcome(case, answer, 0, tried)
    untidy = next((m[:160] for m in answer.messages if "\n" in m or "\r" in m or not m.strip()), None)
    if answer.refused is not None:
        return Outcome(case, None, 0, tried, untidy)
    missing = sorted(set(good) - answer.keys)
    if missing:
        case += f" [lost {', '.join(k[:40] for k in missing[:3])}{', ...' if len(missing) > 3 else ''}]"
    return Outcome(case, None, len(missing), tried, untidy)
