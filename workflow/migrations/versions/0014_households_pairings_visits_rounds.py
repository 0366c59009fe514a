"""Planned collection: households and their tags, member and grid-worker pairings, home visits and
inspection rounds (workflow.visits); the log of reads of personal data also names households

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:10:47.687644
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('household_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=50), nullable=False),
    sa.Column('name_en', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_tags')),
    sa.UniqueConstraint('code', name=op.f('uq_household_tags_code'))
    )
    op.create_table('grid_workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_grid_workers_account_id_accounts')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_grid_workers_created_by_accounts')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_grid_workers_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_workers'))
    )
    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.create_index('ix_grid_workers_account', ['account_id', 'ends_on'], unique=False)
        batch_op.create_index('ix_grid_workers_grid', ['grid_id', 'ends_on'], unique=False)

    op.create_table('inspection_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('building_ids', sa.JSON(), nullable=False),
    sa.Column('areas', sa.JSON(), nullable=False),
    sa.Column('finding_ids', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_inspection_rounds_account_id_accounts')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_inspection_rounds_community_id_communities')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_inspection_rounds_grid_id_grids')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_inspection_rounds_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_rounds'))
    )
    with op.batch_alter_table('inspection_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_rounds_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_rounds_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_inspection_rounds_grid_date', ['grid_id', 'local_date'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('door', sa.String(length=50), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_households_building_id_buildings')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_households_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('community_id', 'code', name=op.f('uq_households_community_id'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index('ix_households_building', ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_community_id'), ['community_id'], unique=False)

    op.create_table('household_pairings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_household_pairings_created_by_accounts')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_pairings_household_id_households')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_household_pairings_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_pairings'))
    )
    with op.batch_alter_table('household_pairings', schema=None) as batch_op:
        batch_op.create_index('ix_household_pairings_household', ['household_id', 'ends_on'], unique=False)
        batch_op.create_index('ix_household_pairings_member', ['member_id', 'ends_on'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('visitor_role', sa.String(length=24), nullable=False),
    sa.Column('paired', sa.Boolean(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.Enum('at_home', 'phone', 'met_outside', name='visit_method', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('outcome', sa.Enum('all_well', 'problem', 'need', name='visit_outcome', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_visits_community_id_communities')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_visits_household_id_households')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_visits_member_id_members')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_visits_request_id_requests')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_visits_street_id_streets')),
    sa.ForeignKeyConstraint(['visitor_id'], ['accounts.id'], name=op.f('fk_visits_visitor_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('household_id', 'visitor_id', 'local_date', name=op.f('uq_visits_household_id'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_community_date', ['community_id', 'local_date'], unique=False)
        batch_op.create_index('ix_visits_household_date', ['household_id', 'local_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('personal_data_reads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_id', sa.Integer(), nullable=True))
        batch_op.alter_column('request_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_personal_data_reads_household_id'), ['household_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_personal_data_reads_household_id_households'), 'households', ['household_id'], ['id'])


def downgrade() -> None:
    op.execute("DELETE FROM personal_data_reads WHERE request_id IS NULL")
    with op.batch_alter_table('personal_data_reads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_personal_data_reads_household_id_households'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_personal_data_reads_household_id'))
        batch_op.alter_column('request_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('household_id')

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_member_id'))
        batch_op.drop_index('ix_visits_household_date')
        batch_op.drop_index('ix_visits_community_date')

    op.drop_table('visits')
    with op.batch_alter_table('household_pairings', schema=None) as batch_op:
        batch_op.drop_index('ix_household_pairings_member')
        batch_op.drop_index('ix_household_pairings_household')

    op.drop_table('household_pairings')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_community_id'))
        batch_op.drop_index('ix_households_building')

    op.drop_table('households')
    with op.batch_alter_table('inspection_rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_rounds_grid_date')
        batch_op.drop_index(batch_op.f('ix_inspection_rounds_community_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_rounds_account_id'))

    op.drop_table('inspection_rounds')
    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.drop_index('ix_grid_workers_grid')
        batch_op.drop_index('ix_grid_workers_account')

    op.drop_table('grid_workers')
    op.drop_table('household_tags')
