"""楼栋长: who leads each building, one at a time, with the history

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 13:26:12.735732
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('building_leaders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_building_leaders_account_id_accounts')),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_building_leaders_building_id_buildings')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_building_leaders_created_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_building_leaders'))
    )
    with op.batch_alter_table('building_leaders', schema=None) as batch_op:
        batch_op.create_index('ix_building_leaders_account', ['account_id', 'ends_on'], unique=False)
        batch_op.create_index('ix_building_leaders_building', ['building_id', 'ends_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('building_leaders', schema=None) as batch_op:
        batch_op.drop_index('ix_building_leaders_building')
        batch_op.drop_index('ix_building_leaders_account')

    op.drop_table('building_leaders')
