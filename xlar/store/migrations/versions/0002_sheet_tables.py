"""tables for every input sheet

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Tables for the input sheets that had none (contracts, orders, deliveries, installment terms,
FX rates, collection contacts) and the document columns the Invoices and Receipts sheets show.
Columns are added with plain ALTER TABLE so the immutability triggers stay in place.
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fx_rates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('rate', sa.String(length=40), nullable=False),
    sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fx_rates')),
    sa.UniqueConstraint('currency', 'period', name=op.f('uq_fx_rates_currency_period'))
    )
    op.create_table('installment_terms',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('period_no', sa.Integer(), nullable=False),
    sa.Column('percent', sa.String(length=40), nullable=False),
    sa.Column('offset_months', sa.Integer(), nullable=True),
    sa.Column('offset_days', sa.Integer(), nullable=True),
    sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installment_terms')),
    sa.UniqueConstraint('code', 'period_no', name=op.f('uq_installment_terms_code_period_no'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contacted_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('person', sa.String(length=100), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('promise_on', sa.Date(), nullable=True),
    sa.Column('promise_amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('next_action', sa.Text(), nullable=True),
    sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contacts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    op.create_index(op.f('ix_contacts_customer_id'), 'contacts', ['customer_id'], unique=False)

    op.create_table('contracts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sign_on', sa.Date(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('payment_terms', sa.String(length=32), nullable=True),
    sa.Column('installment_terms', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contracts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('number', name=op.f('uq_contracts_number'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), server_default='delivery', nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_number', sa.String(length=40), nullable=True),
    sa.Column('item', sa.String(length=64), nullable=False),
    sa.Column('qty', sa.String(length=40), nullable=False),
    sa.Column('unit_price', sa.String(length=40), nullable=True),
    sa.Column('tax_rate', sa.String(length=40), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('salesperson', sa.String(length=64), nullable=True),
    sa.Column('billed_qty', sa.String(length=40), server_default='0', nullable=False),
    sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_deliveries_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('number', 'line_no', name=op.f('uq_deliveries_number_line_no'))
    )
    op.create_index(op.f('ix_deliveries_customer_id'), 'deliveries', ['customer_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_on', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('deposit_pct', sa.String(length=40), nullable=True),
    sa.Column('contract', sa.String(length=40), nullable=True),
    sa.Column('installment_terms', sa.String(length=32), nullable=True),
    sa.Column('rev', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_orders_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number'))
    )
    op.add_column('document_lines', sa.Column('delivery', sa.String(length=40), nullable=True))
    op.add_column('document_lines', sa.Column('delivery_line', sa.Integer(), nullable=True))

    op.add_column('documents', sa.Column('source', sa.String(length=100), nullable=True))
    op.add_column('documents', sa.Column('fapiao_no', sa.String(length=40), nullable=True))
    op.add_column('documents', sa.Column('approved_by', sa.String(length=64), nullable=True))
    op.add_column('documents', sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    op.drop_column('documents', 'approved_at')
    op.drop_column('documents', 'approved_by')
    op.drop_column('documents', 'fapiao_no')
    op.drop_column('documents', 'source')

    op.drop_column('document_lines', 'delivery_line')
    op.drop_column('document_lines', 'delivery')

    op.drop_table('orders')
    op.drop_index(op.f('ix_deliveries_customer_id'), table_name='deliveries')

    op.drop_table('deliveries')
    op.drop_table('contracts')
    op.drop_index(op.f('ix_contacts_customer_id'), table_name='contacts')

    op.drop_table('contacts')
    op.drop_table('installment_terms')
    op.drop_table('fx_rates')
