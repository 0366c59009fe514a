"""routing rules, responsibility zones, departments and whistle calls, supervision marks,
reporters linked by a merge, webhooks and their deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 15:36:01.350248
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('urgencies', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('street_ids', sa.JSON(), nullable=False),
    sa.Column('community_ids', sa.JSON(), nullable=False),
    sa.Column('grid_ids', sa.JSON(), nullable=False),
    sa.Column('building_ids', sa.JSON(), nullable=False),
    sa.Column('target', sa.Enum('community', 'open_task', 'street', name='route', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules')),
    sa.UniqueConstraint('position', name=op.f('uq_routing_rules_position'))
    )
    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_departments_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('street_id', 'name', name=op.f('uq_departments_street_id'))
    )
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departments_street_id'), ['street_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='delivery_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('webhook_id', 'event_id', name=op.f('uq_webhook_deliveries_webhook_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_webhook_id'), ['webhook_id'], unique=False)

    op.create_table('responsibility_zones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_responsibility_zones_building_id_buildings')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_responsibility_zones_community_id_communities')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_responsibility_zones_grid_id_grids')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_responsibility_zones_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responsibility_zones')),
    sa.UniqueConstraint('member_id', 'grid_id', 'building_id', name=op.f('uq_responsibility_zones_member_id'))
    )
    with op.batch_alter_table('responsibility_zones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responsibility_zones_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responsibility_zones_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responsibility_zones_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responsibility_zones_member_id'), ['member_id'], unique=False)

    op.create_table('request_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('from_request_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_request_links_account_id_accounts')),
    sa.ForeignKeyConstraint(['from_request_id'], ['requests.id'], name=op.f('fk_request_links_from_request_id_requests')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_request_links_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_links')),
    sa.UniqueConstraint('request_id', 'account_id', name=op.f('uq_request_links_request_id'))
    )
    with op.batch_alter_table('request_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_links_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_links_request_id'), ['request_id'], unique=False)

    op.create_table('whistle_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('called_by_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['called_by_id'], ['accounts.id'], name=op.f('fk_whistle_calls_called_by_id_accounts')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_whistle_calls_department_id_departments')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['accounts.id'], name=op.f('fk_whistle_calls_recorded_by_id_accounts')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_whistle_calls_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistle_calls'))
    )
    with op.batch_alter_table('whistle_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whistle_calls_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_whistle_calls_report_by'), ['report_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_whistle_calls_request_id'), ['request_id'], unique=False)
        batch_op.create_index('uq_whistle_calls_open', ['request_id', 'department_id'], unique=True, sqlite_where=sa.text('responded_at IS NULL'), postgresql_where=sa.text('responded_at IS NULL'))

    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('uq_evaluations_round'))
        batch_op.create_index('uq_evaluations_round', ['request_id', 'round', 'evaluator_id'], unique=True)

    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervision', sa.String(length=8), server_default='normal', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('supervision')

    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index('uq_evaluations_round')
        batch_op.create_index(batch_op.f('uq_evaluations_round'), ['request_id', 'round'], unique=True)

    with op.batch_alter_table('whistle_calls', schema=None) as batch_op:
        batch_op.drop_index('uq_whistle_calls_open', sqlite_where=sa.text('responded_at IS NULL'), postgresql_where=sa.text('responded_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_whistle_calls_request_id'))
        batch_op.drop_index(batch_op.f('ix_whistle_calls_report_by'))
        batch_op.drop_index(batch_op.f('ix_whistle_calls_department_id'))

    op.drop_table('whistle_calls')
    with op.batch_alter_table('request_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_links_request_id'))
        batch_op.drop_index(batch_op.f('ix_request_links_account_id'))

    op.drop_table('request_links')
    with op.batch_alter_table('responsibility_zones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responsibility_zones_member_id'))
        batch_op.drop_index(batch_op.f('ix_responsibility_zones_grid_id'))
        batch_op.drop_index(batch_op.f('ix_responsibility_zones_community_id'))
        batch_op.drop_index(batch_op.f('ix_responsibility_zones_building_id'))

    op.drop_table('responsibility_zones')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_webhook_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_next_attempt_at'))

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departments_street_id'))

    op.drop_table('departments')
    op.drop_table('webhooks')
    op.drop_table('routing_rules')
