"""The store side of each input sheet: load its rows as sheet values, apply one row's change.

Reference sheets go through their table via the store mapping; documents go through the
ledger services (drafts are edited, posting and voiding are services, posted rows refuse
edits). Every write is audited with the syncing user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.customers import Customer
from xlar.domain.errors import InvalidDocument, NotAllowed, NotFound, XlarError
from xlar.domain.money import tidy
from xlar.domain.terms import PaymentTerms, TermsBasis
from xlar.schema.columns import SheetSchema
from xlar.schema.records import CustomerRow, DeliveryRow, OrderRow, PaymentTermsRow
from xlar.schema.sheets import SETTINGS, setting_code, setting_value
from xlar.services.booking import installment_plan
from xlar.services.credit import Charge, check_credit
from xlar.services.deliveries import DeliveryLine, add_deliveries, delete_delivery, update_delivery
from xlar.services.fx import ensure_rate_open
from xlar.store import tables as t
from xlar.store.audit import record, record_many
from xlar.store.ledger import keep_receivable_account
from xlar.store.mapping import SheetMapping
from xlar.store.reads import StoredRow
from xlar.store.settings import DEFAULTS, read_settings, write_settings
from xlar.store.writes import insert_rows, update_row
from xlar.sync.codec import Codec
from xlar.sync.context import Context, Item
from xlar.sync.rows import StoreRow
from xlar.workbook.reader import Row


class Adapter:
    """One sheet's rows in the store. Subclasses override what differs.

    A `batched` adapter takes all of a sync's new rows in one call (`insert_many`): each row
    is checked first, the good ones are stored in batches, and each comes back as its new id
    or as the error that held it back. A `corrections_first` adapter has its deleted and
    edited rows done before its new rows, so a new row may use what a correction frees (a
    match undone on the Allocations sheet, and the right one added in the same sync)."""

    sheet: SheetSchema
    batched = False
    corrections_first = False
    checks_identity = True     # its rows' key and revision say which store row each is (sync.identity)
    names_documents = False    # its new rows are documents other rows of the sync may name as typed
    offers = False             # its unsynced rows offer values for fixed store rows (`offer`), not new records

    def change(self, conn: Connection, ctx: Context, row: Row, store_row: StoreRow,
               lines: Sequence[dict[str, object]], lines_changed: bool, on: date | None) -> None:
        """Write a row edited on the sheet over STORE_ROW (a parent sheet's row with its LINES)."""
        self.update(conn, ctx, store_row.id, row.values)

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        raise NotImplementedError

    def offer(self, conn: Connection, ctx: Context, values: dict[str, object], *, template: bool = False) -> bool:
        """An `offers` sheet's unsynced row (TEMPLATE: as the template wrote it): written or not."""
        raise NotImplementedError

    def load_lines(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        """A parent sheet's lines (its schema's `lines` sheet), as that sheet shows them."""
        raise NotImplementedError

    def insert_many(self, conn: Connection, ctx: Context, items: Sequence[Item]) -> list[int | XlarError]:
        raise NotImplementedError

    def insert(self, conn: Connection, ctx: Context, values: dict[str, object],
               lines: Sequence[dict[str, object]] = ()) -> int:
        result = self.insert_many(conn, ctx, [(values, lines)])[0]
        if isinstance(result, XlarError):
            raise result
        return result

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        raise NotImplementedError

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        raise NotImplementedError



class TableAdapter(Adapter):
    """A reference sheet stored in one table, column by column (MAPPINGS)."""

    batched = True

    def __init__(self, mapping: SheetMapping) -> None:
        self.sheet = mapping.sheet
        self.m = mapping
        self.table = mapping.table
        self.codec = Codec(mapping)

    def to_store(self, ctx: Context, values: dict[str, object]) -> dict[str, object]:
        return self.codec.to_store(ctx, values)

    def to_sheet(self, ctx: Context, row: StoredRow) -> dict[str, object]:
        return self.codec.to_sheet(ctx, row)

    def validate(self, ctx: Context, values: dict[str, object]) -> None:
        """Domain checks before a write (none for plain reference rows)."""

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        rows = conn.execute(sa.select(self.table).order_by(self.table.c.id)).mappings()
        return [StoreRow(r["id"], r["rev"], self.to_sheet(ctx, r)) for r in rows]

    def _keys(self, conn: Connection) -> set[tuple[object, ...]]:
        """The natural keys already in the store, as stored."""
        if not self.sheet.key:
            return set()
        cols = [self.table.c[self.m.columns[k]] for k in self.sheet.key]
        return {tuple(r) for r in conn.execute(sa.select(*cols))}

    def insert_many(self, conn: Connection, ctx: Context, items: Sequence[Item]) -> list[int | XlarError]:
        results: list[int | XlarError] = []
        rows: list[dict[str, object]] = []
        taken = self._keys(conn)
        for values, _lines in items:
            try:
                self.validate(ctx, values)
                stored = self.to_store(ctx, values)
                key = tuple(stored[self.m.columns[k]] for k in self.sheet.key)
                if key and key in taken:
                    raise InvalidDocument(f"{'/'.join(str(values.get(k)) for k in self.sheet.key)} is already "
                                          f"in the store (added by a colleague?)")
            except XlarError as exc:
                results.append(exc)
                continue
            taken.add(key)
            results.append(len(rows))  # replaced by the id below
            rows.append(stored)
        ids = insert_rows(conn, self.table, rows)
        record_many(conn, ctx.user, "create", self.table.name, [(i, None, r) for i, r in zip(ids, rows, strict=True)])
        results = [r if isinstance(r, XlarError) else ids[r] for r in results]
        for (values, _lines), result in zip(items, results, strict=True):
            if not isinstance(result, XlarError):
                self.inserted(ctx, result, values)
        return results

    def inserted(self, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        """Called for each new row once it is stored."""

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        self.validate(ctx, values)
        stored = self.to_store(ctx, values)
        before = conn.execute(sa.select(self.table).where(self.table.c.id == row_id)).mappings().one()
        update_row(conn, self.table, row_id, stored)
        record(conn, ctx.user, "update", self.table.name, row_id, {k: before[k] for k in stored}, stored)

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        before = conn.execute(sa.select(self.table).where(self.table.c.id == row_id)).mappings().one()
        try:
            with conn.begin_nested():
                conn.execute(self.table.delete().where(self.table.c.id == row_id))
        except sa.exc.IntegrityError:
            raise InvalidDocument(f"{self.sheet.name} row {row_id} is still used by other rows") from None
        record(conn, ctx.user, "delete", self.table.name, row_id, dict(before), None)



class FxRatesAdapter(TableAdapter):
    """A closed month's rates are frozen: its revaluation was booked with them."""

    def validate(self, ctx: Context, values: dict[str, object]) -> None:
        ensure_rate_open(values.get("currency"), values.get("period"), ctx.closed_period)

    def _stored(self, conn: Connection, ctx: Context, row_id: int) -> None:
        currency, period = conn.execute(sa.select(t.fx_rates.c.currency, t.fx_rates.c.period)
                                        .where(t.fx_rates.c.id == row_id)).one()
        ensure_rate_open(currency, period, ctx.closed_period)

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        self._stored(conn, ctx, row_id)
        super().update(conn, ctx, row_id, values)

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        self._stored(conn, ctx, row_id)
        super().delete(conn, ctx, row_id)


class CustomersAdapter(TableAdapter):
    def validate(self, ctx: Context, values: dict[str, object]) -> None:
        row = CustomerRow.of(values)
        Customer(row.code, row.name, row.currency, credit_limit=row.credit_limit, closing_day=row.closing_day,
                 status=row.status or "active")

    def to_store(self, ctx: Context, values: dict[str, object]) -> dict[str, object]:
        return super().to_store(ctx, {**values, "status": values.get("status") or "active"})

    def inserted(self, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        ctx.know(row_id, str(values["code"]), str(values["currency"]))

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        keep_receivable_account(conn, row_id, CustomerRow.of(values).ar_account)
        super().update(conn, ctx, row_id, values)
        ctx.know(row_id, str(values["code"]), str(values["currency"]))


class TermsAdapter(TableAdapter):
    """Discounts show as a percentage cell (0.02) and are stored in percent (2)."""

    def validate(self, ctx: Context, values: dict[str, object]) -> None:
        row = PaymentTermsRow.of(values)
        PaymentTerms(row.code, row.name, TermsBasis(row.basis), row.days, row.discount_days,
                     None if row.discount_pct is None else row.discount_pct * 100)

    def to_store(self, ctx: Context, values: dict[str, object]) -> dict[str, object]:
        stored = super().to_store(ctx, values)
        if stored["discount_pct"] is not None:
            stored["discount_pct"] = Decimal(str(stored["discount_pct"])) * 100
        return stored

    def to_sheet(self, ctx: Context, row: StoredRow) -> dict[str, object]:
        values = super().to_sheet(ctx, row)
        if values["discount_pct"] is not None:
            values["discount_pct"] = Decimal(str(values["discount_pct"])) / 100
        return values


def _value(key: str, values: Mapping[str, object]) -> str:
    """A Settings row's value as the store keeps it (a zh-CN label is taken as its code)."""
    return "" if values.get("value") is None else setting_code(key, str(values["value"]))


class SettingsAdapter(Adapter):
    """Settings rows are keyed by their key; there is no revision to conflict on."""

    sheet = SETTINGS
    offers = True

    def load(self, conn: Connection, ctx: Context) -> list[StoreRow]:
        stored = dict(conn.execute(sa.select(t.settings.c.key, t.settings.c.value)).all())
        merged = {**DEFAULTS, **stored}
        return [StoreRow(i, 1, {"key": k, "value": setting_value(k, merged[k], ctx.locale)})
                for i, k in enumerate(DEFAULTS, start=1)]

    def _write(self, conn: Connection, ctx: Context, values: dict[str, object]) -> int:
        key = str(values["key"])
        write_settings(conn, {key: _value(key, values)}, ctx.user)
        return list(DEFAULTS).index(key) + 1

    def offer(self, conn: Connection, ctx: Context, values: dict[str, object], *, template: bool = False) -> bool:
        """A settings row not yet synced: the template's defaults are offers, not changes,
        so only a value that differs from both the default and the store is written. A row the
        template wrote and the user never touched (TEMPLATE) is the template's, not the user's:
        it fills a setting only in a new book (no customers, no documents yet) and only for a user
        who may set it; in a book in use it is passed over, and the sync shows the book's value.
        An English template synced into a Chinese book does not change its locale."""
        key = str(values["key"])
        value = _value(key, values)
        current = conn.execute(sa.select(t.settings.c.value).where(t.settings.c.key == key)).scalar()
        if value == DEFAULTS.get(key) or value == current:
            return False
        if template:
            if current is not None or not _new_book(conn):
                return False
            try:
                with conn.begin_nested():
                    self._write(conn, ctx, values)
            except NotAllowed:
                return False
            return True
        self._write(conn, ctx, values)
        return True

    def insert(self, conn: Connection, ctx: Context, values: dict[str, object],
               lines: Sequence[dict[str, object]] = ()) -> int:
        return self._write(conn, ctx, values)

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        self._write(conn, ctx, values)

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        raise InvalidDocument("settings cannot be deleted; set the value instead")



def _new_book(conn: Connection) -> bool:
    """No customer and no document yet: the first sync sets the book up."""
    return all(conn.execute(sa.select(table.c.id).limit(1)).first() is None
               for table in (t.customers, t.documents))


class DeliveriesAdapter(TableAdapter):
    """Delivery and return lines go through the deliveries service (billing and booking rules)."""

    @staticmethod
    def line(values: Mapping[str, object]) -> DeliveryLine:
        row = DeliveryRow.of(values)
        return DeliveryLine(row.number, row.line, row.customer, row.date, row.item, tidy(row.qty),
                            row.kind or "delivery", row.unit_price, row.tax_rate, row.currency, row.order,
                            row.salesperson, row.status or "posted")

    def insert_many(self, conn: Connection, ctx: Context, items: Sequence[Item]) -> list[int | XlarError]:
        results: list[int | XlarError | None] = [None] * len(items)
        lines, at = [], []
        for k, (values, _lines) in enumerate(items):
            try:
                lines.append(self.line(values))
            except (XlarError, ValueError) as exc:
                results[k] = exc if isinstance(exc, XlarError) else InvalidDocument(str(exc))
                continue
            at.append(k)
        for k, result in zip(at, add_deliveries(conn, lines, ctx.user), strict=True):
            results[k] = result
        return [r for r in results if r is not None]

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        update_delivery(conn, row_id, self.line(values), ctx.user)

    def delete(self, conn: Connection, ctx: Context, row_id: int) -> None:
        delete_delivery(conn, row_id, ctx.user)


class OrdersAdapter(TableAdapter):
    """An order names known installment terms and contract, and may not break the credit limit."""

    def validate(self, ctx: Context, values: dict[str, object]) -> None:
        pct = values.get("deposit_pct")
        if pct and values.get("amount") is None:
            raise InvalidDocument(f"order {values['number']}: a deposit percentage needs the order amount")

    def _checked(self, conn: Connection, ctx: Context, row_id: int, values: Mapping[str, object]) -> None:
        plan = values.get("installment_terms")
        if plan:
            installment_plan(conn, str(plan))
        contract = values.get("contract")
        if contract and conn.execute(sa.select(t.contracts.c.id).where(t.contracts.c.number == str(contract))
                                     ).first() is None:
            raise NotFound(f"order {values['number']}: unknown contract {contract!r}")
        row = OrderRow.of(values)
        charge = Charge(ctx.customer_id(row.customer), row.date, f"order {row.number}")
        warning = check_credit(conn, [charge], read_settings(conn), ctx.user)[0]
        if warning:
            ctx.warnings[row_id] = warning

    def insert_many(self, conn: Connection, ctx: Context, items: Sequence[Item]) -> list[int | XlarError]:
        results = super().insert_many(conn, ctx, items)
        for (values, _lines), result in zip(items, results, strict=True):
            if not isinstance(result, XlarError):
                self._checked(conn, ctx, result, values)
        return results

    def update(self, conn: Connection, ctx: Context, row_id: int, values: dict[str, object]) -> None:
        super().update(conn, ctx, row_id, values)
        self._checked(conn, ctx, row_id, values)
