"""Sheet declarations and store tables agree; labels exist in both languages."""

from datetime import date

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from xlar.schema.cells import MISS, Parsed, fast_parser, parse_cell
from xlar.schema.columns import Kind
from xlar.schema.sheets import CHOICE_ZH, INPUT_SHEETS
from xlar.store.mapping import MAPPINGS
from xlar.store.tables import ExactDecimal

FITS = {
    Kind.TEXT: (sa.String, sa.Text), Kind.CODE: (sa.String, sa.Integer, sa.BigInteger),
    Kind.CHOICE: (sa.String,), Kind.INT: (sa.Integer,), Kind.MONEY: (sa.BigInteger,),
    Kind.DECIMAL: (ExactDecimal,), Kind.RATE: (ExactDecimal,), Kind.PERCENT: (ExactDecimal,),
    Kind.DATE: (sa.Date,), Kind.PERIOD: (sa.String,),
}


def test_every_input_sheet_has_a_store_mapping():
    assert sorted(MAPPINGS) == sorted(s.name for s in INPUT_SHEETS)


def test_store_tables_and_sheet_schemas_agree():
    problems = []
    for name, m in MAPPINGS.items():
        keys = {c.key for c in m.sheet.columns}
        unmapped = keys - set(m.columns) - m.derived
        if unmapped:
            problems.append(f"{name}: sheet columns {sorted(unmapped)} have no store column")
        for key, column in m.columns.items():
            if column not in m.table.c:
                problems.append(f"{name}.{key}: {m.table.name}.{column} does not exist")
                continue
            kind = m.sheet.by_key[key].kind
            store_type = m.table.c[column].type
            if m.table.c[column].foreign_keys:
                continue  # a reference: the sheet shows the other row's code or number
            if not isinstance(store_type, FITS[kind]):
                problems.append(f"{name}.{key} is {kind} but {m.table.name}.{column} is {store_type!r}")
        shown = set(m.columns.values()) | m.internal
        for column in m.table.c:
            if column.name not in shown and m.table.name != "documents":
                problems.append(f"{m.table.name}.{column.name} is neither on sheet {name} nor internal")
    documents = [m for m in MAPPINGS.values() if m.table.name == "documents"]
    for column in documents[0].table.c:
        if not any(column.name in set(m.columns.values()) | m.internal for m in documents):
            problems.append(f"documents.{column.name} is on no sheet and not internal")
    assert problems == []


def test_labels_and_choices_in_both_languages():
    for sheet in INPUT_SHEETS:
        assert sheet.zh and sheet.table.startswith("tbl")
        for col in sheet.columns:
            assert col.en and col.zh and col.zh != col.en, f"{sheet.name}.{col.key}"
            for choice in col.choices:
                assert choice in CHOICE_ZH, f"{sheet.name}.{col.key}: {choice} has no zh label"
        labels = [c.en.casefold() for c in sheet.columns] + [c.zh for c in sheet.columns]
        assert len(labels) == len(set(labels)), f"{sheet.name}: two columns share a label"


RAW_CELLS = st.one_of(
    st.none(), st.just(""), st.text(max_size=45), st.sampled_from([" C001 ", "#N/A", "#note", "posted", "已审核", "a\nb"]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**16, 10**16),
    st.dates(date(1800, 1, 1), date(2300, 1, 1)), st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(float))
COLUMNS = [col for sheet in INPUT_SHEETS for col in sheet.columns]


@settings(max_examples=400, deadline=None)
@given(raw=RAW_CELLS, col=st.sampled_from(COLUMNS), currency=st.sampled_from([None, "CNY", "JPY", "KWD"]))
def test_the_fast_parser_agrees_with_parse_cell(raw, col, currency):
    """Reading many rows takes a fast path for clean cells: it must never take a value
    parse_cell would refuse, warn about or read differently."""
    fast = fast_parser(col)(raw, currency)
    if fast is MISS:
        return
    full = parse_cell(col, raw, currency)
    assert isinstance(full, Parsed) and full.warning is None, (raw, col.key, full)
    assert fast == full.value and type(fast) is type(full.value), (raw, col.key, fast, full.value)


def test_a_columns_most_characters_are_what_its_store_column_keeps():
    """The reader refuses a text longer than the book keeps (Column.max_len) without asking the
    store; each limit is the store column's String(n), for every text column and every code
    column under 40 characters (a longer code is refused as a code already)."""
    checked = 0
    for mapping in MAPPINGS.values():
        for key, column in mapping.columns.items():
            col, n = mapping.sheet.by_key[key], getattr(mapping.table.c[column].type, "length", None)
            limited = isinstance(n, int) and not col.computed and (
                col.kind is Kind.TEXT or (col.kind is Kind.CODE and n < 40))
            assert col.max_len == (n if limited else None), (mapping.sheet.name, key, n, col.max_len)
            checked += limited
    assert checked >= 30
