"""党员中心户: a building's party-member center household, with its history (center_households)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('center_households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_center_households_building_id_buildings')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_center_households_created_by_accounts')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_center_households_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_center_households'))
    )
    op.create_index('ix_center_households_building', 'center_households', ['building_id', 'ends_on'], unique=False)
    op.create_index('ix_center_households_member', 'center_households', ['member_id', 'ends_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_center_households_member', table_name='center_households')
    op.drop_index('ix_center_households_building', table_name='center_households')
    op.drop_table('center_households')
