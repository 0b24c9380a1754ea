"""The fonts a paper is drawn with: a font with Chinese glyphs, found on the machine
(`find_cjk_font`) or named in XLAR_PDF_FONT, registered whole (`add_cjk_font`) or cut down once
for a batch of papers to the characters they use (`BatchFonts`)."""

from __future__ import annotations

import os
import string
from collections.abc import Iterator, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path

from fontTools.ttLib import TTLibError
from fpdf import FPDF
from fpdf.fonts import TTFFont

from xlar.domain.errors import InvalidSetting
from xlar.reports.papers import LETTER_LABELS, STATEMENT_LABELS, Letter, Statement

FONT_ENV = "XLAR_PDF_FONT"
# (file, face index in a collection), in the order we try them: Windows, macOS, Linux.
CJK_FONTS: tuple[tuple[str, int], ...] = (
    ("C:/Windows/Fonts/msyh.ttc", 0), ("C:/Windows/Fonts/simhei.ttf", 0), ("C:/Windows/Fonts/simsun.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0), ("/System/Library/Fonts/STHeiti Light.ttc", 0),
    ("/Library/Fonts/Arial Unicode.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),   # 2 = Simplified Chinese
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
BOLD_FILES = {"msyh.ttc": "msyhbd.ttc"}
CJK_FAMILY = "xlar-cjk"
FONT_HINT = (f"set {FONT_ENV} to a .ttf/.ttc/.otf file with Chinese glyphs, e.g. C:/Windows/Fonts/msyh.ttc "
              "(add #N for face N of a .ttc)")

def find_cjk_font() -> tuple[Path, int] | None:
    """A font file that can draw Chinese and its face index: XLAR_PDF_FONT first, then the usual places."""
    setting = os.environ.get(FONT_ENV, "").strip()
    if setting:
        return _font_setting(setting)
    for name, index in CJK_FONTS:
        if Path(name).is_file():
            return Path(name), index
    return None


def _font_setting(setting: str) -> tuple[Path, int]:
    """Parse 'path' or 'path#index'; a setting that names no file is refused, not silently skipped."""
    name, _, index = setting.partition("#")
    if not Path(name).is_file():
        raise InvalidSetting(f"{FONT_ENV}={setting!r} is not a font file; {FONT_HINT}")
    if index and not index.isdigit():
        raise InvalidSetting(f"{FONT_ENV}={setting!r}: the face after '#' must be a number, e.g. #2")
    return Path(name), int(index or 0)


def bold_beside(regular: Path) -> Path | None:
    """The bold file that ships next to REGULAR (NotoSansCJK-Bold.ttc, msyhbd.ttc), if there is one."""
    name = BOLD_FILES.get(regular.name.lower(), regular.name.replace("Regular", "Bold"))
    bold = regular.with_name(name)
    return bold if name != regular.name and bold.is_file() else None


class BatchFonts:
    """For a batch of papers: the CJK font cut down once to the characters they all use, so
    that each paper loads a small font (reading a whole CJK font takes a second or more per
    paper). Without a CJK font on the machine it holds nothing and papers fall back as usual."""

    def __init__(self, papers: Sequence[Statement | Letter], folder: Path) -> None:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        self.files: dict[str, Path] = {}
        found = find_cjk_font() if papers else None
        if found is None:
            return
        chars = set(string.printable) | set("：（）…–—·，。；、“”第页共")
        for paper in papers:
            for text in paper_strings(paper):
                chars.update(text)
        for table in (STATEMENT_LABELS, LETTER_LABELS):
            for labels in table.values():
                for text in labels.values():
                    chars.update(text)
        regular, index = found
        options = subset.Options()
        options.name_IDs, options.notdef_outline, options.layout_features = ["*"], True, ["*"]
        for style, source in (("", regular), ("B", bold_beside(regular) or regular)):
            try:
                font = TTFont(source, fontNumber=index, lazy=True)
                cutter = subset.Subsetter(options)
                cutter.populate(text="".join(sorted(chars)))
                cutter.subset(font)
                self.files[style] = folder / f"xlar-cjk{style or 'R'}{source.suffix if source.suffix != '.ttc' else '.otf'}"
                font.save(self.files[style])
                font.close()
            except TTLibError as exc:
                raise InvalidSetting(f"{source}#{index} cannot be read as a font ({exc}); {FONT_HINT}") from None


def add_cjk_font(pdf: FPDF) -> None:
    """Register the CJK font as regular and bold (the regular again when no bold file exists)."""
    found = find_cjk_font()
    if found is None:
        raise InvalidSetting(f"no font with Chinese glyphs found for the PDF; {FONT_HINT}")
    regular, index = found
    try:
        pdf.add_font(CJK_FAMILY, "", fname=regular, collection_font_number=index)
        pdf.add_font(CJK_FAMILY, "B", fname=bold_beside(regular) or regular, collection_font_number=index)
    except TTLibError as exc:
        raise InvalidSetting(f"{regular}#{index} cannot be read as a font ({exc}); {FONT_HINT}") from None
    cjk = pdf.fonts[CJK_FAMILY]
    assert isinstance(cjk, TTFFont)   # added from a file just above
    if ord("账") not in cjk.cmap:   # fpdf2 would only log, and print empty boxes
        for key in (CJK_FAMILY, CJK_FAMILY + "B"):         # fpdf2 keeps the files open
            font = pdf.fonts[key]
            assert isinstance(font, TTFFont)
            font.ttfont.close()
        raise InvalidSetting(f"{regular}#{index} has no Chinese glyphs; {FONT_HINT}")


def paper_strings(value: object) -> Iterator[str]:
    """Every string in a paper (fields, lines, labels), to see whether the core font can draw them all."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list | dict):
        for item in value.values() if isinstance(value, dict) else value:
            yield from paper_strings(item)
    elif is_dataclass(value):
        for each in fields(value):
            yield from paper_strings(getattr(value, each.name))
