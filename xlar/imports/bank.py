"""Bank statements in: MT940, camt.053 and CSV files read into BankLine records (xlar.domain.bank).

The parsers turn a file's bytes into BankLine records: one line per booked entry (one
per transaction of a camt batch), amounts signed and exact at the currency's minor unit.
A file that cannot be read is refused whole with InvalidImport, whose one-line message
names the position and the value; no library exception escapes. Who paid a line and which
invoices it clears is xlar.domain.cash.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

import mt940
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]  # defusedxml ships no type information
from defusedxml import ElementTree as SafeET

from xlar.domain.bank import BankLine, join_parts
from xlar.domain.bank import squash as _squash
from xlar.domain.codes import Code
from xlar.domain.errors import InvalidAmount, XlarError
from xlar.domain.money import CURRENCY_EXPONENTS, from_minor, to_minor

FORMATS = ("csv", "mt940", "camt053")


class InvalidImport(XlarError):
    """A bank file that cannot be read as it stands."""

    code = Code.E080


def parse_statement(
    data: bytes, fmt: str | None = None, mapping: CsvMapping | None = None
) -> list[BankLine]:
    """The lines of a statement file; FMT None detects it (MAPPING is for CSV only)."""
    if not data.strip():
        raise InvalidImport("the bank file is empty")
    kind = fmt or detect_format(data)
    if kind in ("mt940", "csv") and b"\x00" in data:   # a text statement has none (UTF-16 has many)
        line_no = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise InvalidImport(f"{'CSV row' if kind == 'csv' else 'MT940 line'} {line_no}: a NUL character; "
                            "not a text statement (saved as UTF-16?)")
    if kind == "mt940":
        return _parse_mt940(_decode_text(data))
    if kind == "camt053":
        return _parse_camt(data)
    if kind == "csv":
        return _parse_csv(data, mapping or DEFAULT_CSV_MAPPING)
    raise InvalidImport(f"unknown statement format {fmt!r}; expected one of {', '.join(FORMATS)}")


def detect_format(data: bytes) -> str:
    """'camt053' for XML, 'mt940' for SWIFT :tag: lines, else 'csv'.

    Any XML goes to the camt.053 reader, which refuses other documents by name.
    """
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "camt053"
    if re.search(rb"^:(20|25|28C?|60[FM]|61):", data, re.MULTILINE):
        return "mt940"
    return "csv"


# ---------------------------------------------------------------- shared helpers

def _shown(value: str) -> str:
    """VALUE quoted for a one-line message, cut at 60 characters."""
    return repr(value if len(value) <= 60 else value[:60] + "...")


def _exact(amount: Decimal, currency: str, where: str) -> Decimal:
    """AMOUNT at its currency's minor unit; more decimals than it has are refused."""
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidImport(f"{where}: currency {_shown(currency)} is not an ISO 4217 code")
    if currency not in CURRENCY_EXPONENTS:
        return amount  # a currency we do not trade in still travels exactly as written
    try:
        return from_minor(to_minor(amount, currency), currency)
    except InvalidAmount:
        raise InvalidImport(f"{where}: {amount} has more decimals than {currency} allows") from None


def _decode_text(data: bytes) -> str:
    """UTF-8 (BOM dropped), else Latin-1, which SWIFT texts fall back to; LF lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------- MT940

_MT940_OPTIONS = mt940.Options.all()  # RC signed as a debit, long :86: kept whole
_MT940_LOG = logging.getLogger("mt940")
_MT940_TAG = re.compile(r"^:(\d\d|NS)[A-Z]?:", re.MULTILINE)
_MT940_TAGS = frozenset(str(k) for k in mt940.models.Transactions.default_tags() if isinstance(k, int)) | {"NS"}


def _parse_mt940(text: str) -> list[BankLine]:
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
        return InvalidImport(f"MT940 line {line_no}: cannot read ':{tag_id}:' {_shown(value)}")
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
        amount=_exact(amount.amount, currency, where), currency=currency,
        counterparty=details.counterparty, counterparty_account=details.counterparty_account,
        reference=details.reference, end_to_end=details.end_to_end,
        bank_ref=str(data.get("bank_reference") or "").strip(),
        reversal=str(data.get("status") or "").upper().startswith("R"),
    )


@dataclass(frozen=True, slots=True)
class _Details:
    counterparty: str = ""
    counterparty_account: str = ""
    end_to_end: str = ""
    reference: str = ""


_SUBFIELD = re.compile(r"\?(\d\d)")
_SEPA_KEY = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT|PURP)\+")
_PURPOSE = tuple(f"{n:02d}" for n in (*range(20, 30), *range(60, 64)))


def _details_86(raw: str) -> _Details:
    """Counterparty and remittance from :86:; German ?xx sub-fields when present.

    Structured: ?20-?29/?60-?63 purpose (SEPA EREF+ / SVWZ+ keywords), ?31 account,
    ?32-?33 name. Line breaks there only wrap the 65-character lines, so they vanish.
    """
    flat = raw.replace("\n", "")
    if not re.match(r"\d{3}\?\d\d", flat):
        return _Details(reference=_squash(raw))
    fields: dict[str, str] = {}
    parts = _SUBFIELD.split(flat)
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        fields[code] = fields.get(code, "") + value
    end_to_end, reference = _sepa_purpose([fields[c] for c in _PURPOSE if c in fields])
    return _Details(
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


# ---------------------------------------------------------------- camt.053

def _local(element: Element) -> str:
    return str(element.tag).rpartition("}")[2]


def _strip_namespaces(root: Element) -> None:
    """Every tag by its local name (camt.053.001.02 to .08 differ only in the namespace), so that
    ElementTree's own child lookups serve below."""
    for element in root.iter():
        tag = element.tag
        if isinstance(tag, str) and tag.startswith("{"):
            element.tag = tag.rpartition("}")[2]


def _kids(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else element.findall(name)


def _find(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = element.find(name)
    return element


def _text(element: Element | None, *path: str) -> str:
    node = _find(element, *path)
    return "" if node is None else _squash(node.text or "")


def _texts(elements: Sequence[Element], *path: str) -> list[str]:
    """The texts of every element at PATH (each step over all matching children)."""
    level = list(elements)
    for name in path:
        level = [kid for element in level for kid in _kids(element, name)]
    return [_squash(e.text or "") for e in level]


def _parse_camt(data: bytes) -> list[BankLine]:
    """Namespace-agnostic (camt.053.001.02 to .08): elements match on local names."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InvalidImport(f"camt.053: XML with a DTD or entity declarations is refused "
                            f"({type(exc).__name__})") from None
    except ParseError as exc:
        line_no, column = exc.position
        raise InvalidImport(f"camt.053: not well-formed XML at line {line_no}, column {column}") from None
    except (LookupError, ValueError) as exc:  # e.g. an unknown encoding in the declaration
        raise InvalidImport(f"camt.053: cannot be read ({_squash(str(exc))[:120]})") from None
    tag = str(root.tag)
    _strip_namespaces(root)
    report = _find(root, "BkToCstmrStmt")
    if _local(root) != "Document" or report is None:
        raise InvalidImport(f"camt.053: <{_local(root)}> in {tag[:80]!r} "
                            "is not a bank-to-customer statement (Document/BkToCstmrStmt)")
    lines: list[BankLine] = []
    entry_no = 0
    for stmt in _kids(report, "Stmt"):
        account = _text(stmt, "Acct", "Id", "IBAN") or _text(stmt, "Acct", "Id", "Othr", "Id")
        statement = _text(stmt, "Id")
        for ntry in _kids(stmt, "Ntry"):
            entry_no += 1
            for draft in _camt_entry(ntry, f"camt.053 entry {entry_no}"):
                lines.append(draft.line(account, statement, len(lines) + 1))
    return lines


@dataclass(frozen=True, slots=True)
class _Draft:
    """A line before it has its statement and place in the file."""

    booked_on: date
    value_on: date | None
    amount: Decimal
    currency: str
    details: _Details
    bank_ref: str
    reversal: bool

    def line(self, account: str, statement: str, seq: int) -> BankLine:
        d = self.details
        return BankLine(account, statement, seq, self.booked_on, self.value_on, self.amount,
                        self.currency, d.counterparty, d.counterparty_account, d.reference,
                        d.end_to_end, self.bank_ref, self.reversal)


def _camt_entry(ntry: Element, where: str) -> list[_Draft]:
    """One draft per TxDtls of a batch whose amounts add up to the entry, else one.

    Pending and information-only entries (Sts PDNG/INFO) are not booked: skipped.
    """
    if (_text(ntry, "Sts", "Cd") or _text(ntry, "Sts")).upper() in ("PDNG", "INFO"):
        return []
    magnitude, currency = _camt_amount(_find(ntry, "Amt"), f"{where} <Amt>")
    sign = _camt_sign(_text(ntry, "CdtDbtInd"), where)
    booked_on = _camt_date(ntry, "BookgDt", where) or _camt_date(ntry, "ValDt", where)
    if booked_on is None:
        raise InvalidImport(f"{where}: no <BookgDt> or <ValDt>")
    base = _Draft(booked_on, _camt_date(ntry, "ValDt", where), sign * magnitude, currency,
                  _Details(), _text(ntry, "AcctSvcrRef") or _text(ntry, "NtryRef"),
                  _text(ntry, "RvslInd").lower() in ("true", "1"))
    note = _text(ntry, "AddtlNtryInf")
    txs = [tx for dtls in _kids(ntry, "NtryDtls") for tx in _kids(dtls, "TxDtls")]
    parts = _batch_amounts(txs, sign, base.amount, currency, where) if len(txs) > 1 else None
    if parts is not None:
        return [replace(base, amount=amount, details=_camt_details(tx, amount > 0, note),
                        bank_ref=_text(tx, "Refs", "AcctSvcrRef") or base.bank_ref)
                for tx, amount in zip(txs, parts, strict=True)]
    if len(txs) == 1:
        return [replace(base, details=_camt_details(txs[0], sign > 0, note),
                        bank_ref=_text(txs[0], "Refs", "AcctSvcrRef") or base.bank_ref)]
    texts = [_camt_details(tx, sign > 0, "").reference for tx in txs]
    return [replace(base, details=_Details(reference=join_parts([*texts, note])))]


def _batch_amounts(txs: list[Element], sign: int, total: Decimal, currency: str,
                   where: str) -> list[Decimal] | None:
    """Signed TxDtls amounts, or None unless all are there, in CURRENCY, adding up to TOTAL."""
    amounts: list[Decimal] = []
    for i, tx in enumerate(txs, start=1):
        node = _find(tx, "AmtDtls", "TxAmt", "Amt")
        node = _find(tx, "Amt") if node is None else node
        if node is None:
            return None
        amount, tx_currency = _camt_amount(node, f"{where} TxDtls {i} <Amt>")
        mark = _text(tx, "CdtDbtInd")
        tx_sign = _camt_sign(mark, f"{where} TxDtls {i}") if mark else sign
        if tx_currency != currency:
            return None
        amounts.append(tx_sign * amount)
    return amounts if sum(amounts) == total else None


def _camt_amount(node: Element | None, where: str) -> tuple[Decimal, str]:
    if node is None:
        raise InvalidImport(f"{where}: missing")
    text, currency = (node.text or "").strip(), node.get("Ccy", "").strip()
    if not re.fullmatch(r"\d{1,18}(\.\d{1,5})?", text):
        raise InvalidImport(f"{where}: {_shown(text)} is not an amount")
    return _exact(Decimal(text), currency, where), currency


def _camt_sign(mark: str, where: str) -> int:
    if mark not in ("CRDT", "DBIT"):
        raise InvalidImport(f"{where} <CdtDbtInd>: {_shown(mark)} is neither CRDT nor DBIT")
    return 1 if mark == "CRDT" else -1


def _camt_date(ntry: Element, name: str, where: str) -> date | None:
    node = _find(ntry, name)
    if node is None:
        return None
    text = _text(node, "Dt") or _text(node, "DtTm")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidImport(f"{where} <{name}>: {_shown(text)} is not a date") from None


def _camt_details(tx: Element, credit: bool, note: str) -> _Details:
    """Counterparty: the debtor of a credit, the creditor of a debit."""
    role, account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    parties = _find(tx, "RltdPties")
    rmt = _kids(tx, "RmtInf")
    strd = [s for r in rmt for s in _kids(r, "Strd")]
    reference = join_parts([*_texts(rmt, "Ustrd"), *_texts(strd, "CdtrRefInf", "Ref"),
                       *_texts(strd, "RfrdDocInf", "Nb"), *_texts([tx], "AddtlTxInf"), note])
    end_to_end = _text(tx, "Refs", "EndToEndId")
    return _Details(
        counterparty=_text(parties, role, "Nm") or _text(parties, role, "Pty", "Nm"),
        counterparty_account=(_text(parties, account, "Id", "IBAN")
                              or _text(parties, account, "Id", "Othr", "Id")),
        end_to_end="" if end_to_end.upper() == "NOTPROVIDED" else end_to_end,
        reference=reference,
    )


# ---------------------------------------------------------------- CSV

Columns = str | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """Which CSV columns hold what. Each column is one header or several to try.

    Headers match case-insensitively and the first one present is used, except for
    `reference`, where every present column is joined; a column left empty falls back
    to the headers of DEFAULT_CSV_MAPPING. Amounts come from `amount`
    (signed) or from `credit` and `debit` (magnitudes). `decimal` "" means ',' when the
    file is ';'-separated, else '.'; `date_format` "" accepts 2026-03-05, 2026/03/05,
    20260305 and 2026年03月05日. `delimiter` "" is the most frequent of , ; and tab
    in the first lines.
    """

    date: Columns = ()
    amount: Columns = ()
    credit: Columns = ()
    debit: Columns = ()
    currency: Columns = ()
    fixed_currency: str = ""
    counterparty: Columns = ()
    counterparty_account: Columns = ()
    reference: Columns = ()
    end_to_end: Columns = ()
    bank_ref: Columns = ()
    value_date: Columns = ()
    account: str = ""
    statement: str = ""
    date_format: str = ""
    decimal: str = ""
    delimiter: str = ""


DEFAULT_CSV_MAPPING = CsvMapping(
    date=("date", "booking date", "transaction date", "交易日期", "记账日期", "日期"),
    amount=("amount", "金额", "交易金额", "发生额"),
    credit=("credit", "credit amount", "贷方金额", "贷方发生额", "收入金额", "收入"),
    debit=("debit", "debit amount", "借方金额", "借方发生额", "支出金额", "支出"),
    currency=("currency", "ccy", "币种", "货币"),
    counterparty=("payer", "counterparty", "payer name", "name", "付款人", "付款人名称",
                  "对方户名", "对方名称", "对方单位"),
    counterparty_account=("payer account", "account", "iban", "counterparty account",
                          "对方账号", "付款人账号", "对方账户"),
    reference=("reference", "memo", "description", "remittance", "details",
               "摘要", "附言", "用途", "备注"),
    end_to_end=("end to end id", "end-to-end id", "endtoendid", "end_to_end"),
    bank_ref=("bank reference", "bank ref", "transaction id", "交易流水号", "流水号"),
    value_date=("value date", "起息日"),
)

_CURRENCY_WORDS = {"人民币": "CNY", "RMB": "CNY", "美元": "USD", "欧元": "EUR", "港币": "HKD",
                   "港元": "HKD", "日元": "JPY", "英镑": "GBP"}
_ISO_DATES = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
_HEADER_SEARCH = 20  # bank exports put a few title lines above the header


def _names(columns: Columns) -> tuple[str, ...]:
    return (columns,) if isinstance(columns, str) else columns


def _parse_csv(data: bytes, mapping: CsvMapping) -> list[BankLine]:
    text = _decode_csv(data)
    head = "\n".join([line for line in text.splitlines() if line.strip()][:_HEADER_SEARCH])
    delimiter = mapping.delimiter or max(",;\t", key=head.count)
    decimal = mapping.decimal or ("," if delimiter == ";" else ".")
    try:
        rows = [(line_no, row) for line_no, row in _csv_rows(text, delimiter)]
    except csv.Error as exc:
        raise InvalidImport(f"CSV: cannot be read ({exc})") from None
    header_at, columns = _find_header(rows, mapping)
    width = len(rows[header_at][1])
    lines: list[BankLine] = []
    for line_no, row in rows[header_at + 1:]:
        if any(cell.strip() for cell in row):
            _check_quotes(line_no, row, delimiter, width)
            cells = _Row(line_no, row, columns)
            lines.append(_csv_line(cells, mapping, decimal, len(lines) + 1))
    return lines


def _decode_csv(data: bytes) -> str:
    """UTF-8 (BOM dropped), else GB18030, the superset of GBK that Chinese banks use."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidImport("CSV: the file is neither UTF-8 nor GBK text")


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for row in reader:
        yield reader.line_num, row


def _check_quotes(line_no: int, row: list[str], delimiter: str, width: int) -> None:
    """Refuse a quoted cell holding lines that look like rows: a quote opened in this row and
    closed rows later (or never) would swallow them silently."""
    for cell in row:
        swallowed = [line for line in cell.splitlines()[1:] if line.count(delimiter) >= max(width - 1, 1)]
        if swallowed:
            first = line_no - sum(c.rstrip("\r\n").count("\n") for c in row)
            raise InvalidImport(f"CSV row {first}: a quote opened here is not closed before "
                                f"{_shown(swallowed[0])}; close it and import again")


def _find_header(rows: list[tuple[int, list[str]]],
                 mapping: CsvMapping) -> tuple[int, dict[str, list[int]]]:
    """The first row (of the first few) naming a date and an amount column."""
    for at, (_, row) in enumerate(rows[:_HEADER_SEARCH]):
        found = _resolve(row, mapping)
        if "date" in found and ("amount" in found or "credit" in found or "debit" in found):
            return at, found
    wanted = ", ".join(_names(mapping.date)[:3] + _names(mapping.amount)[:3])
    raise InvalidImport(f"CSV: no header row with a date and an amount column (such as {wanted}) "
                        f"in the first {_HEADER_SEARCH} rows")


def _resolve(header: list[str], mapping: CsvMapping) -> dict[str, list[int]]:
    """Field -> column indexes present in HEADER (all of them for reference)."""
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        index.setdefault(cell.strip().lstrip("\ufeff").casefold(), i)
    found: dict[str, list[int]] = {}
    for field in ("date", "amount", "credit", "debit", "currency", "counterparty",
                  "counterparty_account", "reference", "end_to_end", "bank_ref", "value_date"):
        names = _names(getattr(mapping, field)) or _names(getattr(DEFAULT_CSV_MAPPING, field))
        hits = [index[n.casefold()] for n in names if n.casefold() in index]
        if hits:
            found[field] = hits if field == "reference" else hits[:1]
    return found


@dataclass(frozen=True, slots=True)
class _Row:
    line_no: int
    cells: list[str]
    columns: dict[str, list[int]]

    def get(self, field: str) -> str:
        return " ".join(self.cells[i].strip() for i in self.columns.get(field, [])
                        if i < len(self.cells) and self.cells[i].strip())

    def where(self, field: str) -> str:
        return f"CSV row {self.line_no} [{field}]"


def _csv_line(row: _Row, mapping: CsvMapping, decimal: str, seq: int) -> BankLine:
    currency = _csv_currency(row, mapping)
    value_text = row.get("value_date")
    return BankLine(
        account=mapping.account, statement=mapping.statement, seq=seq,
        booked_on=_csv_date(row.get("date"), mapping.date_format, row.where("date")),
        value_on=_csv_date(value_text, mapping.date_format, row.where("value_date"))
        if value_text else None,
        amount=_exact(_csv_amount(row, decimal), currency, f"CSV row {row.line_no}"),
        currency=currency,
        counterparty=_squash(row.get("counterparty")),
        counterparty_account=_squash(row.get("counterparty_account")),
        reference=_squash(row.get("reference")),
        end_to_end=_squash(row.get("end_to_end")),
        bank_ref=_squash(row.get("bank_ref")),
    )


def _csv_currency(row: _Row, mapping: CsvMapping) -> str:
    text = row.get("currency")
    if not text:
        if mapping.fixed_currency:
            return mapping.fixed_currency
        raise InvalidImport(f"{row.where('currency')}: no currency, and the mapping fixes none")
    code = _CURRENCY_WORDS.get(text.upper(), text.upper())
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise InvalidImport(f"{row.where('currency')}: {_shown(text)} is not a currency code")
    return code


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _csv_date(text: str, date_format: str, where: str) -> date:
    if date_format in ("", "%Y-%m-%d") and _ISO_DAY.fullmatch(text):   # most banks' dates: read at once
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    candidates = (text, text.replace("T", " ").split(" ")[0])
    for fmt in (date_format,) if date_format else _ISO_DATES:
        for candidate in candidates:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    expected = date_format or "YYYY-MM-DD"
    raise InvalidImport(f"{where}: {_shown(text)} is not a date ({expected})")


def _csv_amount(row: _Row, decimal: str) -> Decimal:
    """The signed amount; with credit/debit columns a debit is taken as money out."""
    if "amount" in row.columns:
        amount = _decimal(row.get("amount"), decimal, row.where("amount"))
        if amount is None:
            raise InvalidImport(f"{row.where('amount')}: empty")
        return amount
    credit = _decimal(row.get("credit"), decimal, row.where("credit"))
    debit = _decimal(row.get("debit"), decimal, row.where("debit"))
    if credit and debit:
        raise InvalidImport(f"CSV row {row.line_no}: both credit {credit} and debit {debit} set")
    if credit:
        return credit
    if debit:
        return -abs(debit)
    if credit is None and debit is None:
        raise InvalidImport(f"CSV row {row.line_no}: neither a credit nor a debit amount")
    return Decimal(0)


_GROUPED = {
    ".": re.compile(r"\d+(\.\d+)?|\d{1,3}(,\d{3})+(\.\d+)?"),
    ",": re.compile(r"\d+(,\d+)?|\d{1,3}(\.\d{3})+(,\d+)?|\d{1,3}( \d{3})+(,\d+)?"),
}


def _decimal(text: str, decimal: str, where: str) -> Decimal | None:
    """A typed amount: sign or (parentheses), thousands grouping checked, never guessed."""
    body = text.strip().replace("\u00a0", " ")
    if not body:
        return None
    negative = body.startswith("(") and body.endswith(")") or body.endswith("-")
    body = body.strip("()").rstrip("-")
    if body[:1] in "+-":
        negative, body = negative or body[0] == "-", body[1:]
    pattern = _GROUPED.get(decimal)
    if pattern is None:
        raise InvalidImport(f"CSV: decimal separator must be '.' or ',', not {decimal!r}")
    if not pattern.fullmatch(body):
        raise InvalidImport(f"{where}: {_shown(text)} is not an amount (decimal separator {decimal!r})")
    plain = body.replace(" ", "")
    plain = plain.replace(",", "") if decimal == "." else plain.replace(".", "").replace(",", ".")
    try:
        value = Decimal(plain)
    except InvalidOperation:
        raise InvalidImport(f"{where}: {_shown(text)} is not an amount") from None
    return -value if negative else value
