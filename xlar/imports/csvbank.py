"""Bank CSV exports: a header found among title lines, columns mapped by CsvMapping, amounts and dates as the bank writes them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from xlar.domain.bank import BankLine
from xlar.domain.bank import squash as _squash
from xlar.imports.statement import InvalidImport, exact, shown

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


def parse_csv(data: bytes, mapping: CsvMapping) -> list[BankLine]:
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
                                f"{shown(swallowed[0])}; close it and import again")


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
        amount=exact(_csv_amount(row, decimal), currency, f"CSV row {row.line_no}"),
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
        raise InvalidImport(f"{row.where('currency')}: {shown(text)} is not a currency code")
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
    raise InvalidImport(f"{where}: {shown(text)} is not a date ({expected})")


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
        raise InvalidImport(f"{where}: {shown(text)} is not an amount (decimal separator {decimal!r})")
    plain = body.replace(" ", "")
    plain = plain.replace(",", "") if decimal == "." else plain.replace(".", "").replace(",", ".")
    try:
        value = Decimal(plain)
    except InvalidOperation:
        raise InvalidImport(f"{where}: {shown(text)} is not an amount") from None
    return -value if negative else value
