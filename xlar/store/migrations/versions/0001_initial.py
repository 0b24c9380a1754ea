"""initial ledger schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22

Tables of the open-item ledger, and triggers that make posted documents and the
ledger rows immutable on both backends (the services refuse first; the triggers catch
anything that bypasses them).
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_tables()
    _create_guards()


def _create_tables() -> None:
    op.create_table('allocation_batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('method', sa.String(length=24), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('reverses_batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['reverses_batch_id'], ['allocation_batches.id'], name=op.f('fk_allocation_batches_reverses_batch_id_allocation_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_batches')),
    sa.UniqueConstraint('reverses_batch_id', name=op.f('uq_allocation_batches_reverses_batch_id'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_table('number_series',
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('last_no', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'year', name=op.f('pk_number_series'))
    )
    op.create_table('payment_terms',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('discount_days', sa.Integer(), nullable=True),
    sa.Column('discount_pct', sa.String(length=40), nullable=True),
    sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_terms')),
    sa.UniqueConstraint('code', name=op.f('uq_payment_terms_code'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('customers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('salesperson', sa.String(length=64), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payment_terms', sa.String(length=32), nullable=True),
    sa.Column('closing_day', sa.Integer(), nullable=True),
    sa.Column('credit_limit_minor', sa.BigInteger(), nullable=True),
    sa.Column('credit_class', sa.String(length=16), nullable=True),
    sa.Column('tax_id', sa.String(length=64), nullable=True),
    sa.Column('contact', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('vendor_code', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['payment_terms'], ['payment_terms.code'], name=op.f('fk_customers_payment_terms_payment_terms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('code', name=op.f('uq_customers_code'))
    )
    op.create_table('documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('doc_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fx_rate', sa.String(length=40), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('base_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('payment_terms', sa.String(length=32), nullable=True),
    sa.Column('method', sa.String(length=24), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_by', sa.String(length=64), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_by', sa.String(length=64), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_documents_customer_id_customers')),
    sa.ForeignKeyConstraint(['reverses_id'], ['documents.id'], name=op.f('fk_documents_reverses_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('number', name=op.f('uq_documents_number'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_customer_id'), ['customer_id'], unique=False)

    op.create_table('document_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('qty', sa.String(length=40), nullable=False),
    sa.Column('unit_price', sa.String(length=40), nullable=False),
    sa.Column('tax_rate', sa.String(length=40), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_lines_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_lines')),
    sa.UniqueConstraint('document_id', 'line_no', name=op.f('uq_document_lines_document_id_line_no'))
    )
    op.create_table('journal_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('debit_minor', sa.BigInteger(), nullable=False),
    sa.Column('credit_minor', sa.BigInteger(), nullable=False),
    sa.Column('base_debit_minor', sa.BigInteger(), nullable=False),
    sa.Column('base_credit_minor', sa.BigInteger(), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_journal_lines_customer_id_customers')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_journal_lines_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_lines')),
    sa.UniqueConstraint('document_id', 'line_no', name=op.f('uq_journal_lines_document_id_line_no'))
    )
    with op.batch_alter_table('journal_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_lines_document_id'), ['document_id'], unique=False)

    op.create_table('open_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('installment_no', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('base_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('doc_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_open_items_customer_id_customers')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_open_items_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open_items')),
    sa.UniqueConstraint('document_id', 'installment_no', name=op.f('uq_open_items_document_id_installment_no'))
    )
    with op.batch_alter_table('open_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_items_customer_id'), ['customer_id'], unique=False)

    op.create_table('allocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('debit_item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credit_item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('debit_base_minor', sa.BigInteger(), nullable=False),
    sa.Column('credit_base_minor', sa.BigInteger(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['allocation_batches.id'], name=op.f('fk_allocations_batch_id_allocation_batches')),
    sa.ForeignKeyConstraint(['credit_item_id'], ['open_items.id'], name=op.f('fk_allocations_credit_item_id_open_items')),
    sa.ForeignKeyConstraint(['debit_item_id'], ['open_items.id'], name=op.f('fk_allocations_debit_item_id_open_items')),
    sa.ForeignKeyConstraint(['reverses_id'], ['allocations.id'], name=op.f('fk_allocations_reverses_id_allocations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocations')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_allocations_reverses_id'))
    )
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocations_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocations_credit_item_id'), ['credit_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocations_debit_item_id'), ['debit_item_id'], unique=False)



def downgrade() -> None:
    _drop_guards()
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocations_debit_item_id'))
        batch_op.drop_index(batch_op.f('ix_allocations_credit_item_id'))
        batch_op.drop_index(batch_op.f('ix_allocations_batch_id'))

    op.drop_table('allocations')
    with op.batch_alter_table('open_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_items_customer_id'))

    op.drop_table('open_items')
    with op.batch_alter_table('journal_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journal_lines_document_id'))

    op.drop_table('journal_lines')
    op.drop_table('document_lines')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_customer_id'))

    op.drop_table('documents')
    op.drop_table('customers')
    op.drop_table('settings')
    op.drop_table('payment_terms')
    op.drop_table('number_series')
    op.drop_table('audit_log')
    op.drop_table('allocation_batches')


# Columns of a document that never change once it is posted.
_FROZEN = (
    "kind", "number", "customer_id", "doc_on", "due_on", "currency", "fx_rate", "net_minor",
    "tax_minor", "amount_minor", "base_amount_minor", "payment_terms", "method", "reference",
    "memo", "reverses_id", "created_by", "created_at", "posted_by", "posted_at",
)
_APPEND_ONLY = ("open_items", "allocations", "allocation_batches", "journal_lines", "audit_log")
_MESSAGE = "XLAR-E020 posted documents and ledger rows are immutable"


def _create_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _create_pg_guards()
    else:
        _create_sqlite_guards()


def _create_sqlite_guards() -> None:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FROZEN)
    raise_ = f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
    op.execute(
        "CREATE TRIGGER trg_documents_frozen BEFORE UPDATE ON documents "
        f"WHEN OLD.status <> 'draft' AND ({changed} OR (NEW.status IS NOT OLD.status AND NOT "
        "((OLD.status = 'posted' AND NEW.status IN ('approved', 'void')) "
        "OR (OLD.status = 'approved' AND NEW.status = 'void'))) "
        "OR (OLD.status = 'void' AND (NEW.voided_by IS NOT OLD.voided_by "
        f"OR NEW.voided_at IS NOT OLD.voided_at))) {raise_}"
    )
    op.execute(
        "CREATE TRIGGER trg_documents_keep BEFORE DELETE ON documents "
        f"WHEN OLD.status <> 'draft' {raise_}"
    )
    parent_posted = "(SELECT status FROM documents WHERE id = {}.document_id) <> 'draft'"
    op.execute(
        "CREATE TRIGGER trg_document_lines_add BEFORE INSERT ON document_lines "
        f"WHEN {parent_posted.format('NEW')} {raise_}"
    )
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER trg_document_lines_{event.lower()} BEFORE {event} ON document_lines "
            f"WHEN {parent_posted.format('OLD')} {raise_}"
        )
        for table in _APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER trg_{table}_{event.lower()} BEFORE {event} ON {table} {raise_}"
            )


def _create_pg_guards() -> None:
    new_row = ", ".join(f"NEW.{c}" for c in _FROZEN)
    old_row = ", ".join(f"OLD.{c}" for c in _FROZEN)
    op.execute(f"""
CREATE FUNCTION xlar_documents_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$""")
    op.execute(f"""
CREATE FUNCTION xlar_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE parent_status text;
BEGIN
  SELECT status INTO parent_status FROM documents
   WHERE id = (CASE WHEN TG_OP = 'INSERT' THEN NEW.document_id ELSE OLD.document_id END);
  IF parent_status <> 'draft' THEN RAISE EXCEPTION '{_MESSAGE}'; END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$""")
    op.execute(f"""
CREATE FUNCTION xlar_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$""")
    op.execute("CREATE TRIGGER trg_documents_guard BEFORE UPDATE OR DELETE ON documents "
               "FOR EACH ROW EXECUTE FUNCTION xlar_documents_guard()")
    op.execute("CREATE TRIGGER trg_document_lines_guard BEFORE INSERT OR UPDATE OR DELETE "
               "ON document_lines FOR EACH ROW EXECUTE FUNCTION xlar_lines_guard()")
    for table in _APPEND_ONLY:
        op.execute(f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION xlar_append_only()")


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for fn in ("xlar_documents_guard", "xlar_lines_guard", "xlar_append_only"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}() CASCADE")
        return
    names = ["trg_documents_frozen", "trg_documents_keep", "trg_document_lines_add"]
    for event in ("update", "delete"):
        names.append(f"trg_document_lines_{event}")
        names.extend(f"trg_{table}_{event}" for table in _APPEND_ONLY)
    for name in names:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
