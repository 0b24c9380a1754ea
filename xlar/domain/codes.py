"""Every code xlar gives, in one registry: what it means, in English and in Chinese.

A refusal (XlarError) or a problem on the Errors sheet (Issue) carries one Code; its message
says what happened with the user's data and never holds a code itself (tests/test_codes.py
holds the package to this: no code is written out anywhere but here). E… refuses a row, a
file or a command; W… is a warning: the work went through and the user is told how.
`xlar codes` lists them, in the book's language.
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class Code(StrEnum):
    """A code as it is shown ('XLAR-E113'); `meaning(code, locale)` says what it stands for."""

    E000 = "XLAR-E000"
    E001 = "XLAR-E001"
    E002 = "XLAR-E002"
    E003 = "XLAR-E003"
    E004 = "XLAR-E004"
    E005 = "XLAR-E005"
    E010 = "XLAR-E010"
    E020 = "XLAR-E020"
    E021 = "XLAR-E021"
    E022 = "XLAR-E022"
    E030 = "XLAR-E030"
    E040 = "XLAR-E040"
    E041 = "XLAR-E041"
    E050 = "XLAR-E050"
    E051 = "XLAR-E051"
    E060 = "XLAR-E060"
    E061 = "XLAR-E061"
    E062 = "XLAR-E062"
    E063 = "XLAR-E063"
    E070 = "XLAR-E070"
    E080 = "XLAR-E080"
    E090 = "XLAR-E090"
    E091 = "XLAR-E091"
    E092 = "XLAR-E092"
    E101 = "XLAR-E101"
    E102 = "XLAR-E102"
    E103 = "XLAR-E103"
    E104 = "XLAR-E104"
    E105 = "XLAR-E105"
    E106 = "XLAR-E106"
    E107 = "XLAR-E107"
    E108 = "XLAR-E108"
    E109 = "XLAR-E109"
    E110 = "XLAR-E110"
    E111 = "XLAR-E111"
    E112 = "XLAR-E112"
    E113 = "XLAR-E113"
    E114 = "XLAR-E114"
    E115 = "XLAR-E115"
    E116 = "XLAR-E116"
    E117 = "XLAR-E117"
    E118 = "XLAR-E118"
    E119 = "XLAR-E119"
    E120 = "XLAR-E120"
    E121 = "XLAR-E121"
    E122 = "XLAR-E122"
    E123 = "XLAR-E123"
    E124 = "XLAR-E124"
    E125 = "XLAR-E125"
    E126 = "XLAR-E126"
    E127 = "XLAR-E127"
    E128 = "XLAR-E128"
    E129 = "XLAR-E129"
    E140 = "XLAR-E140"
    E141 = "XLAR-E141"
    E142 = "XLAR-E142"
    E143 = "XLAR-E143"
    E144 = "XLAR-E144"
    E145 = "XLAR-E145"
    E146 = "XLAR-E146"
    E147 = "XLAR-E147"
    E148 = "XLAR-E148"
    E149 = "XLAR-E149"
    W060 = "XLAR-W060"
    W101 = "XLAR-W101"
    W102 = "XLAR-W102"
    W103 = "XLAR-W103"
    W104 = "XLAR-W104"
    W105 = "XLAR-W105"
    W107 = "XLAR-W107"
    W108 = "XLAR-W108"


# What each code means: (English, Chinese). Every Code has its line (tests/test_codes.py).
MEANINGS: dict[Code, tuple[str, str]] = {
    Code.E000: ("refused: the request cannot be done as given", "拒绝：请求无法按所给内容执行"),
    Code.E001: ("an amount is not valid (not exact, negative where it may not be, or too many decimals)",
                "金额无效（不精确、不应为负却为负，或小数位过多）"),
    Code.E002: ("a currency is not a known ISO 4217 code", "币种不是已知的 ISO 4217 代码"),
    Code.E003: ("amounts of two currencies are mixed", "混用了两种币种的金额"),
    Code.E004: ("payment terms are not valid", "收款条件无效"),
    Code.E005: ("a setting of the book, or a period's close order, is not valid", "账簿设置或期间结账顺序无效"),
    Code.E010: ("a customer, document or row named is not in the book", "所指的客户、单据或行不在账簿中"),
    Code.E020: ("a posted document, a ledger row or an invoice's only line cannot be changed or moved as asked",
                "已过账的单据、分录或发票唯一的明细行不能按要求修改或移动"),
    Code.E021: ("a document is not valid as given (lines, totals, links)", "单据内容无效（明细、合计或关联）"),
    Code.E022: ("a delivery would be billed more than was delivered", "出货开票金额将超过出货金额"),
    Code.E030: ("the period is closed, or cannot close yet", "期间已结账，或尚不能结账"),
    Code.E040: ("an allocation is more than the open amount", "核销金额超过未结金额"),
    Code.E041: (("an allocation cannot be made or changed as typed (see the message: a document not approved, "
                "an amount not positive, a row edited that must be deleted and added again …)"),
                "核销无法按输入执行或修改（见消息：单据未审核、金额不为正、须删除后重新添加的行等）"),
    Code.E050: ("the store cannot be reached or refused the request", "账簿无法连接或拒绝了请求"),
    Code.E051: ("a file cannot be read or written", "文件无法读取或写入"),
    Code.E060: ("the customer's credit limit would be exceeded", "将超出客户信用额度"),
    Code.E061: ("a sync was stopped half way, or the workbook is behind the store: the user must choose",
                "同步中途停止，或工作簿落后于账簿：需用户处理"),
    Code.E062: ("the workbook is open in Excel or LibreOffice: close it first", "工作簿正在 Excel 或 LibreOffice 中打开：请先关闭"),
    Code.E063: ("the store took the sync but the workbook file could not be replaced; the next sync finishes",
                "账簿已同步，但工作簿文件未能替换；下次同步时完成"),
    Code.E070: ("the user may not do this (a role is missing, or duties must be separated)",
                "用户无权执行（缺少角色，或须职责分离）"),
    Code.E080: ("a bank statement cannot be read as it stands", "银行对账单无法按现状读取"),
    Code.E090: ("the book does not hold together (debits, credits, control account, aging)",
                "账簿不平（借贷、应收总账、账龄不一致）"),
    Code.E091: ("the audit log was changed outside xlar", "审计日志在 xlar 之外被修改"),
    Code.E092: ("rows of the book were changed outside xlar", "账簿中的行在 xlar 之外被修改"),
    Code.E101: ("the cell shows an Excel error (#N/A, #VALUE! …)", "单元格显示 Excel 错误（#N/A、#VALUE! 等）"),
    Code.E102: ("a required cell is blank", "必填单元格为空"),
    Code.E103: ("the value is not valid for its column", "该值不符合所在列的要求"),
    Code.E104: ("a TRUE/FALSE in a text or number column", "文本或数字列中填了 TRUE/FALSE"),
    Code.E105: ("the text is longer than the column holds", "文本长度超过该列所允许"),
    Code.E106: ("a code has a line break", "代码中含有换行"),
    Code.E107: ("a number stored as text: re-enter it as a number", "以文本存储的数字：请重新输入为数字"),
    Code.E108: ("not a number", "不是数字"),
    Code.E109: ("not a whole number", "不是整数"),
    Code.E110: ("a percentage out of range: from 0% up to, not including, 100%", "百分比超出范围：应不小于 0% 且小于 100%"),
    Code.E111: ("a date out of range, or a time of day in a date column", "日期超出范围，或日期列中填了时间"),
    Code.E112: ("not a date", "不是日期"),
    Code.E113: ("a date typed as text whose day and month order is ambiguous", "以文本输入的日期，日月顺序不明确"),
    Code.E114: ("a number in a date column: format the cell as a date", "日期列中填了数字：请将单元格设为日期格式"),
    Code.E115: ("not a period like 2026-03", "不是 2026-03 这样的期间"),
    Code.E116: ("not one of the column's choices", "不是该列可选的值"),
    Code.E117: ("a date may have day and month swapped", "日期的日和月可能颠倒"),
    Code.E118: ("the same key is on two rows", "同一键值出现在两行"),
    Code.E119: ("a formula in an input cell: paste it as a value", "输入单元格中有公式：请粘贴为数值"),
    Code.E120: ("a second sheet of the same kind: only the first is read", "同类工作表有两张：只读取第一张"),
    Code.E121: ("no header row with the sheet's column names (or an empty file)", "没有含列名的表头行（或文件为空）"),
    Code.E122: ("a required column is missing from the header", "表头缺少必需的列"),
    Code.E123: ("a column appears twice in the header", "表头中某列出现两次"),
    Code.E124: ("a document is held back until its line rows are fixed", "单据暂缓处理，待其明细行修正"),
    Code.E125: ("an invoice line names no invoice on the Invoices sheet", "发票明细所指的发票不在“发票”表"),
    Code.E126: ("the store refused the row", "账簿拒绝了该行"),
    Code.E127: ("the workbook file is damaged or not a workbook", "工作簿文件已损坏或不是工作簿"),
    Code.E128: ("a number too large for the column", "数字超出该列所允许的大小"),
    Code.E129: ("text holding a NUL character", "文本中含有 NUL 字符"),
    Code.E140: ("no such report", "没有该报表"),
    Code.E141: ("no such ribbon action", "没有该功能区操作"),
    Code.E142: ("an action failed unexpectedly: the details are in xlar.log", "操作意外失败：详情见 xlar.log"),
    Code.E143: ("the add-in's sources are not installed with xlar", "xlar 未安装加载项的源文件"),
    Code.E144: ("xlwings' VBA is not as the add-in build expects", "xlwings 的 VBA 与加载项构建所需不符"),
    Code.E145: ("the worksheet functions' VBA could not be generated", "无法生成工作表函数的 VBA"),
    Code.E146: ("Excel's startup folder is not known on this system: give it", "本系统上 Excel 启动文件夹未知：请指定"),
    Code.E147: ("the workbook's xlar.conf sheet holds a password", "工作簿的 xlar.conf 表中含有密码"),
    Code.E148: ("the workbook names a store the user has not said they trust", "工作簿指定了用户未声明信任的账簿"),
    Code.E149: ("the book has no current period setting", "账簿没有设置当前期间"),
    Code.W060: ("a warning the row's write gave (a credit limit that only warns); the row went through",
                "该行写入时的提醒（仅提醒的信用额度）；该行已处理"),
    Code.W101: ("a code was stored as a number: leading zeros are lost", "代码以数字存储：前导零会丢失"),
    Code.W102: ("an _id that no sync wrote: the row is taken as new", "_id 不是同步写入的：该行按新行处理"),
    Code.W103: ("a copied row: the copy is a new row", "复制的行：副本按新行处理"),
    Code.W104: ("a row whose key was typed over is a new row; the old row stays", "键值被改写的行按新行处理；原行保留"),
    Code.W105: ("a row whose hidden cells went with its content, sorted elsewhere, is a new row",
                "隐藏单元格随内容排序到别处的行按新行处理"),
    Code.W107: ("the book was changed outside xlar since xlar last wrote it", "自 xlar 上次写入后，账簿在 xlar 之外被修改"),
    Code.W108: ("typed in a cell xlar computes: shown as computed, what was typed is not taken",
                "在 xlar 计算的单元格中输入：显示计算值，输入内容未采用"),
}


CODES = frozenset(c.value for c in Code)   # every code, as shown


def is_warning(code: str) -> bool:
    """CODE (an Issue's) is a warning: the work went through."""
    return code.startswith("XLAR-W")


def meaning(code: Code, locale: str = "en") -> str:
    en, zh = MEANINGS[code]
    return zh if locale == "zh-CN" else en
