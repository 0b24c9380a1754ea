"""Our worksheet functions registered in the `formulas` package (test-only, EUPL), which
evaluates a workbook's formulas the way Excel would: a workbook with =AR_BALANCE(A2) cells
is computed without Excel. Arguments arrive as formulas' Ranges; they are handed on as
Excel hands them to a UDF (a cell's value, a range as rows, an empty cell as None)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import formulas
import numpy as np
import schedula

from xlar.excel.udfs import FUNCTIONS


def excel_value(arg: Any) -> Any:
    """A formulas argument as xlwings would pass it: scalars as Python values, ranges as rows."""
    values = getattr(arg, "value", arg)
    if isinstance(values, np.ndarray):
        rows = [[excel_value(v) for v in row] for row in values.tolist()]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
    if values is schedula.EMPTY or (isinstance(values, str) and values == ""):
        return None
    if isinstance(values, (np.floating, np.integer)):
        return float(values)
    if isinstance(values, int) and not isinstance(values, bool):
        return float(values)   # Excel hands every number over as a double
    return values


def registered(names: list[str] | None = None) -> None:
    """Register FUNCTIONS (or NAMES of them) with formulas."""
    table = formulas.get_functions()
    for name in names or list(FUNCTIONS):
        table[name] = _adapted(FUNCTIONS[name])


def _adapted(udf: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        result = udf(*(excel_value(a) for a in args))
        return np.array(result, dtype=object) if isinstance(result, list) else result
    return call


def evaluate(path: str) -> dict[str, Any]:
    """Every cell of the workbook at PATH computed: 'SHEET!A1' (upper case) -> its value."""
    model = formulas.ExcelModel().loads(path).finish()
    solution = model.calculate()
    found = {}
    for ref, ranges in solution.items():
        name = ref.split("]", 1)[-1].replace("'", "")
        value = getattr(ranges, "value", ranges)
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.item()
        found[name] = value
    return found
