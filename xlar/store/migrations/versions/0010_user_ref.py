"""documents.user_ref: the number a user typed on a new row

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

A new invoice or receipt typed with a number of the user's own keeps it as its reference (the
sheets' Your ref. column) while the store numbers it (DRAFT-n, the series number once posted).
The column is added last: rows sealed before keep their hashes (trailing NULLs are left out).
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('documents', sa.Column('user_ref', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('user_ref')
