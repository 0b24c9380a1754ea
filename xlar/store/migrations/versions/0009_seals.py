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
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        for table in seals.sealed_tables():
            for sql in seals.postgres_triggers(table.name, [c.name for c in table.primary_key.columns]):
                op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in seals.sealed_tables():
            op.execute(f'DROP FUNCTION IF EXISTS xlar_seal_{table.name}() CASCADE')
    op.drop_table('seal_dirty')
    op.drop_table('seal_heads')
    op.drop_table('row_seals')
    with op.batch_alter_table('period_closes') as batch:
        batch.drop_column('chain_hash')
        batch.drop_column('chain_seq')
