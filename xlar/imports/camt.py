"""ISO 20022 camt.053 statements: one BankLine per entry, per transaction of a batch."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]  # defusedxml ships no type information
from defusedxml import ElementTree as SafeET

from xlar.domain.bank import BankLine, join_parts
from xlar.domain.bank import squash as _squash
from xlar.imports.statement import Details, InvalidImport, exact, shown


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


def parse_camt(data: bytes) -> list[BankLine]:
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
    details: Details
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
                  Details(), _text(ntry, "AcctSvcrRef") or _text(ntry, "NtryRef"),
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
    return [replace(base, details=Details(reference=join_parts([*texts, note])))]


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
        raise InvalidImport(f"{where}: {shown(text)} is not an amount")
    return exact(Decimal(text), currency, where), currency


def _camt_sign(mark: str, where: str) -> int:
    if mark not in ("CRDT", "DBIT"):
        raise InvalidImport(f"{where} <CdtDbtInd>: {shown(mark)} is neither CRDT nor DBIT")
    return 1 if mark == "CRDT" else -1


def _camt_date(ntry: Element, name: str, where: str) -> date | None:
    node = _find(ntry, name)
    if node is None:
        return None
    text = _text(node, "Dt") or _text(node, "DtTm")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidImport(f"{where} <{name}>: {shown(text)} is not a date") from None


def _camt_details(tx: Element, credit: bool, note: str) -> Details:
    """Counterparty: the debtor of a credit, the creditor of a debit."""
    role, account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    parties = _find(tx, "RltdPties")
    rmt = _kids(tx, "RmtInf")
    strd = [s for r in rmt for s in _kids(r, "Strd")]
    reference = join_parts([*_texts(rmt, "Ustrd"), *_texts(strd, "CdtrRefInf", "Ref"),
                       *_texts(strd, "RfrdDocInf", "Nb"), *_texts([tx], "AddtlTxInf"), note])
    end_to_end = _text(tx, "Refs", "EndToEndId")
    return Details(
        counterparty=_text(parties, role, "Nm") or _text(parties, role, "Pty", "Nm"),
        counterparty_account=(_text(parties, account, "Id", "IBAN")
                              or _text(parties, account, "Id", "Othr", "Id")),
        end_to_end="" if end_to_end.upper() == "NOTPROVIDED" else end_to_end,
        reference=reference,
    )
