"""Messages in the workbook's language: what the Errors sheet of a zh-CN book says.

xlar's messages are written in English with the user's data in them. For a zh-CN book each
known message is matched by its pattern and said again in Chinese with the same data (the
values typed, numbers, codes); sheet names become the book's titles and choice codes their
labels. A message without a pattern is left as it is: the tests name the ones they cover.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from xlar.schema.sheets import CHOICE_ZH, INPUT_SHEETS, OUTPUT_SHEETS

SHEET_ZH = {s.name: s.zh for s in INPUT_SHEETS} | OUTPUT_SHEETS
COLUMN_ZH = {c.en: c.zh for s in INPUT_SHEETS for c in s.columns}
KIND_ZH = {**{k: CHOICE_ZH[k] for k in ("invoice", "credit_note", "debit_note", "deposit_invoice")},
           "receipt": "收款单", "opening_balance": "期初余额"}
FIELD_ZH = {"net": "未税金额", "tax": "税额", "total": "含税金额"}

Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


def _choices(text: str) -> str:
    return "、".join(CHOICE_ZH.get(c.strip(), c.strip()) for c in text.split(","))


def _fields(text: str) -> str:
    """'total 120.00, net 5.00' -> '含税金额 120.00、未税金额 5.00'."""
    return "、".join(re.sub(r"^(net|tax|total) ", lambda m: FIELD_ZH[m.group(1)] + " ", part.strip())
                    for part in text.split(","))


def _kind(word: str) -> str:
    return KIND_ZH.get(word, word)


_RULES: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    # cells (schema.cells, workbook.reader)
    (r"is required but blank", "必填，但为空"),
    (r"the cell shows the error (?P<e>\S+)", "单元格显示错误 {e}"),
    (r"(?P<v>.+) is TRUE/FALSE, not text", "{v} 是逻辑值 TRUE/FALSE，不是文本"),
    (r"(?P<v>.+) is TRUE/FALSE, not a number", "{v} 是逻辑值 TRUE/FALSE，不是数字"),
    (r"text of (?P<n>[\d,]+) characters is longer than a cell holds", "文本有 {n} 个字符，超过单元格的容量"),
    (r"(?P<v>.+) holds a NUL character \(\\x00\), which the book cannot keep", r"{v} 含 NUL 字符（\x00），账簿无法保存"),
    (r"(?P<v>.+) has a line break; codes are one line", "{v} 含换行符；编码只能是一行"),
    (r"(?P<v>.+) is longer than 40 characters", "{v} 超过 40 个字符"),
    (r"(?P<v>.+) was stored as a number: leading zeros, if it had any, are lost; format the column as Text",
     "{v} 按数字保存：如有前导零已丢失；请将该列设为文本格式"),
    (r"number stored as text (?P<v>.+): re-enter it as a number", "以文本形式存储的数字 {v}：请重新输入为数字"),
    (r"(?P<v>.+) is a date, not a number", "{v} 是日期，不是数字"),
    (r"(?P<v>.+) is not a number", "{v} 不是数字"),
    (r"(?P<v>.+) is not a whole number", "{v} 不是整数"),
    (r"(?P<v>[\d,]+) is too large for this column \(at most (?P<m>[\d,]+)\)", "{v} 超出本列上限（最大 {m}）"),
    (r"(?P<v>.+) is too large: xlar keeps amounts, rates and quantities below 10,000,000,000,000",
     "{v} 过大：金额、汇率和数量须小于 10,000,000,000,000"),
    (r"(?P<v>.+) is (?P<p>.+)%: type a percentage like 13% \(0\.13\)", "{v} 即 {p}%：请输入百分比，如 13%（0.13）"),
    (r"date (?P<v>.+) is out of range", "日期 {v} 超出范围"),
    (r"(?P<v>.+) is a time of day, not a date \(Excel has no dates before 1900\)",
     "{v} 是时间，不是日期（Excel 没有 1900 年以前的日期）"),
    (r"(?P<v>.+) is not a real date", "{v} 不是有效日期"),
    (r"date typed as text (?P<v>.+): day and month order is ambiguous; enter a real date \(or YYYY-MM-DD\)",
     "以文本输入的日期 {v}：日、月顺序不明确；请输入真正的日期（或 YYYY-MM-DD）"),
    (r"(?P<v>.+) is not a date", "{v} 不是日期"),
    (r"number (?P<v>.+) in a date column: format the cell as a date", "日期列中的数字 {v}：请将单元格设为日期格式"),
    (r"(?P<v>.+) is not a period like 2026-03", "{v} 不是 2026-03 这样的期间"),
    (r"(?P<v>.+) is not one of (?P<c>[\w, ]+)", lambda m: f"{m['v']} 不是以下之一：{_choices(m['c'])}"),
    ((r"date (?P<v>\S+) may have day and month swapped: this column also holds (?P<n>\d+) dates typed as text "
     r"like (?P<p>.+); check it and re-enter it"),
     "日期 {v} 可能日、月颠倒：本列另有 {n} 个以文本输入的日期，如 {p}；请核对后重新输入"),
    (r"duplicate (?P<v>.+) on rows (?P<r>[\d, ]+): none of them is taken until one remains",
     "{v} 在第 {r} 行重复：只剩一行之前都不处理"),
    (r"formula (?P<v>.+): input cells take values \(a sync would replace the formula\); paste it as a value",
     "公式 {v}：录入单元格只接受数值（同步会替换公式）；请粘贴为数值"),
    (r"(?P<v>.+) has (?P<n>[\d,]+) characters; the book keeps at most (?P<m>\d+) here",
     "{v} 有 {n} 个字符；此处最多保存 {m} 个"),
    (r"required column '(?P<en>.+)' \((?P<zh>.+)\) is missing", "缺少必填列“{zh}”"),
    ((r"column (?P<v>.+) appears twice \(columns (?P<a>[A-Z]+) and (?P<b>[A-Z]+)\); the second is kept as your own "
     r"column"), "列 {v} 出现两次（{a} 列和 {b} 列）；第二列作为您自己的列保留"),
    (r"no header row with this sheet's column names", "没有包含本表列名的表头行"),
    # the sync (sync.engine)
    (r"(?P<v>.+) is held back until its lines on rows (?P<r>[\d, ]+) are fixed",
     "{v} 暂不处理，直到第 {r} 行的明细改正"),
    (r"no invoice (?P<v>.+) on the Invoices sheet", "“发票”表中没有发票 {v}"),
    (r"the store refused the row: (?P<why>.+)", "账簿拒绝了此行：{why}"),
    ((r"(?P<n>\S+) has lines: its net, tax and total are computed from them \(net (?P<a>\S+), tax (?P<b>\S+), total "
     r"(?P<c>\S+)\); the amounts typed there were not taken"),
     "{n} 有明细：未税金额、税额和含税金额由明细计算（未税金额 {a}，税额 {b}，含税金额 {c}）；此处录入的金额未被采用"),
    # documents (services.documents, domain.documents)
    (r"unknown customer (?P<v>.+)", "未知客户 {v}"),
    (r"customer (?P<v>.+) is inactive", "客户 {v} 已停用"),
    (r"no document (?P<v>.+)", "没有单据 {v}"),
    (r"a new document can be draft or posted, not (?P<v>.+)",
     lambda m: f"新单据只能是草稿或已审核，不能是 {CHOICE_ZH.get(m['v'], m['v'])}"),
    (r"(?P<k>\w+) for (?P<c>.+?): (?P<rest>.+)", lambda m: _then(m, f"{_kind(m['k'])}（客户 {m['c']}）：")),
    (r"give its lines \(item, qty, unit price, tax rate\) or its amounts \(net and tax, or the total\)",
     "请录入明细（物料、数量、单价、税率）或金额（未税金额和税额，或含税金额）"),
    (r"give the net \(or the total\) as well as the tax", "录入税额时，请同时录入未税金额（或含税金额）"),
    ((r"total (?P<t>\S+) is not net (?P<n>\S+) \+ tax (?P<x>\S+) = (?P<s>\S+): correct one of them, or leave the "
     r"total blank"), "含税金额 {t} 不等于未税金额 {n} + 税额 {x} = {s}：请更正其中之一，或将含税金额留空"),
    (r"net (?P<n>\S+) must be positive and tax (?P<x>\S+) not negative", "未税金额 {n} 须为正数，税额 {x} 不能为负数"),
    (r"(?P<f>net|tax|total) (?P<v>\S+) has more decimals than (?P<c>[A-Z]{3}) has",
     lambda m: f"{FIELD_ZH[m['f']]} {m['v']} 的小数位数超过 {m['c']} 允许的位数"),
    (r"(?P<v>\S+) has more decimals than (?P<c>[A-Z]{3}) allows \((?P<n>\d+)\)", "{v} 的小数位数超过 {c} 允许的 {n} 位"),
    (r"(?P<k>\w+) for (?P<c>\S+) in (?P<cur>[A-Z]{3}) needs an exchange rate to (?P<b>[A-Z]{3})",
     lambda m: f"{_kind(m['k'])}（客户 {m['c']}，{m['cur']}）需要折合 {m['b']} 的汇率"),
    (r"(?P<v>.+?): (?P<rest>.+)", lambda m: _then(m, f"{m['v']}：")),
]
# What xlar writes in a match's memo (domain.matching's reasons, services' memos).
_MEMOS: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"(?P<c>\S+) names (?P<d>\S+) \(its number\) in its reference", "{c} 的参考号写明了 {d}"),
    (r"(?P<c>\S+) names (?P<d>\S+) \(fapiao (?P<f>\S+)\) in its reference", "{c} 的参考号写明了 {d} 的发票号码 {f}"),
    (r"(?P<d>\S+)'s open (?P<a>\S+) equals (?P<c>\S+)'s", "{d} 的未收金额 {a} 等于 {c} 的金额"),
    (r"(?P<a>\S+) and (?P<b>\S+) add up to (?P<c>\S+)'s (?P<m>\S+)", "{a} 与 {b} 合计等于 {c} 的 {m}"),
    (r"oldest due first: (?P<d>\S+) due (?P<on>\S+)", "先到期先核销：{d} 于 {on} 到期"),
    (r"installment (?P<n>\d+) of (?P<d>\S+), due (?P<on>\S+)", "{d} 第 {n} 期，{on} 到期"),
    (r"item (?P<i>.+) of (?P<d>\S+)", "{d} 的物料 {i}"),
    (r"(?P<a>\S+) left after the match is within the write-off tolerance (?P<t>\S+)",
     "核销后余额 {a} 在核销差额容差 {t} 以内"),
    (r"credit note (?P<d>\S+)", "红字发票 {d}"),
    (r"void of (?P<d>\S+)", "{d} 作废"),
    (r"match row deleted in the workbook", "在工作簿中删除了核销行"),
]
MEMOS: list[Rule] = [(re.compile(pattern + r"\Z", re.DOTALL), said) for pattern, said in _MEMOS]


def localize_memo(memo: str | None, locale: str) -> str | None:
    """A memo xlar wrote for a match (reasons joined by '; '), in LOCALE; a user's own memo stays."""
    if memo is None or locale != "zh-CN":
        return memo
    parts = []
    for part in memo.split("; "):
        for pattern, said in MEMOS:
            found = pattern.match(part)
            if found is not None:
                part = said(found) if callable(said) else said.format(**found.groupdict())
                break
        parts.append(part)
    return "；".join(parts) if parts != memo.split("; ") else memo


RULES: list[Rule] = [(re.compile(pattern + r"\Z", re.DOTALL), said) for pattern, said in _RULES]


def _then(found: re.Match[str], head: str) -> str:
    """HEAD and the rest of the message said in Chinese; the message as it was when the rest has no pattern."""
    rest = localize(found["rest"])
    return head + rest if rest != found["rest"] else found[0]


def localize(message: str, locale: str = "zh-CN") -> str:
    """MESSAGE as a LOCALE book says it (English books: as it is)."""
    if locale != "zh-CN":
        return message
    for pattern, said in RULES:
        found = pattern.match(message)
        if found is None:
            continue
        text = said(found) if callable(said) else said.format(**found.groupdict())
        if text != message:
            return text
    return message


def sheet_title(name: str, locale: str) -> str:
    """An issue's sheet as the book calls it."""
    return SHEET_ZH.get(name, name) if locale == "zh-CN" else name
