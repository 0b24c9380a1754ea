"""seals: every row of the book under the audit chain

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

row_seals holds the hash of every row of the book, seal_heads each table's row count and sum of
hashes (chained in the audit log), seal_dirty the rows a write transaction changed (xlar's own
writes only: TEMP triggers of xlar's connection on SQLite, triggers that fire only where
xlar.seal is set on PostgreSQL). The rows already in the store are sealed once the store is at
the newest schema (Store.upgrade), by the tables as they are then. period_closes gains the
audit chain's head each month was closed on.
"""
import sqlalchemy as sa
from alembic import op

from xlar.store import seals

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# the tables of the book at this revision and their keys (a later table gets its triggers in its
# own migration; SQLite's are TEMP triggers made by xlar's connections from the tables as they are)
SEALED = {
    'allocation_batches': ['id'], 'fx_rates': ['id'], 'installment_terms': ['id'], 'number_series': ['kind', 'year'],
    'payment_terms': ['id'], 'period_closes': ['period'], 'reminder_levels': ['id'], 'settings': ['key'],
    'customers': ['id'], 'contacts': ['id'], 'contracts': ['id'], 'documents': ['id'], 'monthly_stats': ['id'],
    'orders': ['id'], 'payables': ['id'], 'bank_lines': ['id'], 'deliveries': ['id'], 'document_lines': ['id'],
    'journal_lines': ['id'], 'open_items': ['id'], 'payable_allocations': ['id'], 'allocations': ['id'],
}


def upgrade() -> None:
    op.add_column('period_closes', sa.Column('chain_seq', _ID, nullable=True))
    op.add_column('period_closes', sa.Column('chain_hash', sa.String(length=64), nullable=True))
    op.create_table(
        'row_seals',
        sa.Column('tbl', sa.String(length=32), nullable=False),
        sa.Column('row_key', sa.String(length=200), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('tbl', 'row_key', name='pk_row_seals'),
    )
    op.create_table(
        'seal_heads',
        sa.Column('tbl', sa.String(length=32), nullable=False),
        sa.Column('rows', _ID, nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('tbl', name='pk_seal_heads'),
    )
    op.create_table(
        'seal_dirty',
        sa.Column('tbl', sa.String(length=32), nullable=False),
        sa.Column('row_key', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('tbl', 'row_key', name='pk_seal_dirty'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        for table, key in SEALED.items():
            for sql in seals.postgres_triggers(table, key):
                op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in SEALED:
            op.execute(f'DROP FUNCTION IF EXISTS xlar_seal_{table}() CASCADE')
    op.drop_table('seal_dirty')
    op.drop_table('seal_heads')
    op.drop_table('row_seals')
    with op.batch_alter_table('period_closes') as batch:
        batch.drop_column('chain_hash')
        batch.drop_column('chain_seq')
