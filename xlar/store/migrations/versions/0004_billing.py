"""billing: delivery status and values, revenue at delivery, linked documents, installments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Deliveries get a status (draft lines are neither billed nor booked), their value (net and
tax, rounded once per line) and the accrual document that booked their revenue when revenue
is recognised at delivery. Invoice lines keep the delivery's value of the quantity they bill
(the delivery-vs-invoice difference). Documents name a related document (a credit note's
invoice, a deposit offset's invoice), their order, the installment plan they were posted with
and the expected receipt date.

Guards: the documents guard also freezes related_id, order_number and installment_terms once
posted; a delivery line that is billed or booked (accrued) can no longer be changed or deleted,
except for its billed quantity, which the billing services keep equal to what invoices bill.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_MESSAGE = "XLAR-E020 posted documents and ledger rows are immutable"
_RAISE = f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
_FROZEN = (
    "kind", "number", "customer_id", "doc_on", "due_on", "currency", "fx_rate", "net_minor",
    "tax_minor", "amount_minor", "base_amount_minor", "payment_terms", "method", "reference",
    "memo", "reverses_id", "created_by", "created_at", "posted_by", "posted_at",
)
_NEW_FROZEN = ("related_id", "order_number", "installment_terms")
_DELIVERY_CONTENT = (
    "number", "line_no", "kind", "delivered_on", "customer_id", "order_number", "item", "qty",
    "unit_price", "tax_rate", "currency", "salesperson", "status", "net_minor", "tax_minor", "accrual_id",
)
_BOOKED = "(OLD.accrual_id IS NOT NULL OR OLD.billed_qty <> '0')"


def _documents_guard_pg(frozen: tuple[str, ...]) -> str:
    new_row = ", ".join(f"NEW.{c}" for c in frozen)
    old_row = ", ".join(f"OLD.{c}" for c in frozen)
    return f"""
CREATE OR REPLACE FUNCTION xlar_documents_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.status <> 'draft' THEN RAISE EXCEPTION '{_MESSAGE}'; END IF;
    RETURN OLD;
  END IF;
  IF OLD.status <> 'draft' AND (
       ROW({new_row}) IS DISTINCT FROM ROW({old_row})
    OR (NEW.status IS DISTINCT FROM OLD.status AND NOT (
          (OLD.status = 'posted' AND NEW.status IN ('approved', 'void'))
       OR (OLD.status = 'approved' AND NEW.status = 'void')))
    OR (OLD.status = 'void' AND ROW(NEW.voided_by, NEW.voided_at)
                              IS DISTINCT FROM ROW(OLD.voided_by, OLD.voided_at))) THEN
    RAISE EXCEPTION '{_MESSAGE}';
  END IF;
  RETURN NEW;
END $$"""


def _documents_guard_sqlite(frozen: tuple[str, ...]) -> None:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in frozen)
    op.execute("DROP TRIGGER IF EXISTS trg_documents_frozen")
    op.execute(
        "CREATE TRIGGER trg_documents_frozen BEFORE UPDATE ON documents "
        f"WHEN OLD.status <> 'draft' AND ({changed} OR (NEW.status IS NOT OLD.status AND NOT "
        "((OLD.status = 'posted' AND NEW.status IN ('approved', 'void')) "
        "OR (OLD.status = 'approved' AND NEW.status = 'void'))) "
        "OR (OLD.status = 'void' AND (NEW.voided_by IS NOT OLD.voided_by "
        f"OR NEW.voided_at IS NOT OLD.voided_at))) {_RAISE}"
    )


def _delivery_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        new_row = ", ".join(f"NEW.{c}" for c in _DELIVERY_CONTENT)
        old_row = ", ".join(f"OLD.{c}" for c in _DELIVERY_CONTENT)
        op.execute(f"""
CREATE FUNCTION xlar_deliveries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF {_BOOKED} THEN RAISE EXCEPTION '{_MESSAGE}'; END IF;
    RETURN OLD;
  END IF;
  IF {_BOOKED} AND ROW({new_row}) IS DISTINCT FROM ROW({old_row}) THEN
    RAISE EXCEPTION '{_MESSAGE}';
  END IF;
  RETURN NEW;
END $$""")
        op.execute("CREATE TRIGGER trg_deliveries_guard BEFORE UPDATE OR DELETE ON deliveries "
                   "FOR EACH ROW EXECUTE FUNCTION xlar_deliveries_guard()")
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _DELIVERY_CONTENT)
    op.execute(f"CREATE TRIGGER trg_deliveries_frozen BEFORE UPDATE ON deliveries "
               f"WHEN {_BOOKED} AND ({changed}) {_RAISE}")
    op.execute(f"CREATE TRIGGER trg_deliveries_keep BEFORE DELETE ON deliveries WHEN {_BOOKED} {_RAISE}")


def _add_reference(table: str, column: str) -> None:
    """A nullable column referencing documents.id (SQLite adds it with a plain ALTER TABLE)."""
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(table, sa.Column(column, _ID, sa.ForeignKey(
            'documents.id', name=f'fk_{table}_{column}_documents'), nullable=True))
    else:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                   f"CONSTRAINT fk_{table}_{column}_documents REFERENCES documents (id)")


def upgrade() -> None:
    op.add_column('deliveries', sa.Column('status', sa.String(length=16), server_default='posted', nullable=False))
    op.add_column('deliveries', sa.Column('net_minor', sa.BigInteger(), nullable=True))
    op.add_column('deliveries', sa.Column('tax_minor', sa.BigInteger(), nullable=True))
    _add_reference('deliveries', 'accrual_id')
    op.add_column('document_lines', sa.Column('delivered_net_minor', sa.BigInteger(), nullable=True))
    op.add_column('document_lines', sa.Column('delivered_tax_minor', sa.BigInteger(), nullable=True))
    _add_reference('documents', 'related_id')
    op.add_column('documents', sa.Column('order_number', sa.String(length=40), nullable=True))
    op.add_column('documents', sa.Column('installment_terms', sa.String(length=32), nullable=True))
    op.add_column('documents', sa.Column('expected_on', sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_documents_guard_pg(_FROZEN + _NEW_FROZEN))
    else:
        _documents_guard_sqlite(_FROZEN + _NEW_FROZEN)
    _delivery_guards()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS xlar_deliveries_guard() CASCADE")
        op.execute(_documents_guard_pg(_FROZEN))
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_deliveries_frozen")
        op.execute("DROP TRIGGER IF EXISTS trg_deliveries_keep")
        _documents_guard_sqlite(_FROZEN)
    for column in ('expected_on', 'installment_terms', 'order_number', 'related_id'):
        op.drop_column('documents', column)
    for column in ('delivered_tax_minor', 'delivered_net_minor'):
        op.drop_column('document_lines', column)
    for column in ('accrual_id', 'tax_minor', 'net_minor', 'status'):
        op.drop_column('deliveries', column)
