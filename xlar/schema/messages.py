"""Messages in the workbook's language: what the Errors sheet of a zh-CN book says.

xlar's messages are written in English with the user's data in them. For a zh-CN book each
known message is matched by its pattern and said again in Chinese with the same data (the
values typed, numbers, codes); sheet names become the book's titles and choice codes their
labels. A message without a pattern is left as it is: the tests name the ones they cover.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from xlar.schema.sheets import CHOICE_ZH, INPUT_SHEETS, OUTPUT_SHEETS, SETTING_ZH

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


_WHATS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?P<w>.+) cannot be voided: it"), lambda m: f"{_what(m['w'])} 不能作废：其"),
    (re.compile(r"void of (?P<w>.+)"), lambda m: f"{_what(m['w'])} 作废"),
    (re.compile(r"(?P<how>write-off|transfer|refund) of (?P<w>.+)"),
     lambda m: f"{_what(m['w'])} { {'write-off': '核销差额', 'transfer': '转销', 'refund': '退款'}[m['how']]}"),
    (re.compile(r"revaluation of (?P<p>\S+)"), lambda m: f"{m['p']} 期末调汇"),
    (re.compile(r"netting for (?P<c>\S+)"), lambda m: f"客户 {m['c']} 的应收应付对冲"),
    (re.compile(r"the (?P<c>[A-Z]{3}) rate of (?P<p>\S+)"), lambda m: f"{m['c']} 在 {m['p']} 的汇率"),
    (re.compile(r"undo of (?P<what>batch|match) (?P<n>[\d, ]+)"),
     lambda m: f"撤销核销{'批次' if m['what'] == 'batch' else ''} {m['n']}"),
    (re.compile(r"match row (?P<how>deleted|changed|undone) in the workbook"), lambda m: _row_done(m["how"])),
]


def _what(text: str) -> str:
    """'invoice for C001', 'posting invoice draft #7', 'void of receipt RC-…' as a zh-CN book says them."""
    for pattern, say in _WHATS:
        found_what = pattern.fullmatch(text)
        if found_what is not None:
            return say(found_what)
    found = re.fullmatch(r"(?P<post>posting )?(?P<k>\w+)(?: for (?P<c>\S+))?(?P<rest> .+)?", text)
    if found is None or found["k"] not in KIND_ZH:
        return text
    said = _kind(found["k"]) + (f"（客户 {found['c']}）" if found["c"] else "") + _draft(found["rest"] or "")
    return ("审核" + said) if found["post"] else said


def _where(text: str) -> str:
    """'CSV row 3 [amount]', 'MT940 line 5 (:61:)', 'camt.053 entry 2 TxDtls 1 <Amt>' in Chinese."""
    text = re.sub(r"\b(CSV row|MT940 line) (\d+)", lambda m: f"{m[1].split()[0]} 第 {m[2]} 行", text)
    text = re.sub(r"\bcamt\.053 entry (\d+)", r"camt.053 第 \1 笔", text)
    text = re.sub(r" TxDtls (\d+)", r" 第 \1 笔明细", text)
    return re.sub(r"\[(\w+)\]", lambda m: f"[{_CSV_FIELD_ZH.get(m[1], m[1])}]", text)


_CSV_FIELD_ZH = {"date": "日期", "value_date": "起息日", "amount": "金额", "credit": "贷方金额", "debit": "借方金额",
                 "currency": "币种"}


def _at(said: str) -> Callable[[re.Match[str]], str]:
    """A refusal of a bank file at a place (group w: 'CSV row 3 [amount]'…): the place in Chinese,
    then SAID with the message's other groups filled in."""
    return lambda m: _where(m["w"]) + said.format(**m.groupdict())


def _draft(text: str) -> str:
    return text.replace("draft #", "草稿 #")


def _setting_names(text: str) -> str:
    return "、".join(SETTING_ZH.get(k.strip(), k.strip()) for k in text.split(","))


_OUTSIDE = {"inserted": "插入", "changed": "修改", "deleted": "删除"}
_DONE = {**_OUTSIDE, "undone": "撤销"}


def _row_done(how: str, done: str = "") -> str:
    """'match row deleted in the workbook' in Chinese: as a memo (… 删除了 …) or naming what was dated."""
    return f"在工作簿中{_DONE[how]}{done}{'核销行' if done else '的核销行'}"
_SETTING_KINDS = {"an amount of 0 or more": "0 或更大的金额", "an amount": "金额"}


def _setting_kind(what: str) -> str:
    found = re.fullmatch(r"a whole number from (\d+) to (\d+)", what)
    if found:
        return f" {found[1]} 至 {found[2]} 的整数"
    found = re.fullmatch(r"one of (.+)", what)
    if found:
        return "以下之一：" + found[1]
    return _SETTING_KINDS.get(what, what)


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
    # one refusal of each kind the services give (domain.errors' codes)
    (r"unknown currency (?P<v>.+)", "未知币种 {v}"),
    (r"terms (?P<t>'.*'): days must not be negative, got (?P<d>-?\d+)", "付款条件 {t}：天数不能为负数（{d}）"),
    (r"terms (?P<t>'.*'): closing_date terms need a due day of month 1-31, got (?P<d>-?\d+)",
     "付款条件 {t}：按结账日的条件须填 1-31 的到期日（{d}）"),
    (r"terms (?P<t>'.*'): give both discount_days and discount_pct", "付款条件 {t}：折扣天数和折扣率须同时填写"),
    (r"terms (?P<t>'.*'): discount_pct must be between 0 and 100", "付款条件 {t}：折扣率须在 0 与 100 之间"),
    (r"installment terms (?P<t>'.*'): percentages add up to (?P<p>\S+)%, not 100%", "分期条件 {t}：比例合计 {p}%，不是 100%"),
    (r"installment terms (?P<t>'.*') have no periods", "分期条件 {t} 没有分期"),
    (r"setting (?P<k>\w+) must be (?P<what>.+), not (?P<v>.+)",
     lambda m: f"设置项“{SETTING_ZH.get(m['k'], m['k'])}”须为{_setting_kind(m['what'])}，不能是 {m['v']}"),
    (r"setting (?P<k>\w+) is a percentage from 0 to below 100, not (?P<v>.+)",
     lambda m: f"设置项“{SETTING_ZH.get(m['k'], m['k'])}”须为 0 至 100 以下的百分比，不能是 {m['v']}"),
    (r"(?P<k>\w+) (?P<n>\S+|draft #\d+) is (?P<s>\w+): it cannot be changed; set Status to void to reverse it",
     lambda m: f"{_kind(m['k'])} {_draft(m['n'])} 的状态为“{CHOICE_ZH.get(m['s'], m['s'])}”：不能修改；如需冲回，"
               "请将状态设为“作废”"),
    (r"(?P<what>.+) is dated (?P<d>\S+), in period (?P<p>\S+) which is closed \(closed through (?P<c>\S+)\)",
     lambda m: f"{_what(m['what'])}{'' if m['what'].endswith(': it') else ' 的'}日期 {m['d']} 属于已结账期间 {m['p']}"
               f"（已结账至 {m['c']}）"),
    (r"(?P<k>\w+) (?P<n>\S+) has (?P<a>\S+) (?P<c>[A-Z]{3}) open; cannot apply (?P<m>\S+)",
     lambda m: f"{_kind(m['k'])} {m['n']} 未核销余额 {m['a']} {m['c']}；不能核销 {m['m']}"),
    (r"matching (?P<i>\S+): name the receipt or credit note that pays it", "核销 {i}：请填写付款的收款单或红字发票"),
    (r"(?P<d>\S+) is a draft: post it \(and approve a receipt\) before matching it",
     "{d} 是草稿：请先审核（收款单还须核准）再核销"),
    ((r"(?P<what>.+): customer (?P<p>\S+)'s exposure (?P<e>\S+) (?P<c>[A-Z]{3}) exceeds its credit limit (?P<l>\S+) "
     r"[A-Z]{3}(?P<how>; an approver can override it| \(credit class \S+ warns only\))"),
     lambda m: f"{_what(m['what'])}：客户 {m['p']} 的风险敞口 {m['e']} {m['c']} 超过信用额度 {m['l']}"
               + ("；可由核准人批准超额" if m["how"].startswith(";") else "（该信用等级仅提醒）")),
    (r"(?P<u>\S+) cannot change (?P<k>.+): settings and users are changed by an admin \((?P<a>.+)\)",
     lambda m: f"{m['u']} 不能修改 {_setting_names(m['k'])}：设置和用户由管理员（{m['a']}）修改"),
    ((r"(?P<u>\S+) cannot change (?P<k>.+): these settings are changed by an approver \((?P<a>.+)\) until the book "
     r"has an admin"), lambda m: f"{m['u']} 不能修改 {_setting_names(m['k'])}：账套设置管理员之前，这些设置由核准人（{m['a']}）修改"),
    ((r"(?P<u>\S+) is not a user of this book: its users are the clerks, approvers and admins its settings name "
     r"\((?P<n>.+)\); an admin adds users"), "{u} 不是本账套的用户：用户为设置中列出的录入员、核准人和管理员（{n}）；由管理员添加用户"),
    # what keeps a month from closing (services.close.blockers)
    (r"a draft of (?P<c>\S+): post it or delete it", "客户 {c} 的草稿：请审核或删除"),
    (r"a draft delivery of (?P<c>\S+): post it or delete it", "客户 {c} 的草稿销货单：请审核或删除"),
    (r"(?P<c>\S+)'s receipt is confirmed but not approved", "客户 {c} 的收款单已确认但未核准"),
    (r"FxRates has no (?P<cur>[A-Z]{3}) rate for (?P<p>\S+): foreign items cannot be revalued",
     "“汇率”表没有 {cur} 在 {p} 的汇率：外币项目无法调汇"),
    ((r"(?P<o>\S+) (?P<cur>[A-Z]{3}) open is booked at (?P<b>\S+) (?P<base>[A-Z]{3}), worth (?P<w>\S+) at (?P<r>\S+): "
      r"not revalued \(xlar revalue --period (?P<p>\S+)\)"),
     "未收 {o} {cur} 的记账金额为 {b} {base}，按汇率 {r} 应为 {w}：尚未调汇（xlar revalue --period {p}）"),
    ((r"(?P<t>\S+) row (?P<k>\S+)(?: \((?P<l>.+)\))? was (?P<how>inserted|changed|deleted) outside xlar: a month does "
      r"not close on rows xlar did not write \(xlar check names them; an admin takes them as they are with xlar "
      r"audit accept\)"),
     lambda m: f"表 {m['t']} 的行 {m['k']}" + (f"（{m['l']}）" if m["l"] else "") + "在 xlar 之外被"
               + _OUTSIDE[m["how"]] + "：月结不接受非 xlar 写入的行（xlar check 列出这些行；管理员可用 xlar audit accept 照原样接受）"),
    # revaluation and closing (services.fx, services.close)
    (r"(?P<c>[A-Z]{3}) is the base currency: it has no rate", "{c} 是本位币：没有汇率"),
    (r"revaluation of (?P<p>\S+) needs the period's rate of (?P<c>.+) on the FxRates sheet",
     "{p} 期末调汇需要在“汇率”表录入 {c} 的当期汇率"),
    (r"period (?P<p>\S+) is already closed \(closed through (?P<c>\S+)\)", "期间 {p} 已结账（已结账至 {c}）"),
    (r"close (?P<e>\S+) first: months close in order \(closed through (?P<c>\S+)\)",
     "请先结 {e}：月结须按顺序进行（已结账至 {c}）"),
    (r"period (?P<p>\S+) ends (?P<d>\S+): it cannot close before then", "期间 {p} 于 {d} 结束：在此之前不能结账"),
    (r"reopening (?P<p>\S+) needs a reason", "反结账 {p} 须填写原因"),
    (r"the book has no current_period setting: set it on the Settings sheet", "账套没有“当前期间”设置：请在“设置”表填写"),
    (r"no report (?P<v>.+): give its number or name", "没有报表 {v}：请输入报表的序号或名称"),
    # corrections on the Allocations sheet (sync.documents.AllocationsAdapter)
    (r"Undo on is for a match already recorded: leave it blank on a new row", "撤销日期只用于已记账的核销：新行请留空"),
    (r"Undo on (?P<v>\S+) is after today \((?P<t>\S+)\): a match is undone on a day that has come",
     "撤销日期 {v} 晚于今天（{t}）：只能在已到的日期撤销核销"),
    (r"Undo on (?P<v>\S+) is before the match took effect \((?P<e>\S+)\): type that day or a later one",
     "撤销日期 {v} 早于该笔核销生效之日（{e}）：请填写该日或更晚的日期"),
    (r"a match's documents are not edited: delete the row \(undoing the match\) and add the right one",
     "核销的单据不能修改：请删除该行（即撤销该笔核销）后新增正确的行"),
    ((r"a match's method and write-off reason are not edited: delete the row \(undoing the match\) and add the "
     r"right one"), "核销方式和核销差额原因不能修改：请删除该行（即撤销该笔核销）后新增正确的行"),
    # opening the store (store.engine)
    (r"no store at (?P<p>.+): run `(?P<c>.+)`", "{p} 处没有账簿：请运行 `{c}`"),
    (r"cannot open store (?P<u>\S+): (?P<r>.+)", "无法打开账簿 {u}：{r}"),
    (r"store (?P<u>\S+) is not initialised: run `(?P<c>.+)`", "账簿 {u} 尚未初始化：请运行 `{c}`"),
    (r"store (?P<u>\S+) is at schema (?P<v>\S+): run `(?P<c>.+)`", "账簿 {u} 的结构版本为 {v}：请运行 `{c}` 升级"),
    # bank files (imports.bank's parsers) and opening-balance files
    (r"the bank file is empty", "银行文件为空"),
    (r"the file is empty: no header row", "文件为空：没有标题行"),
    (r"(?P<w>CSV row \d+|MT940 line \d+): a NUL character; not a text statement \(saved as UTF-16\?\)",
     _at("：含 NUL 字符；不是文本格式的对账单（是否保存成了 UTF-16？）")),
    (r"unknown statement format (?P<f>.+); expected one of (?P<l>.+)", "未知的对账单格式 {f}；应为以下之一：{l}"),
    (r"(?P<w>.+?): currency (?P<c>.+) is not an ISO 4217 code", _at("：币种 {c} 不是 ISO 4217 代码")),
    (r"(?P<w>.+?): (?P<a>\S+) has more decimals than (?P<c>[A-Z]{3}) allows",
     _at("：{a} 的小数位数超过 {c} 允许的位数")),
    (r"MT940: no statement header ':20:' found", "MT940：找不到对账单表头 ':20:'"),
    (r"MT940 line (?P<n>\d+): a tag before the first ':20:' header", "MT940 第 {n} 行：在第一个 ':20:' 表头之前出现标签"),
    (r"MT940 line (?P<n>\d+): unknown tag (?P<t>.+)", "MT940 第 {n} 行：未知标签 {t}"),
    (r"MT940 line (?P<n>\d+): a second ':86:' after one entry's details", "MT940 第 {n} 行：同一笔明细后出现第二个 ':86:'"),
    (r"MT940 statement at line (?P<n>\d+): no closing balance ':62F:'/':62M:'; the file looks truncated",
     "MT940 第 {n} 行起的对账单：没有期末余额 ':62F:'/':62M:'；文件似乎不完整"),
    (r"MT940 line (?P<n>\d+): cannot read (?P<t>':\w+:') (?P<v>.+)", "MT940 第 {n} 行：无法读取 {t} {v}"),
    (r"(?P<w>(?:CSV|MT940|camt\.053) .+?): missing", _at("：缺失")),
    (r"(?P<w>.+?): no amount or date", _at("：没有金额或日期")),
    (r"(?P<w>.+?): no currency; the statement has no ':60F:' balance",
     _at("：没有币种；对账单没有 ':60F:' 期初余额")),
    (r"camt\.053: not well-formed XML at line (?P<n>\d+), column (?P<c>\d+)", "camt.053：第 {n} 行第 {c} 列的 XML 格式不正确"),
    (r"camt\.053: <(?P<t>[^>]+)> in (?P<v>.+) is not a bank-to-customer statement \(Document/BkToCstmrStmt\)",
     "camt.053：{v} 中的 <{t}> 不是银行对账单（Document/BkToCstmrStmt）"),
    (r"camt\.053: XML with a DTD or entity declarations is refused \((?P<e>\w+)\)", "camt.053：拒绝含 DTD 或实体声明的 XML（{e}）"),
    (r"(?P<w>.+?): no <BookgDt> or <ValDt>", _at("：没有 <BookgDt> 或 <ValDt>")),
    (r"(?P<w>.+?): (?P<v>.+) is not an amount", _at("：{v} 不是金额")),
    (r"(?P<w>.+?) <(?P<t>\w+)>: (?P<v>.+) is not a date", _at(" <{t}>：{v} 不是日期")),
    (r"(?P<w>.+?) <CdtDbtInd>: (?P<v>.+) is neither CRDT nor DBIT",
     _at(" <CdtDbtInd>：{v} 既不是 CRDT 也不是 DBIT")),
    (r"CSV: the file is neither UTF-8 nor GBK text", "CSV：文件既不是 UTF-8 也不是 GBK 编码的文本"),
    (r"CSV row (?P<n>\d+): a quote opened here is not closed before (?P<v>.+); close it and import again",
     "CSV 第 {n} 行：此处的引号在 {v} 之前没有闭合；请补上引号后重新导入"),
    (r"CSV: no header row with a date and an amount column \(such as (?P<w>.+)\) in the first (?P<n>\d+) rows",
     lambda m: f"CSV：前 {m['n']} 行中没有含日期列和金额列的表头行（如 "
               + "、".join(w for w in m["w"].split(", ") if re.search("[\u4e00-\u9fff]", w)) + "）"),
    (r"(?P<w>.+?): no currency, and the mapping fixes none", _at("：没有币种，映射也未指定币种")),
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
    (r"match row (?P<how>deleted|changed|undone) in the workbook", lambda m: _row_done(m["how"], "了")),
    (r"takes effect (?P<on>\S+): (?P<k>\w+) (?P<n>\S+(?: #\d+)?) has room for it from then",
     lambda m: f"{m['on']} 起生效：{_kind(m['k'])} {m['n']} 自该日起才有可核销的余额"),
    (r"takes effect (?P<on>\S+), when the match it replaces is undone", "{on} 起生效，即被替换的核销撤销之日"),
    (r"takes effect (?P<on>\S+), the first day of an open period", "{on} 起生效，即未结账期间的第一天"),
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


_BLOCKERS: list[tuple[str, Callable[[re.Match[str]], str]]] = [
    (r"(?P<k>\w+) (?P<n>\S+) line (?P<l>\d+)", lambda m: f"{CHOICE_ZH.get(m['k'], m['k'])}单 {m['n']} 第 {m['l']} 行"),
    (r"(?P<cur>[A-Z]{3}) rate", lambda m: f"{m['cur']} 汇率"),
    (r"(?P<k>\w+) (?P<n>\S+) of (?P<c>\S+)", lambda m: f"{_kind(m['k'])} {m['n']}（客户 {m['c']}）"),
    (r"(?P<k>\w+) (?P<n>(?!draft )\S+)", lambda m: f"{_kind(m['k'])} {m['n']}" if m["k"] in KIND_ZH else m[0]),
]
BLOCKERS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(pattern + r"\Z"), said) for pattern, said in _BLOCKERS]


def localize_blocker(what: str) -> str:
    """What keeps a month from closing ('invoice draft #7', 'USD rate', 'delivery D1 line 2') in Chinese."""
    for pattern, say in BLOCKERS:
        found = pattern.match(what)
        if found is not None:
            return say(found)
    return _what(what)


def sheet_title(name: str, locale: str) -> str:
    """An issue's sheet as the book calls it."""
    return SHEET_ZH.get(name, name) if locale == "zh-CN" else name
