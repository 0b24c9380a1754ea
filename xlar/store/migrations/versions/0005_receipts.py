"""receipts and matching: notes' maturity, realized FX, matches by product, payables, bank lines

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

Documents gain the maturity date of a bank acceptance note and, for a realized exchange
difference, the match batch it belongs to; customers the bank account they pay from; an
allocation the item it pays when matched by product. New tables: payables (what the company
owes a customer that is also a vendor, for AR/AP netting) with the netting documents that
cleared them, and bank statement lines with their matching suggestion. The documents guard
freezes the two new document columns once posted.
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_SPEC = importlib.util.spec_from_file_location("xlar_migration_0004", Path(__file__).with_name("0004_billing.py"))
assert _SPEC is not None and _SPEC.loader is not None
_V4 = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_V4)  # its guards, extended here
_FROZEN = _V4._FROZEN + _V4._NEW_FROZEN


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable column referencing TARGET.id (SQLite adds it with a plain ALTER TABLE)."""
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(table, sa.Column(column, _ID, sa.ForeignKey(
            f'{target}.id', name=f'fk_{table}_{column}_{target}'), nullable=True))
    else:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                   f"CONSTRAINT fk_{table}_{column}_{target} REFERENCES {target} (id)")


def _guard(frozen: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_V4._documents_guard_pg(frozen))
    else:
        _V4._documents_guard_sqlite(frozen)


def upgrade() -> None:
    op.add_column('documents', sa.Column('maturity_on', sa.Date(), nullable=True))
    _add_reference('documents', 'batch_id', 'allocation_batches')
    op.add_column('customers', sa.Column('bank_account', sa.String(length=64), nullable=True))
    op.add_column('allocations', sa.Column('item', sa.String(length=64), nullable=True))
    _guard(_FROZEN + ("maturity_on", "batch_id"))
    op.create_table(
        'payables',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('customer_id', _ID, nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('payable_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('reference', sa.String(length=200), nullable=True),
        sa.Column('memo', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name='fk_payables_customer_id_customers'),
        sa.PrimaryKeyConstraint('id', name='pk_payables'),
        sa.UniqueConstraint('customer_id', 'number', name='uq_payables_customer_id_number'),
    )
    op.create_index('ix_payables_customer_id', 'payables', ['customer_id'])
    op.create_table(
        'payable_allocations',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('payable_id', _ID, nullable=False),
        sa.Column('document_id', _ID, nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['payable_id'], ['payables.id'], name='fk_payable_allocations_payable_id_payables'),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name='fk_payable_allocations_document_id_documents'),
        sa.PrimaryKeyConstraint('id', name='pk_payable_allocations'),
    )
    op.create_index('ix_payable_allocations_payable_id', 'payable_allocations', ['payable_id'])
    op.create_index('ix_payable_allocations_document_id', 'payable_allocations', ['document_id'])
    op.create_table(
        'bank_lines',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('line_key', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=False),
        sa.Column('statement', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('booked_on', sa.Date(), nullable=False),
        sa.Column('value_on', sa.Date(), nullable=True),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('counterparty', sa.String(length=200), nullable=True),
        sa.Column('counterparty_account', sa.String(length=64), nullable=True),
        sa.Column('reference', sa.Text(), nullable=True),
        sa.Column('end_to_end', sa.String(length=100), nullable=True),
        sa.Column('bank_ref', sa.String(length=100), nullable=True),
        sa.Column('reversal', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('customer_id', _ID, nullable=True),
        sa.Column('invoices', sa.Text(), nullable=True),
        sa.Column('confidence', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('exception', sa.Text(), nullable=True),
        sa.Column('receipt_id', _ID, nullable=True),
        sa.Column('imported_by', sa.String(length=64), nullable=False),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name='fk_bank_lines_customer_id_customers'),
        sa.ForeignKeyConstraint(['receipt_id'], ['documents.id'], name='fk_bank_lines_receipt_id_documents'),
        sa.PrimaryKeyConstraint('id', name='pk_bank_lines'),
        sa.UniqueConstraint('line_key', name='uq_bank_lines_line_key'),
    )


def downgrade() -> None:
    op.drop_table('bank_lines')
    op.drop_index('ix_payable_allocations_document_id', table_name='payable_allocations')
    op.drop_index('ix_payable_allocations_payable_id', table_name='payable_allocations')
    op.drop_table('payable_allocations')
    op.drop_index('ix_payables_customer_id', table_name='payables')
    op.drop_table('payables')
    with op.batch_alter_table('allocations') as batch:
        batch.drop_column('item')
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('bank_account')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('batch_id')
        batch.drop_column('maturity_on')
    _guard(_FROZEN)  # after the batch: SQLite's batch mode rebuilds the table without its triggers
