"""collections: reminder levels, disputed invoices

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

reminder_levels is the ReminderLevels sheet: per credit class, the dunning levels (how many
days after the due date, or before it when negative, by which channel, with which letter in
zh-CN and en). documents.disputed marks an invoice the customer disputes: it is held out of
dunning until the mark is taken off (it can change after posting, like the fapiao number).
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.add_column('documents', sa.Column('disputed', sa.String(length=8), nullable=True))
    op.create_table(
        'reminder_levels',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('credit_class', sa.String(length=16), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('letter_zh', sa.Text(), nullable=True),
        sa.Column('letter_en', sa.Text(), nullable=True),
        sa.Column('rev', sa.Integer(), nullable=False, server_default='1'),
        sa.PrimaryKeyConstraint('id', name='pk_reminder_levels'),
        sa.UniqueConstraint('credit_class', 'level', name='uq_reminder_levels_credit_class_level'),
    )


def downgrade() -> None:
    op.drop_table('reminder_levels')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('disputed')
