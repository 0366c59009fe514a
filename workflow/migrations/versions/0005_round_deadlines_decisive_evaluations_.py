"""first deadlines kept apart from each round's, decisive evaluations, zone uniqueness

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 16:13:10.616793
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decisive', sa.Boolean(), server_default=sa.text('(true)'), nullable=False))

    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_respond_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_resolve_by', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE requests SET first_respond_by = respond_by, first_resolve_by = resolve_by")

    with op.batch_alter_table('responsibility_zones', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_responsibility_zones_member_id'), type_='unique')
        batch_op.create_index('uq_zones_member_building', ['member_id', 'building_id'], unique=True, sqlite_where=sa.text('building_id IS NOT NULL'), postgresql_where=sa.text('building_id IS NOT NULL'))
        batch_op.create_index('uq_zones_member_grid', ['member_id', 'grid_id'], unique=True, sqlite_where=sa.text('grid_id IS NOT NULL'), postgresql_where=sa.text('grid_id IS NOT NULL'))



def downgrade() -> None:
    with op.batch_alter_table('responsibility_zones', schema=None) as batch_op:
        batch_op.drop_index('uq_zones_member_grid', sqlite_where=sa.text('grid_id IS NOT NULL'), postgresql_where=sa.text('grid_id IS NOT NULL'))
        batch_op.drop_index('uq_zones_member_building', sqlite_where=sa.text('building_id IS NOT NULL'), postgresql_where=sa.text('building_id IS NOT NULL'))
        batch_op.create_unique_constraint(batch_op.f('uq_responsibility_zones_member_id'), ['member_id', 'grid_id', 'building_id'])

    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('first_resolve_by')
        batch_op.drop_column('first_respond_by')

    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_column('decisive')

