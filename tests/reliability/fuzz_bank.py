"""Malformed bank statements: CSV, MT940 and camt.053, each a valid file with one bad entry
(or bad structure) among good ones, and the real sample files cut short.

A good entry's key is its remittance text and amount, which the parser must give back
unchanged. The bank parsers refuse a file whole when one entry is bad (by design: a
statement is imported whole or not at all), so most bad entries end in a clean refusal.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.reliability.badvalues import TEXT_VALUES, long_string
from tests.reliability.judge import Found
from xlar.domain.bank import BankLine
from xlar.imports.bank import parse_statement

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "bank"
BILLION_LAUGHS = ('<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa">'
                  + "".join(f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcdefgh", "bcdefghi"))
                  + "]>")
XXE = '<!DOCTYPE Document [<!ENTITY i SYSTEM "file:///etc/hostname">]>'
ENCODINGS = ("utf-16", "utf-16-le", "latin-1", "cp1252", "shift_jis", "gbk", "utf-32")


@dataclass(frozen=True, slots=True)
class TextInput:
    """One malformed file: its bytes, and the good entries planted in it (key -> where it ends)."""

    target: str
    kind: str
    detail: str
    data: bytes
    good: dict[str, int]
    fmt: str | None = None
    cut: int | None = None        # a truncated file keeps the entries wholly before the cut

    @property
    def expected(self) -> frozenset[str]:
        return frozenset(k for k, end in self.good.items() if self.cut is None or end <= self.cut)

    @property
    def case(self) -> str:
        return f"{self.target} {self.kind}: {self.detail}"


def line_key(line: BankLine) -> str:
    return f"{line.reference}|{line.amount}"


def parsed(item: TextInput) -> Found:
    return Found(frozenset(line_key(line) for line in parse_statement(item.data, item.fmt)))


@dataclass(slots=True)
class Assembly:
    """A text file built piece by piece, remembering where each good entry ends."""

    parts: list[str]
    good: dict[str, int]

    def add(self, piece: str, key: str | None = None) -> None:
        self.parts.append(piece)
        if key is not None:
            self.good[key] = len(self.text().encode("utf-8"))

    def text(self) -> str:
        return "".join(self.parts)


def _finish(target: str, kind: str, detail: str, built: Assembly, rng: random.Random,
            fmt: str | None, encoding: str = "utf-8") -> TextInput:
    data = built.text().encode(encoding, errors="replace")
    if kind == "truncated":
        cut = rng.randrange(1, max(2, len(data)))
        return TextInput(target, kind, f"{detail} cut at byte {cut} of {len(data)}", data[:cut], built.good,
                         fmt, cut)
    if kind == "random_bytes" and rng.random() < 0.3:
        return TextInput(target, kind, "random bytes only", rng.randbytes(rng.randrange(1, 4000)), {}, fmt)
    return TextInput(target, kind, detail, data, built.good, fmt)


def _bad_value(rng: random.Random, kind: str) -> str:
    if kind == "long_text":
        return long_string(rng)
    if kind == "random_bytes":
        return rng.randbytes(rng.randrange(1, 60)).decode("latin-1")
    return rng.choice(TEXT_VALUES.get(kind, TEXT_VALUES["wrong_type"]))


# ---------------------------------------------------------------- CSV

CSV_HEADER = ("date", "amount", "currency", "payer", "reference")


def _amount(i: int) -> str:
    return f"{100 + i}.{(i * 7) % 100:02d}"


def _csv_good(key: str, i: int) -> list[str]:
    return [f"2026-03-{1 + i % 28:02d}", _amount(i), "CNY", "Good Payer Ltd", key]


def _csv_row(cells: Sequence[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' if any(x in c for x in ',"\n\r') else c for c in cells)


CSV_STRUCTURE = ("extra cells", "missing cells", "unclosed quote", "quote closed later", "quoted line break",
                 "repeated header", "NUL byte", "blank merged cells")


def _turn(tag: str, kinds: int) -> int:
    """Which round of the kinds input TAG is in: sub-kinds (which structure damage) cycle with it."""
    return int("".join(ch for ch in tag if ch.isdigit()) or 0) // kinds


def csv_input(rng: random.Random, kind: str, tag: str) -> TextInput:
    header = list(CSV_HEADER)
    detail = kind
    if kind == "missing_header":
        gone = rng.choice([*CSV_HEADER, "the whole header"])
        header = [] if gone == "the whole header" else [h for h in header if h != gone]
        detail = f"no {gone!r} column"
    elif kind == "duplicated_header":
        twice = rng.choice(CSV_HEADER)
        header.append(twice)
        detail = f"{twice!r} twice"
    keys = [f"GOOD-{tag}-{i}" for i in range(rng.randint(2, 6))]
    rows = {key: dict(zip(CSV_HEADER, _csv_good(key, i))) for i, key in enumerate(keys)}
    built = Assembly(["Statement export\n"] if rng.random() < 0.2 else [], {})
    if header:
        built.add(_csv_row(header) + "\n")
    columns = header or list(CSV_HEADER)    # no header line: the rows keep every column
    bad_at = rng.randrange(1, len(keys))
    for i, key in enumerate(keys):
        if i == bad_at:
            detail += "; " + _csv_bad_row(rng, kind, columns, built, _turn(tag, len(KINDS)))
        cells = [rows[key][h] for h in columns]
        reference = key if "reference" in header else ""
        built.add(_csv_row(cells) + rng.choice(["\n", "\r\n"]), f"{reference}|{_amount(i)}")
    if kind == "missing_header" and not {"date", "amount", "currency"} <= set(header):
        built.good.clear()    # the file cannot be read without them: refused, or nothing is expected
    encoding = rng.choice(ENCODINGS) if kind == "wrong_encoding" else "utf-8"
    return _finish("bank_csv", kind, detail + (f" in {encoding}" if kind == "wrong_encoding" else ""),
                   built, rng, rng.choice(["csv", None]), encoding)


def _csv_bad_row(rng: random.Random, kind: str, header: list[str], built: Assembly, turn: int) -> str:
    """Append the bad row for KIND; say what it is."""
    cells = {h: v for h, v in zip(CSV_HEADER, _csv_good("BAD", 99))}
    if kind == "structure":
        what = CSV_STRUCTURE[turn % len(CSV_STRUCTURE)]
        row = [cells[h] for h in header]
        text = {"extra cells": _csv_row([*row, "x", "y"]), "missing cells": _csv_row(row[:2]),
                "unclosed quote": _csv_row(row[:-1]) + ',"oops', "quote closed later": _csv_row(row[:-1]) + ',"oops',
                "quoted line break": _csv_row([*row[:-1], "two\nlines, with, commas"]),
                "repeated header": _csv_row(header), "NUL byte": _csv_row(row) + "\x00",
                "blank merged cells": _csv_row(["" for _ in row[:-1]] + [row[-1]])}[what]
        built.add(text + "\n")
        if what == "quote closed later":
            built.parts.append('tail"\n')
        return what
    field = rng.choice(CSV_HEADER)
    value = _bad_value(rng, kind)
    if kind == "long_text" and rng.random() < 0.2:
        value = "x" * 200_000     # beyond the csv module's field limit
    cells[field] = value
    if kind == "wrong_encoding":
        cells["payer"] = rng.choice(["Café Müller GmbH", "株式会社テスト", "“smart quotes”", "Ærøskøbing"])
    built.add(_csv_row([cells[h] for h in header]) + "\n")
    return f"{field}={value[:30]!r}" + (f"...({len(value):,} chars)" if len(value) > 30 else "")


# ---------------------------------------------------------------- MT940

def _mt940_entry(key: str, i: int) -> str:
    return f":61:2603{1 + i % 28:02d}03{1 + i % 28:02d}C{_amount(i).replace('.', ',')}NTRFNONREF//B{i}\n:86:{key}\n"


MT940_HEAD = ":20:FUZZ{n}\n:25:NL91ABNA0417164300\n:28C:00001/001\n:60F:C260301EUR1000,00\n"
MT940_TAIL = ":62F:C260331EUR2000,00\n-\n"
MT940_BAD = {
    "wrong_type": (":61:2603AA0302C12,00NTRFNONREF\n", ":61:2603020302X12,00NTRFNONREF\n",
                   ":61:2603020302C12A,00NTRFNONREF\n", ":61:2603020302C12.00NTRFNONREF\n",
                   ":61:2603020302C1,2,3NTRFNONREF\n", ":61:2603\n"),
    "huge_number": (":61:2603020302C99999999999999999999,99NTRFNONREF\n", ":61:2603020302C999999999999999,NTRFNONREF\n",
                    ":61:2603020302C0,0000001NTRFNONREF\n"),
    "negative_number": (":61:2603020302C-5,00NTRFNONREF\n", ":61:2603020302RC5,00NTRFNONREF\n",
                        ":61:2603020302D0,NTRFNONREF\n"),
    "pre_1900_date": (":61:0002300230C5,00NTRFNONREF\n", ":61:0000000000C5,00NTRFNONREF\n",
                      ":61:9913320101C5,00NTRFNONREF\n"),
    "unknown_enum": (":61:2603020302Q5,00NTRFNONREF\n", ":61:2603020302C5,00ZZZZNONREF\n",
                     ":61:2603020302CX5,00NTRFNONREF\n"),
    "duplicated_header": (":20:AGAIN\n", ":25:SECOND-ACCOUNT\n", ":60F:C260301USD5,00\n", ":28C:2/2\n"),
    "structure": (":99:unknown tag\n", ":86:details without an entry\n", ":61:2603020302C5,00NTRFNONREF\n",
                  "\n\n", "-\n", ":86:GOOD\n:61: looks like a tag\n", ":62F:C260331EUR1,00\n"),
}


def mt940_input(rng: random.Random, kind: str, tag: str) -> TextInput:
    keys = [f"GOOD-{tag}-{i}" for i in range(rng.randint(2, 6))]
    built = Assembly([], {})
    head = MT940_HEAD.format(n=tag)
    detail, gone = kind, ""
    if kind == "missing_header":
        gone = rng.choice([":20:", ":25:", ":60F:", ":62F:", ":28C:"])
        head = "".join(line + "\n" for line in head.splitlines() if not line.startswith(gone))
        detail = f"no {gone}"
    built.add(head)
    bad_at = rng.randrange(1, len(keys))
    for i, key in enumerate(keys):
        if i == bad_at:
            bad = _mt940_bad(rng, kind, _turn(tag, len(KINDS)))
            built.add(bad)
            detail += f"; {bad[:50]!r}"
        built.add(_mt940_entry(key, i), f"{key}|{_amount(i)}")
    built.add("-\n" if gone == ":62F:" else MT940_TAIL)
    if gone in (":20:", ":60F:", ":62F:"):
        built.good.clear()    # no statement, no currency, or cut short: refused, or nothing is expected
    if rng.random() < 0.3 and kind != "truncated":
        built.parts = [p.replace("\n", "\r\n") for p in built.parts]   # CRLF: offsets only matter when cut
    encoding = rng.choice(ENCODINGS) if kind == "wrong_encoding" else "utf-8"
    return _finish("mt940", kind, detail + (f" in {encoding}" if kind == "wrong_encoding" else ""),
                   built, rng, rng.choice(["mt940", None]), encoding)


def _mt940_bad(rng: random.Random, kind: str, turn: int) -> str:
    if kind in MT940_BAD:
        return MT940_BAD[kind][turn % len(MT940_BAD[kind])]
    value = _bad_value(rng, kind)
    if kind == "wrong_encoding":
        value = "Café Müller, Ærøskøbing"
    return f":61:2603020302C7,00NTRFNONREF//BAD\n:86:{value}\n" if rng.random() < 0.7 else \
        f":61:2603020302C{value}NTRFNONREF\n:86:BAD\n"


# ---------------------------------------------------------------- camt.053

CAMT_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n{dtd}<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
             'camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>F{n}</MsgId></GrpHdr><Stmt><Id>S{n}</Id>'
             "<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>\n")
CAMT_TAIL = "</Stmt></BkToCstmrStmt></Document>\n"


def _camt_entry(ustrd: str, amount: str = "100.00", ccy: str = "EUR", mark: str = "CRDT",
                booked: str = "2026-03-02", extra: str = "") -> str:
    return (f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{mark}</CdtDbtInd><Sts>BOOK</Sts>'
            f"<BookgDt><Dt>{booked}</Dt></BookgDt><ValDt><Dt>{booked}</Dt></ValDt>{extra}"
            f"<NtryDtls><TxDtls><RmtInf><Ustrd>{ustrd}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


CAMT_STRUCTURE = (
    "<Ntry><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry>\n",
    '<Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>\n',
    ('<Ntry><Amt Ccy="EUR">5.00</Amt><Amt Ccy="USD">7.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
     "<BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry>\n"),
    ('<Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-03-02</Dt></BookgDt>'
     '<NtryDtls><TxDtls><Amt Ccy="EUR">1.00</Amt></TxDtls><TxDtls><Amt Ccy="EUR">9.00</Amt></TxDtls>'
     "</NtryDtls></Ntry>\n"),
    "<Ntry><Ntry/></Ntry>\n", "<!-- a comment --><?pi here?>\n", "<![CDATA[<Ntry>]]>\n",
    _camt_entry("<![CDATA[=1+1 & more]]>"), _camt_entry("a &unknown; entity"), _camt_entry("bad &#1; char"),
    _camt_entry("raw \x01 control"), "<Ntry>" * 500 + "</Ntry>" * 500 + "\n", "</Stmt><Stmt><Id>S2</Id>\n",
)


def camt_input(rng: random.Random, kind: str, tag: str) -> TextInput:
    keys = [f"GOOD-{tag}-{i}" for i in range(rng.randint(2, 5))]
    dtd, detail = "", kind
    if kind == "entity_bomb":
        dtd = rng.choice([BILLION_LAUGHS, XXE, '<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/x.dtd">',
                          '<!DOCTYPE Document [<!ENTITY % p "x">]>'])
        detail = f"DTD {dtd[:40]!r}"
    head = CAMT_HEAD.format(dtd=dtd, n=tag)
    if kind == "duplicated_header":
        head = head.replace("<GrpHdr>", "<GrpHdr><MsgId>X</MsgId></GrpHdr><GrpHdr>")
    if kind == "missing_header":
        head = rng.choice([head.replace("<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>", ""),
                           head.replace("<BkToCstmrStmt>", "<BkToCstmrStmtX>"), head.replace("<Stmt>", "<Stmnt>")])
    built = Assembly([head], {})
    bad_at = rng.randrange(1, len(keys))
    for i, key in enumerate(keys):
        if i == bad_at:
            bad = _camt_bad(rng, kind, _turn(tag, len(KINDS) + 2))
            built.add(bad)
            detail += f"; {bad[:60]!r}"
        built.add(_camt_entry(key, _amount(i)), f"{key}|{_amount(i)}")
    tail = CAMT_TAIL
    if "<BkToCstmrStmtX>" in head:
        tail = tail.replace("</BkToCstmrStmt>", "</BkToCstmrStmtX>")
    elif "<Stmnt>" in head:
        tail = tail.replace("</Stmt>", "</Stmnt>")
    built.add(tail)
    if "<BkToCstmrStmtX>" in head or "<Stmnt>" in head:
        built.good.clear()    # no statement the reader knows: refused, or nothing is expected
    encoding = rng.choice(ENCODINGS) if kind == "wrong_encoding" else "utf-8"
    return _finish("camt053", kind, detail + (f" in {encoding}" if kind == "wrong_encoding" else ""),
                   built, rng, rng.choice(["camt053", None]), encoding)


def _camt_bad(rng: random.Random, kind: str, turn: int) -> str:
    if kind == "structure":
        return CAMT_STRUCTURE[turn % len(CAMT_STRUCTURE)]
    if kind == "entity_bomb":
        return _camt_entry("&i;")
    if kind in ("long_text", "formula", "control_chars", "wrong_encoding", "random_bytes", "error_value"):
        value = _bad_value(rng, kind) if kind != "wrong_encoding" else "Café Müller"
        return _camt_entry(_xml_text(value)) if rng.random() < 0.7 else _camt_entry("BAD", amount=_xml_text(value))
    value = _xml_text(_bad_value(rng, kind))
    where = rng.choice(["amount", "ccy", "mark", "booked"])
    return _camt_entry("BAD", **{where: value})


# ---------------------------------------------------------------- the real files, cut short

def sample_inputs(rng: random.Random, n: int) -> list[TextInput]:
    """The sample statements cut, or overwritten, at random places: checked for crashes (what
    survives a cut is not known in advance; the synthetic files count rows)."""
    files = sorted(SAMPLES.glob("*.sta")) + sorted(SAMPLES.glob("*.xml")) if SAMPLES.is_dir() else []
    inputs = []
    for i in range(n if files else 0):
        path = files[i % len(files)]
        data = path.read_bytes()
        cut = rng.randrange(1, len(data))
        mangled = data[:cut] if rng.random() < 0.7 else data[:cut] + rng.randbytes(8) + data[cut + 8:]
        inputs.append(TextInput("bank_sample", "truncated", f"{path.name} damaged at byte {cut}", mangled, {}))
    return inputs


KINDS = ("wrong_type", "missing_header", "duplicated_header", "formula", "error_value", "long_text",
         "huge_number", "negative_number", "pre_1900_date", "unknown_enum", "control_chars", "structure",
         "wrong_encoding", "truncated", "random_bytes")
MAKERS: dict[str, Callable[[random.Random, str, str], TextInput]] = {
    "bank_csv": csv_input, "mt940": mt940_input, "camt053": camt_input}


def bank_inputs(target: str, rng: random.Random, n: int) -> list[TextInput]:
    """N inputs for TARGET, the kinds in turn (camt.053 adds entity bombs)."""
    kinds = KINDS + (("entity_bomb", "entity_bomb") if target == "camt053" else ())
    return [MAKERS[target](rng, kinds[i % len(kinds)], f"{target[:2]}{i}") for i in range(n)]
