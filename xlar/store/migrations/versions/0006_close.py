"""month-end close: monthly statistics, the close history, revaluation items, closed-period guards

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

New tables: monthly_stats (the per-customer snapshot a close writes: opening, invoiced,
credited, received, adjusted, FX and closing, in document and base currency) and
period_closes (every close and reopen, who and why). An open item can revalue another
(revalues_id: the unrealized exchange difference of a foreign-currency item at a month end,
and its reversal on the 1st); a customer can have its own receivable account.

Guards: nothing dated in a closed period (settings.closed_period, 'YYYY-MM') can be inserted
into open_items, allocations or journal_lines: the services refuse first with a message naming
the document; the database refuses whatever slips past them.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_MESSAGE = "XLAR-E030 the period is closed: nothing dated in it can be added"
_DATED = {"open_items": "doc_on", "allocations": "effective_on", "journal_lines": "posted_on"}
_CLOSED = "(SELECT value FROM settings WHERE key = 'closed_period')"


def _period_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
CREATE FUNCTION xlar_closed_period_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF substr(to_jsonb(NEW) ->> TG_ARGV[0], 1, 7) <= {_CLOSED} THEN
    RAISE EXCEPTION '{_MESSAGE}';
  END IF;
  RETURN NEW;
END $$""")
        for table, column in _DATED.items():
            op.execute(f"CREATE TRIGGER trg_{table}_closed BEFORE INSERT ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION xlar_closed_period_guard('{column}')")
        return
    for table, column in _DATED.items():
        op.execute(f"CREATE TRIGGER trg_{table}_closed BEFORE INSERT ON {table} "
                   f"WHEN substr(NEW.{column}, 1, 7) <= {_CLOSED} "
                   f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END")


def _stat_columns() -> list[sa.Column[int]]:
    names = ("opening", "invoiced", "credited", "received", "adjusted", "fx", "closing")
    return [sa.Column(f"{prefix}{name}_minor", sa.BigInteger(), nullable=False)
            for prefix in ("", "base_") for name in names]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column('open_items', sa.Column('revalues_id', _ID, sa.ForeignKey(
            'open_items.id', name='fk_open_items_revalues_id_open_items'), nullable=True))
    else:
        op.execute("ALTER TABLE open_items ADD COLUMN revalues_id INTEGER "
                   "CONSTRAINT fk_open_items_revalues_id_open_items REFERENCES open_items (id)")
    op.create_index('ix_open_items_revalues_id', 'open_items', ['revalues_id'])
    op.add_column('customers', sa.Column('ar_account', sa.String(length=32), nullable=True))
    op.create_index('ix_documents_status_kind', 'documents', ['status', 'kind'])   # what blocks a close
    op.create_table(
        'monthly_stats',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('customer_id', _ID, nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        *_stat_columns(),
        sa.Column('computed_by', sa.String(length=64), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name='fk_monthly_stats_customer_id_customers'),
        sa.PrimaryKeyConstraint('id', name='pk_monthly_stats'),
        sa.UniqueConstraint('period', 'customer_id', 'currency', name='uq_monthly_stats_period_customer_id_currency'),
    )
    op.create_table(
        'period_closes',
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('closed_by', sa.String(length=64), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reopened_by', sa.String(length=64), nullable=True),
        sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('period', name='pk_period_closes'),
    )
    _period_guards()


def downgrade() -> None:
    for table in _DATED:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_closed" +
                   (f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS xlar_closed_period_guard()")
    op.drop_table('period_closes')
    op.drop_table('monthly_stats')
    op.drop_index('ix_documents_status_kind', table_name='documents')
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('ar_account')
    op.drop_index('ix_open_items_revalues_id', table_name='open_items')
    with op.batch_alter_table('open_items') as batch:
        batch.drop_column('revalues_id')
