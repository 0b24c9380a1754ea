"""SWIFT MT940 statements: one BankLine per :61: entry, details from its :86: (SEPA keys, ?-subfields)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import mt940

from xlar.domain.bank import BankLine, join_parts
from xlar.domain.bank import squash as _squash
from xlar.imports.statement import Details, InvalidImport, exact, shown

_MT940_OPTIONS = mt940.Options.all()  # RC signed as a debit, long :86: kept whole
_MT940_LOG = logging.getLogger("mt940")
_MT940_TAG = re.compile(r"^:(\d\d|NS)[A-Z]?:", re.MULTILINE)
_MT940_TAGS = frozenset(str(k) for k in mt940.models.Transactions.default_tags() if isinstance(k, int)) | {"NS"}


def parse_mt940(text: str) -> list[BankLine]:
    starts = [m.start() for m in re.finditer(r"^:20:", text, re.MULTILINE)]
    if not starts:
        raise InvalidImport("MT940: no statement header ':20:' found")
    stray = re.search(r"^:\d\d[A-Z]?:", text[: starts[0]], re.MULTILINE)
    if stray:
        line_no = text.count("\n", 0, stray.start()) + 1
        raise InvalidImport(f"MT940 line {line_no}: a tag before the first ':20:' header")
    _check_mt940_tags(text)
    lines: list[BankLine] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        first_line = text.count("\n", 0, start) + 1
        lines.extend(_mt940_statement(text[start:end], first_line, len(lines) + 1))
    return lines


def _check_mt940_tags(text: str) -> None:
    """Refuse an unknown tag, or a second :86: in a row: the library would glue its text to the
    tag before it, so an entry's remittance would silently change."""
    before = ""
    for match in _MT940_TAG.finditer(text):
        if match[1] not in _MT940_TAGS:
            line_no = text.count("\n", 0, match.start()) + 1
            raise InvalidImport(f"MT940 line {line_no}: unknown tag {match[0]!r}")
        if match[1] == before == "86":
            line_no = text.count("\n", 0, match.start()) + 1
            raise InvalidImport(f"MT940 line {line_no}: a second ':86:' after one entry's details")
        before = match[1]


def _mt940_statement(block: str, first_line: int, first_seq: int) -> list[BankLine]:
    """The lines of one :20: block; a block without its closing balance is truncated."""
    statement = mt940.models.Transactions(
        processors={"post_transaction_details": []}, options=_MT940_OPTIONS
    )
    try:
        with _library_quiet():
            statement.parse(block)
    except Exception as exc:  # noqa: BLE001 (the library raises RuntimeError, ValueError, InvalidOperation...)
        raise _mt940_error(exc, block, first_line) from None
    entry_lines = [first_line + block.count("\n", 0, m.start())
                   for m in re.finditer(r"^:61:", block, re.MULTILINE)]
    if len(statement.transactions) != len(entry_lines):
        raise InvalidImport(f"MT940 statement at line {first_line}: {len(entry_lines)} ':61:' "
                            f"entries but {len(statement.transactions)} could be read")
    if not re.search(r"^:62[FM]:", block, re.MULTILINE):
        raise InvalidImport(f"MT940 statement at line {first_line}: no closing balance "
                            "':62F:'/':62M:'; the file looks truncated")
    data = statement.data
    number, part = data.get("statement_number") or "", data.get("sequence_number") or ""
    context = _Mt940Context(
        account=str(data.get("account_identification") or "").strip(),
        statement=f"{number}/{part}" if part else str(number),
        currency=statement.currency or "",
    )
    return [_mt940_line(tx.data, context, first_seq + i, entry_lines[i])
            for i, tx in enumerate(statement.transactions)]


@dataclass(frozen=True, slots=True)
class _Mt940Context:
    account: str
    statement: str
    currency: str


@contextmanager
def _library_quiet() -> Iterator[None]:
    """The library logs every pattern it tried on a bad line (at ERROR, whole regexes) to stderr;
    the user is told once, by InvalidImport."""
    level = _MT940_LOG.level
    _MT940_LOG.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        _MT940_LOG.setLevel(level)


def _mt940_error(exc: Exception, block: str, first_line: int) -> InvalidImport:
    """Name the line and value the library choked on (its RuntimeError carries both)."""
    args = exc.args
    if len(args) == 3 and isinstance(args[2], str):
        tag_id, value = getattr(args[1], "id", "?"), args[2]
        line_no = first_line + _tag_offset(block, str(tag_id), value)
        return InvalidImport(f"MT940 line {line_no}: cannot read ':{tag_id}:' {shown(value)}")
    return InvalidImport(f"MT940 statement at line {first_line}: cannot be read "
                         f"({_squash(str(exc))[:120]})")


def _tag_offset(block: str, tag_id: str, value: str) -> int:
    """Lines from the block's start to the :TAG_ID: whose content is VALUE (else the first)."""
    starts = [m.start() for m in re.finditer(rf"^:{re.escape(tag_id)}:", block, re.MULTILINE)]
    tags = [m.start() for m in re.finditer(r"^:\d\d[A-Z]?:", block, re.MULTILINE)]
    for start in starts:
        end = next((t for t in tags if t > start), len(block))
        body = block[start + len(tag_id) + 2: end].split("\n")
        if "\n".join(x.rstrip() for x in body if x.strip() not in ("", "-")) == value.strip():
            return block.count("\n", 0, start)
    return block.count("\n", 0, starts[0]) if starts else 0


def _mt940_line(data: dict[str, object], ctx: _Mt940Context, seq: int, line_no: int) -> BankLine:
    where = f"MT940 line {line_no} (:61:)"
    amount = data.get("amount")
    value_on, entry_on = data.get("date"), data.get("entry_date")
    if not isinstance(amount, mt940.models.Amount) or not isinstance(value_on, date):
        raise InvalidImport(f"{where}: no amount or date")
    currency = amount.currency or ctx.currency
    if not currency:
        raise InvalidImport(f"{where}: no currency; the statement has no ':60F:' balance")
    booked_on = entry_on if isinstance(entry_on, date) else value_on
    details = _details_86(str(data.get("transaction_details") or ""))
    return BankLine(
        account=ctx.account, statement=ctx.statement, seq=seq,
        booked_on=date(booked_on.year, booked_on.month, booked_on.day),
        value_on=date(value_on.year, value_on.month, value_on.day),
        amount=exact(amount.amount, currency, where), currency=currency,
        counterparty=details.counterparty, counterparty_account=details.counterparty_account,
        reference=details.reference, end_to_end=details.end_to_end,
        bank_ref=str(data.get("bank_reference") or "").strip(),
        reversal=str(data.get("status") or "").upper().startswith("R"),
    )


_SUBFIELD = re.compile(r"\?(\d\d)")
_SEPA_KEY = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT|PURP)\+")
_PURPOSE = tuple(f"{n:02d}" for n in (*range(20, 30), *range(60, 64)))


def _details_86(raw: str) -> Details:
    """Counterparty and remittance from :86:; German ?xx sub-fields when present.

    Structured: ?20-?29/?60-?63 purpose (SEPA EREF+ / SVWZ+ keywords), ?31 account,
    ?32-?33 name. Line breaks there only wrap the 65-character lines, so they vanish.
    """
    flat = raw.replace("\n", "")
    if not re.match(r"\d{3}\?\d\d", flat):
        return Details(reference=_squash(raw))
    fields: dict[str, str] = {}
    parts = _SUBFIELD.split(flat)
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        fields[code] = fields.get(code, "") + value
    end_to_end, reference = _sepa_purpose([fields[c] for c in _PURPOSE if c in fields])
    return Details(
        counterparty=_squash(fields.get("32", "") + fields.get("33", "")),
        counterparty_account=_squash(fields.get("31", "")),
        end_to_end=end_to_end,
        reference=reference,
    )


def _sepa_purpose(pieces: list[str]) -> tuple[str, str]:
    """(EREF, SVWZ and free text) of the purpose lines.

    A keyword's value runs on across lines; a line opening with a bank note such as
    'MTLG:' ends it and is kept as free text.
    """
    chunks: list[str] = []
    for piece in pieces:
        if not chunks or re.match(r"[A-Z]{4}:", piece):
            chunks.append(piece)
        else:
            chunks[-1] += piece
    values: dict[str, str] = {}
    free: list[str] = []
    for chunk in chunks:
        split = _SEPA_KEY.split(chunk)
        free.append(split[0])
        for key, value in zip(split[1::2], split[2::2], strict=True):
            values[key] = values.get(key, "") + value
    end_to_end = _squash(values.get("EREF", ""))
    if end_to_end.upper() == "NOTPROVIDED":
        end_to_end = ""
    return end_to_end, join_parts([values.get("SVWZ", ""), *free])
