"""Damage to a workbook beyond one row: its header row, its sheets, its XML parts, its zip.

`damage_sheet` returns the changed parts and the good keys still expected; `damage_file`
rewrites the written file and returns the same. A header or file the reader cannot take
must be refused whole (a sheet-level issue, or an XlarError); anything it does take must
hold every good row.
"""

from __future__ import annotations

import random
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from tests.reliability.badvalues import XCell, text
from tests.reliability.fuzz_bank import BILLION_LAUGHS, XXE
from tests.reliability.xlsx import Template, header
from xlar.workbook.package import column_letters

if TYPE_CHECKING:
    from tests.reliability.fuzz_book import Sheetful

SHEET_KINDS = ("missing_header", "duplicated_header", "merged_header", "title_rows", "duplicate_sheet",
               "dimension_lies")
FILE_KINDS = ("truncated", "random_bytes", "entity_bomb", "missing_part", "bad_crc", "broken_xml",
              "wrong_encoding", "far_cell", "bad_shared_string")
KEY_COLUMNS = {"Customers": {"code"}, "PaymentTerms": {"code"}, "FxRates": {"currency", "period"},
               "Receipts": {"memo"}, "Contacts": {"result"}, "Invoices": {"memo"}, "InvoiceLines": {"item"}}
ZH_VARIANT = {"Customers": "客户", "PaymentTerms": "付款条件", "FxRates": "汇率", "Receipts": "收款单",
              "Contacts": "催收记录", "Invoices": "发票", "InvoiceLines": "发票明细"}


def _droppable(sheet: Sheetful, rng: random.Random) -> int:
    """A header to lose: a required one (the sheet must then be refused) or one the key does not need."""
    schema = sheet.plan.schema
    keyed = KEY_COLUMNS[schema.name]
    choices = [i for i, col in enumerate(schema.columns) if col.required or col.key not in keyed]
    return rng.choice(choices)


def damage_sheet(rng: random.Random, kind: str, template: Template,
                 sheet: Sheetful) -> tuple[dict[str, bytes], str, list[str]]:
    schema = sheet.plan.schema
    part = template.sheets[schema.name]
    head: list[XCell | None] = header(schema)
    if kind == "missing_header":
        at = _droppable(sheet, rng)
        if rng.random() < 0.15:
            return {part: template.sheet(schema.name, sheet.rows)}, "no header row at all", sheet.good
        head[at] = None
        return {part: sheet.part(template, head)}, f"header {schema.columns[at].en!r} blank", sheet.good
    if kind == "duplicated_header":
        at = rng.randrange(len(schema.columns))
        col = schema.columns[at]
        label = rng.choice([col.en, col.zh, f"  {col.en.upper()} ", col.key, col.en.replace(" ", "\n")])
        head.append(text(label))
        for row in sheet.rows:
            row.extend([None] * (len(head) - 1 - len(row)) + [row[at] if at < len(row) else None])
        return {part: sheet.part(template, head)}, f"{col.en!r} again as {label!r}", sheet.good
    if kind == "merged_header":
        at = _droppable(sheet, rng)
        start = max(0, at - 1)
        head[at] = None
        sheet.merges.append(f"{column_letters(start)}1:{column_letters(at)}1")
        return {part: sheet.part(template, head)}, f"header merged over {sheet.merges[-1]}", sheet.good
    if kind == "title_rows":
        many = rng.choice([1, 2, 3, 25])
        titles = [[text(f"{schema.name} list, as of 2026-03-31")] for _ in range(many)]
        body = template.sheet(schema.name, [*titles, head, *sheet.rows], [f"A1:F{many}"])
        return {part: body}, f"{many} title rows above the header", sheet.good
    if kind == "duplicate_sheet":
        copy = template.sheet(schema.name, [head, [text("DUP-1")] + [None] * 3])
        return ({part: sheet.part(template)} | template.with_sheet(ZH_VARIANT[schema.name], copy),
                f"a second sheet {ZH_VARIANT[schema.name]!r}", sheet.good)
    body = sheet.part(template).decode()
    lie = rng.choice(["A1", "A1:B2", "A1:XFD1048576", "Z99:A1", "nonsense"])
    body = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{lie}"', body, count=1)
    return {part: body.encode()}, f"dimension {lie!r}", sheet.good


def _with_dtd(xml: bytes, dtd: str, root: str) -> bytes:
    body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", xml)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + dtd.replace("Document", root).encode() + body


def damage_file(rng: random.Random, kind: str, template: Template, path: Path, changed: dict[str, bytes],
                good: list[str], sheet: str) -> tuple[str, list[str]]:
    """Damage the workbook at PATH (written from TEMPLATE with CHANGED parts; SHEET's rows are the
    input) by KIND; say how, and which good keys are still expected (none from a cut or overwritten
    zip: it is checked for crashes only)."""
    data = path.read_bytes()
    if kind == "truncated":
        at = rng.randrange(1, len(data))
        path.write_bytes(data[:at])
        return f"cut at byte {at} of {len(data)}", []
    if kind == "random_bytes":
        if rng.random() < 0.3:
            path.write_bytes(rng.randbytes(rng.randrange(0, 5000)))
            return "random bytes only", []
        at, size = rng.randint(0, len(data) - 1), rng.randint(1, 64)
        path.write_bytes(data[:at] + rng.randbytes(size) + data[at + size:])
        return f"{size} random bytes at {at}", []
    sheet_part = template.sheets[sheet]
    parts = dict(changed)
    if kind == "bad_crc":   # a byte flipped in the sheet's column widths, its CRC left as it was
        template.write(path, parts)
        _flip_in(path, sheet_part)
        return f"a byte flipped in {sheet_part}'s <cols>", good
    if kind == "missing_part":
        victim = rng.choice([sheet_part, *PACKAGE_PARTS])
        template.write(path, parts, [victim])
        return f"no {victim}", good
    detail = PART_DAMAGE[kind](rng, template, parts, sheet_part)
    template.write(path, parts)
    return detail, good


PACKAGE_PARTS = ("xl/workbook.xml", "xl/styles.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels",
                 "_rels/.rels", "docProps/core.xml")


def _bomb(rng: random.Random, template: Template, parts: dict[str, bytes], sheet_part: str) -> str:
    victim = rng.choice([sheet_part, *PACKAGE_PARTS])
    source = parts.get(victim, template.parts[victim])
    root = re.search(rb"<([A-Za-z:]+)[\s>]", re.sub(rb"^<\?xml[^>]*\?>\s*", b"", source))
    bombed = _with_dtd(source, rng.choice([BILLION_LAUGHS, XXE]), root[1].decode() if root else "x")
    parts[victim] = bombed.replace(b"<t>_rev</t>", b"<t>_rev&i;</t>", 1) if victim == sheet_part else bombed
    return f"entity declarations in {victim}"


def _broken_xml(rng: random.Random, _template: Template, parts: dict[str, bytes], sheet_part: str) -> str:
    body = parts[sheet_part]
    how = rng.choice(["unclosed row", "stray <", "raw control", "cut part"])
    parts[sheet_part] = {"unclosed row": body.replace(b"</row>", b"", 1),
                         "stray <": body.replace(b"<sheetData>", b"<sheetData><<", 1),
                         "raw control": body.replace(b"</t>", b"\x01</t>", 1),
                         "cut part": body[: len(body) // 2]}[how]
    return f"{how} in {sheet_part}"


def _encoding(rng: random.Random, _template: Template, parts: dict[str, bytes], sheet_part: str) -> str:
    body = parts[sheet_part]
    how = rng.choice(["utf-16 part", "declared utf-16", "declared latin-1 with CJK"])
    if how == "utf-16 part":
        parts[sheet_part] = ('<?xml version="1.0" encoding="UTF-16"?>' + body.decode()).encode("utf-16")
    elif how == "declared utf-16":
        parts[sheet_part] = b'<?xml version="1.0" encoding="UTF-16"?>' + body
    else:
        parts[sheet_part] = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + body.replace(
            b"<t>_rev</t>", "<t>_rev 修订</t>".encode(), 1)
    return how


def _far_cell(rng: random.Random, _template: Template, parts: dict[str, bytes], sheet_part: str) -> str:
    row, col = rng.choice([(150_000, "A"), (1000, "ZZ"), (60_000, "C")])
    parts[sheet_part] = parts[sheet_part].replace(
        b"</sheetData>", f'<row r="{row}"><c r="{col}{row}" t="inlineStr"><is><t>stray</t></is></c></row>'
        "</sheetData>".encode(), 1)
    return f"a stray cell at {col}{row}"


def _shared_string(_rng: random.Random, _template: Template, parts: dict[str, bytes], sheet_part: str) -> str:
    parts[sheet_part] = parts[sheet_part].replace(
        b"</sheetData>", b'<row r="9000"><c r="A9000" t="s"><v>99</v></c></row></sheetData>', 1)
    return "a shared string that does not exist"


PART_DAMAGE = {"entity_bomb": _bomb, "broken_xml": _broken_xml, "wrong_encoding": _encoding,
               "far_cell": _far_cell, "bad_shared_string": _shared_string}


def _flip_in(path: Path, part: str) -> None:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(part)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    body = bytes(data[start:start + info.compress_size])
    where = body.find(b'width="')
    if where < 0:
        where = len(body) // 3
    at = start + where + 7
    data[at] = ord("9") if data[at] != ord("9") else ord("8")
    path.write_bytes(bytes(data))
