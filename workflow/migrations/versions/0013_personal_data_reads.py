"""The log of reads of unmasked personal data: who saw a resident's contact or exact address, when;
requests indexed by submission time, for the Open311 submission limits

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('personal_data_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('fields', sa.String(length=64), nullable=False),
    sa.Column('door', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_personal_data_reads_account_id_accounts')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_personal_data_reads_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_reads'))
    )
    with op.batch_alter_table('personal_data_reads', schema=None) as batch_op:
        batch_op.create_index('ix_personal_data_reads_account_at', ['account_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_reads_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_reads_request_id'), ['request_id'], unique=False)
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index('ix_requests_submitted_at', ['submitted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_submitted_at')
    with op.batch_alter_table('personal_data_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_data_reads_request_id'))
        batch_op.drop_index(batch_op.f('ix_personal_data_reads_at'))
        batch_op.drop_index('ix_personal_data_reads_account_at')
    op.drop_table('personal_data_reads')
