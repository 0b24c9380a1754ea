"""What a sync did, as the accountant is told it: counts, issues, conflicts, notes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from xlar.domain.codes import is_warning
from xlar.domain.errors import Issue
from xlar.schema.messages import sheet_title


@dataclass(slots=True)
class Conflict:
    sheet: str
    key: str
    reason: str
    yours: dict[str, object]
    theirs: dict[str, object] | None


@dataclass(slots=True)
class SyncReport:
    counts: Counter[str] = field(default_factory=Counter)
    issues: list[Issue] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    finished: str | None = None   # what was done about an earlier, interrupted sync
    planned: Counter[str] = field(default_factory=Counter)   # what the sheets' plans asked ('Invoices add': 2)
    notes: list[str] = field(default_factory=list)   # written, but not quite as usual (the .bak elsewhere)
    locale: str = "en"                               # the workbook's language: the summary's

    @property
    def changed(self) -> bool:
        return bool(self.counts or self.conflicts)

    def summary(self) -> str:
        zh = self.locale == "zh-CN"
        if not self.changed and not self.written:
            head = "没有变化" if zh else "no changes"
        else:
            done = ("，" if zh else ", ").join(_counted(what, n, zh) for what, n in sorted(self.counts.items())) or (
                ("工作簿已按账簿刷新" if zh else "workbook refreshed from the store") if self.written else
                ("账簿未变" if zh else "store unchanged"))
            head = (("将执行：" if zh else "would apply: ") if self.dry_run else "") + done
        tail = []
        if self.conflicts:
            tail.append(f"{len(self.conflicts)} 处冲突（见“冲突”表）" if zh else
                        f"{len(self.conflicts)} conflicts (see the Conflicts sheet)")
        errors = [i for i in self.issues if not is_warning(i.code)]
        if errors:
            tail.append(f"{len(errors)} 个问题（见“错误”表）" if zh else f"{len(errors)} problems (see the Errors sheet)")
        return ("；" if zh else "; ").join([*([self.finished] if self.finished else []), head, *tail, *self.notes])


_DONE_ZH = {"added": "新增", "changed": "修改", "deleted": "删除", "suggested": "建议"}


def _counted(what: str, n: int, zh: bool) -> str:
    """'3 Invoices added'; in a zh-CN book '发票新增 3'."""
    if not zh:
        return f"{n} {what}"
    sheet, _, done = what.partition(" ")
    return f"{sheet_title(sheet, 'zh-CN')}{_DONE_ZH.get(done, done)} {n}"
