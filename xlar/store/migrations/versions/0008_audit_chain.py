"""audit chain: every audit record carries its place and the hash of the one before

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

audit_log gains seq (the place in the chain, from 1), prev_hash and hash; audit_head keeps
the newest place and hash. The records already in the log are chained in id order (the
append-only guard is lifted for that one update and put back).
"""
import sqlalchemy as sa
from alembic import op

from xlar.store.audit import GENESIS, chain_hash

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_MESSAGE = "XLAR-E020 posted documents and ledger rows are immutable"


def upgrade() -> None:
    op.add_column('audit_log', sa.Column('seq', _ID, nullable=True))
    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_index('uq_audit_log_seq', 'audit_log', ['seq'], unique=True)
    op.create_index('ix_audit_log_entity_entity_id', 'audit_log', ['entity', 'entity_id'])
    op.create_table(
        'audit_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', _ID, nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_audit_head'),
    )
    _chain_existing()


def _chain_existing() -> None:
    conn = op.get_bind()
    log = sa.table('audit_log', sa.column('id'), sa.column('at', sa.DateTime(timezone=True)),
                   sa.column('user_name'), sa.column('action'), sa.column('entity'), sa.column('entity_id'),
                   sa.column('before'), sa.column('after'), sa.column('seq'), sa.column('prev_hash'),
                   sa.column('hash'))
    rows = conn.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    seq, previous = 0, GENESIS
    if rows:
        _guard(drop=True)
        update = log.update().where(log.c.id == sa.bindparam('row_id')).values(
            seq=sa.bindparam('new_seq'), prev_hash=sa.bindparam('new_prev'), hash=sa.bindparam('new_hash'))
        changes = []
        for row in rows:
            seq += 1
            chained = {**row, 'seq': seq, 'prev_hash': previous}
            previous = chain_hash(chained)
            changes.append({'row_id': row['id'], 'new_seq': seq, 'new_prev': chained['prev_hash'],
                            'new_hash': previous})
        conn.execute(update, changes)
        _guard(drop=False)
    conn.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :seq, :hash)"),
                 {'seq': seq, 'hash': previous})


def _guard(*, drop: bool) -> None:
    """Lift or restore the append-only guard on audit_log (made in 0001)."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER trg_audit_log_append_only ON audit_log' if drop else
                   'CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log '
                   'FOR EACH ROW EXECUTE FUNCTION xlar_append_only()')
        return
    for event in ('update', 'delete'):
        op.execute(f'DROP TRIGGER IF EXISTS trg_audit_log_{event}' if drop else
                   f"CREATE TRIGGER trg_audit_log_{event} BEFORE {event.upper()} ON audit_log "
                   f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END")


def downgrade() -> None:
    op.drop_table('audit_head')
    op.drop_index('ix_audit_log_entity_entity_id', table_name='audit_log')
    op.drop_index('uq_audit_log_seq', table_name='audit_log')
    with op.batch_alter_table('audit_log') as batch:   # on SQLite: a new table, without the guard
        batch.drop_column('hash')
        batch.drop_column('prev_hash')
        batch.drop_column('seq')
    if op.get_bind().dialect.name == 'sqlite':
        _guard(drop=False)
