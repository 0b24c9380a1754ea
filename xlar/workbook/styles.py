"""xl/styles.xml as a parsed tree: formats, fonts and cell styles found by value or added once.

Excel allows 512 fonts and 64,000 cell formats in a workbook; a writer that appends a style
on every sync grows the file until Excel repairs or refuses it. Here every record is compared
by value (attributes and children, in the schema's order), so what the writer needs is found
when it is there and added once when it is not. A style sheet bloated by an earlier version
is compacted: equal fonts, fills, borders, number formats and cell formats are merged, and
the caller remaps its cells' style indices with the map `compact` returns.

Child order follows the Open XML SDK's schema (what Excel checks when it decides to repair a
file): a <font> written by openpyxl (name, family, color, sz, …) is put in Excel's order.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_M = f"{{{MAIN_NS}}}"
_BUILTIN_DATE_FORMATS = {*range(14, 23), *range(45, 48)}
FIRST_CUSTOM_FORMAT = 164

# CT_Stylesheet's children and CT_Font's, in the order the schema (and Excel) wants them
SHEET_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
               "tableStyles", "colors", "extLst")
FONT_ORDER = ("b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz", "color",
              "name", "family", "charset", "scheme")
XF_ORDER = ("alignment", "protection", "extLst")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
_DEFAULT_XF = {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0"}
_FALSE_BY_DEFAULT = ("pivotButton", "quotePrefix")
_TRUE_BY_DEFAULT = ("b", "i", "strike", "condense", "extend", "outline", "shadow")  # <b/> = <b val="1"/>


def parse_xml(data: bytes) -> Any:
    """A part parsed without DTDs or entities (an entity could expand without bound)."""
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise ValueError("XML with a DTD or entity declarations is refused")
    return etree.fromstring(data, _PARSER)


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _ordered(el: Any, order: tuple[str, ...]) -> None:
    """Put EL's children in ORDER (unknown ones keep their place at the end, in their order)."""
    rank = {name: i for i, name in enumerate(order)}
    children = [c for c in el if isinstance(c.tag, str)]
    ranked = sorted(children, key=lambda c: rank.get(_local(c), len(order)))
    if ranked != children:
        for c in children:
            el.remove(c)
        el.extend(ranked)


def value_key(el: Any) -> tuple[object, ...]:
    """What a style record IS: its name, attributes and children, whatever their written order."""
    attrs = dict(el.attrib)
    if _local(el) == "xf":
        for name in _FALSE_BY_DEFAULT:   # openpyxl writes pivotButton="0": the same as leaving it out
            if attrs.get(name) in ("0", "false"):
                del attrs[name]
        for name, default in _DEFAULT_XF.items():
            attrs.setdefault(name, default)
    elif _local(el) in _TRUE_BY_DEFAULT and attrs.get("val") in ("1", "true"):
        del attrs["val"]
    children = tuple(sorted(value_key(c) for c in el if isinstance(c.tag, str)))
    return (_local(el), tuple(sorted(attrs.items())), (el.text or "").strip(), children)


class StyleSheet:
    """xl/styles.xml, parsed: look up or add number formats, bold fonts and cell formats."""

    def __init__(self, xml: bytes | None) -> None:
        self.original = xml
        self.root = parse_xml(xml) if xml else etree.Element(f"{_M}styleSheet", nsmap={None: MAIN_NS})
        for font in self.root.iter(f"{_M}font"):
            _ordered(font, FONT_ORDER)
        for xf in self.root.iter(f"{_M}xf"):
            _ordered(xf, XF_ORDER)
        _ordered(self.root, SHEET_ORDER)
        self.num_fmts = {int(f.get("numFmtId")): f.get("formatCode", "")
                         for f in self.items("numFmts")}
        self._keys: dict[str, dict[tuple[object, ...], int]] = {}

    # ---- the blocks -----------------------------------------------------------------------

    def _block(self, name: str) -> Any:
        """The <NAME> block, made (in its place) if missing."""
        found = self.root.find(f"{_M}{name}")
        if found is not None:
            return found
        block = etree.Element(f"{_M}{name}")
        later = set(SHEET_ORDER[SHEET_ORDER.index(name) + 1:])
        for i, child in enumerate(self.root):
            if _local(child) in later:
                self.root.insert(i, block)
                break
        else:
            self.root.append(block)
        return block

    def items(self, block: str) -> list[Any]:
        found = self.root.find(f"{_M}{block}")
        return [] if found is None else [c for c in found if isinstance(c.tag, str)]

    def _index(self, block: str) -> dict[tuple[object, ...], int]:
        if block not in self._keys:
            keys: dict[tuple[object, ...], int] = {}
            for i, el in enumerate(self.items(block)):
                keys.setdefault(value_key(el), i)
            self._keys[block] = keys
        return self._keys[block]

    def find_or_add(self, block: str, el: Any) -> int:
        """The index of a record equal to EL in BLOCK, EL appended if there is none."""
        keys = self._index(block)
        key = value_key(el)
        if key in keys:
            return keys[key]
        container = self._block(block)
        container.append(el)
        keys[key] = len(self.items(block)) - 1
        container.set("count", str(len(self.items(block))))
        return keys[key]

    # ---- lookups --------------------------------------------------------------------------

    def xf(self, index: int) -> Any | None:
        xfs = self.items("cellXfs")
        return xfs[index] if 0 <= index < len(xfs) else None

    def format_of(self, index: int) -> tuple[int, str]:
        found = self.xf(index)
        if found is None:
            return 0, "General"
        fmt_id = int(found.get("numFmtId", "0"))
        return fmt_id, self.num_fmts.get(fmt_id, "")

    def is_date(self, index: int) -> bool:
        fmt_id, code = self.format_of(index)
        if fmt_id in _BUILTIN_DATE_FORMATS:
            return True
        bare = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code).lower()
        return fmt_id >= FIRST_CUSTOM_FORMAT and any(ch in bare for ch in "ymd")

    def format_id(self, code: str) -> int:
        for fmt_id, known in self.num_fmts.items():
            if known == code:
                return fmt_id
        fmt_id = max([FIRST_CUSTOM_FORMAT - 1, *self.num_fmts]) + 1
        self.num_fmts[fmt_id] = code
        block = self._block("numFmts")
        etree.SubElement(block, f"{_M}numFmt", numFmtId=str(fmt_id), formatCode=code)
        block.set("count", str(len(self.items("numFmts"))))
        return fmt_id

    def bold_font(self, base: int) -> int:
        """The index of font BASE made bold (found by value, or added once)."""
        fonts = self.items("fonts")
        font = etree.fromstring(etree.tostring(fonts[base])) if 0 <= base < len(fonts) \
            else etree.Element(f"{_M}font")
        for b in font.findall(f"{_M}b"):
            font.remove(b)
        etree.SubElement(font, f"{_M}b")
        _ordered(font, FONT_ORDER)
        return self.find_or_add("fonts", font)

    def style(self, base: int = 0, *, number_format: str | None = None, bold: bool = False,
              right: bool = False) -> int:
        """The index of a cell format like BASE with these changes (found by value, or added once)."""
        found = self.xf(base)
        xf = etree.fromstring(etree.tostring(found)) if found is not None else etree.Element(
            f"{_M}xf", {**_DEFAULT_XF, "xfId": "0"})
        if number_format is not None:
            xf.set("numFmtId", str(self.format_id(number_format)))
            xf.set("applyNumberFormat", "1")
        if bold:
            xf.set("fontId", str(self.bold_font(int(xf.get("fontId", "0")))))
            xf.set("applyFont", "1")
        if right:
            align = xf.find(f"{_M}alignment")
            if align is None:
                align = etree.SubElement(xf, f"{_M}alignment")
            align.set("horizontal", "right")
            xf.set("applyAlignment", "1")
            _ordered(xf, XF_ORDER)
        if found is not None and value_key(xf) == value_key(found):
            return base
        return self.find_or_add("cellXfs", xf)

    # ---- compaction -----------------------------------------------------------------------

    def _dedupe(self, block: str, fixed: int = 0) -> dict[int, int]:
        """Drop records of BLOCK equal to an earlier one (the first FIXED always stay, as the two
        fills Excel reserves); returns old -> new index where a record moved."""
        container = self._block(block)
        kept: dict[tuple[object, ...], int] = {}
        remap: dict[int, int] = {}
        for i, el in enumerate(self.items(block)):
            key = value_key(el) if i >= fixed else (i,)
            if key in kept:
                remap[i] = kept[key]
                container.remove(el)
            else:
                kept[key] = len(kept)
                if kept[key] != i:
                    remap[i] = kept[key]
        if remap:
            container.set("count", str(len(kept)))
            self._keys.clear()
        return remap

    def _merge(self, block: str, attr: str, fixed: int = 0) -> None:
        """Merge equal records of BLOCK, pointing the cell formats' ATTR at the kept ones."""
        remap = self._dedupe(block, fixed)
        for xf_block in ("cellStyleXfs", "cellXfs"):
            for el in self.items(xf_block):
                if el.get(attr) is not None and int(el.get(attr)) in remap:
                    el.set(attr, str(remap[int(el.get(attr))]))

    def _merge_formats(self) -> None:
        """Custom number formats with the same code become one (the lowest id)."""
        first: dict[str, int] = {}
        remap: dict[int, int] = {}
        block = self._block("numFmts")
        for el in self.items("numFmts"):
            fmt_id, code = int(el.get("numFmtId")), el.get("formatCode", "")
            if code in first and fmt_id >= FIRST_CUSTOM_FORMAT:
                remap[fmt_id] = first[code]
                block.remove(el)
            else:
                first.setdefault(code, fmt_id)
        if not remap:
            return
        block.set("count", str(len(self.items("numFmts"))))
        self.num_fmts = {i: c for i, c in self.num_fmts.items() if i not in remap}
        for xf_block in ("cellStyleXfs", "cellXfs"):
            for el in self.items(xf_block):
                if int(el.get("numFmtId", "0")) in remap:
                    el.set("numFmtId", str(remap[int(el.get("numFmtId"))]))
        self._keys.clear()

    def compact(self) -> dict[int, int]:
        """Merge equal formats, fonts, fills, borders and cell formats; returns old -> new cell
        format index where cells must be remapped (empty when nothing moved)."""
        self._merge_formats()
        for block, attr, fixed in (("fonts", "fontId", 0), ("fills", "fillId", 2), ("borders", "borderId", 0)):
            self._merge(block, attr, fixed)
        return self._dedupe("cellXfs")

    # ---- writing --------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        written: bytes = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8", standalone=True)
        return written

    def changed(self) -> bool:
        return self.original is None or self.to_bytes() != self.original


_STYLE_ATTR = re.compile(rb'(<(?:\w+:)?(?:c|row)\b[^>]*?\bs=")(\d+)(")|(<(?:\w+:)?col\b[^>]*?\bstyle=")(\d+)(")')


def remap_cells(sheet_xml: bytes, remap: dict[int, int]) -> bytes:
    """SHEET_XML with every cell's, row's and column's style index moved by REMAP."""
    moving = {str(old).encode(): str(new).encode() for old, new in remap.items() if old != new}
    if not moving:
        return sheet_xml
    # only the indices that move are matched (the closing quote makes each a whole number)
    longest_first: list[bytes] = sorted(moving, key=len, reverse=True)
    indices = b"|".join(longest_first)
    pattern = re.compile(_STYLE_ATTR.pattern.replace(rb"(\d+)", b"(" + indices + b")"))

    def moved(m: re.Match[bytes]) -> bytes:
        if m.group(1):
            return m.group(1) + moving[m.group(2)] + m.group(3)
        return m.group(4) + moving[m.group(5)] + m.group(6)
    return pattern.sub(moved, sheet_xml)


def normalized_package(data: bytes) -> bytes:
    """An .xlsx package's bytes with its style sheet in the schema's order (see the module doc)."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        if "xl/styles.xml" not in src.namelist():
            return data
        styles = StyleSheet(src.read("xl/styles.xml"))
        if not styles.changed():
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                body = styles.to_bytes() if info.filename == "xl/styles.xml" else src.read(info.filename)
                dst.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
        return out.getvalue()


def save_book(save: Callable[[io.BytesIO], None], path: Path) -> None:
    """Write a workbook that SAVE (e.g. openpyxl's Workbook.save) puts into a buffer to PATH,
    with its style sheet as Excel wants it."""
    buffer = io.BytesIO()
    save(buffer)
    Path(path).write_bytes(normalized_package(buffer.getvalue()))
