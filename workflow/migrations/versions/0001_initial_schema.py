"""initial schema: places, people, taxonomy, requests, outcomes, outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 14:59:09.668485
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('urgency', sa.Enum('emergency', 'urgent', 'normal', 'complex', name='urgency', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('default_route', sa.Enum('community', 'open_task', 'street', name='route', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['categories.id'], name=op.f('fk_categories_parent_id_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_categories_code'))
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_categories_parent_id'), ['parent_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('queue_name', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', name='outbox_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['status', 'available_at'], unique=False)

    op.create_table('processed_messages',
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_processed_messages'))
    )
    op.create_table('streets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_streets')),
    sa.UniqueConstraint('code', name=op.f('uq_streets_code'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('name', name=op.f('uq_units_name'))
    )
    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_communities_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('code', name=op.f('uq_communities_code'))
    )
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_communities_street_id'), ['street_id'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('role', sa.Enum('resident', 'staff', 'member', 'street_officer', 'secretary', 'admin', name='role', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role NOT IN ('staff') OR community_id IS NOT NULL) AND (role NOT IN ('street_officer') OR street_id IS NOT NULL) AND (role NOT IN ('secretary') OR street_id IS NOT NULL OR community_id IS NOT NULL)", name=op.f('ck_accounts_scope_matches_role')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_accounts_community_id_communities')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_accounts_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('username', name=op.f('uq_accounts_username'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_street_id'), ['street_id'], unique=False)

    op.create_table('grids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_grids_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grids')),
    sa.UniqueConstraint('community_id', 'name', name=op.f('uq_grids_community_id'))
    )
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grids_community_id'), ['community_id'], unique=False)

    op.create_table('auth_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_auth_tokens_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_tokens_token_hash'))
    )
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_tokens_account_id'), ['account_id'], unique=False)

    op.create_table('buildings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_buildings_community_id_communities')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_buildings_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buildings')),
    sa.UniqueConstraint('community_id', 'name', name=op.f('uq_buildings_community_id'))
    )
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buildings_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_buildings_grid_id'), ['grid_id'], unique=False)

    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('claim_limit', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_members_account_id_accounts')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_members_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('account_id', name=op.f('uq_members_account_id'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_unit_id'), ['unit_id'], unique=False)

    op.create_table('registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'ended', name='registration_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_registrations_community_id_communities')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_registrations_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registrations'))
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrations_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_member_id'), ['member_id'], unique=False)
        batch_op.create_index('uq_registrations_active', ['member_id', 'community_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'community', 'street', 'open_task', 'claimed', 'verifying', 'resolved', 'closed', 'rejected', 'merged', name='status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('channel', sa.Enum('report', 'inspection', 'visit', 'hotline', 'open311', name='channel', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('collector_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.String(length=32), nullable=False),
    sa.Column('route', sa.Enum('community', 'open_task', 'street', name='route', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('respond_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolve_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claim_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evaluate_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('reopen_count >= 0', name=op.f('ck_requests_reopen_count_non_negative')),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_requests_building_id_buildings')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_requests_category_id_categories')),
    sa.ForeignKeyConstraint(['collector_id'], ['accounts.id'], name=op.f('fk_requests_collector_id_accounts')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_requests_community_id_communities')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_requests_grid_id_grids')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['requests.id'], name=op.f('fk_requests_merged_into_id_requests')),
    sa.ForeignKeyConstraint(['reporter_id'], ['accounts.id'], name=op.f('fk_requests_reporter_id_accounts')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_requests_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requests'))
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requests_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_claim_by'), ['claim_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_collector_id'), ['collector_id'], unique=False)
        batch_op.create_index('ix_requests_community_status', ['community_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_evaluate_by'), ['evaluate_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_resolve_by'), ['resolve_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_respond_by'), ['respond_by'], unique=False)
        batch_op.create_index('ix_requests_street_status', ['street_id', 'status'], unique=False)

    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'reported', 'verified', 'released', 'withdrawn', name='claim_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=5, scale=1), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('send_back_count', sa.Integer(), nullable=False),
    sa.Column('appraisal', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('appraisal IS NULL OR (appraisal BETWEEN 1 AND 5)', name=op.f('ck_claims_appraisal_range')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_claims_member_id_members')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_claims_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_member_status', ['member_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_request_id'), ['request_id'], unique=False)
        batch_op.create_index('uq_claims_live', ['request_id'], unique=True, sqlite_where=sa.text("status IN ('active', 'reported')"), postgresql_where=sa.text("status IN ('active', 'reported')"))

    op.create_table('evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('evaluator_id', sa.Integer(), nullable=False),
    sa.Column('evaluator_role', sa.String(length=24), nullable=False),
    sa.Column('satisfaction', sa.Enum('satisfied', 'basically_satisfied', 'unsatisfied', name='satisfaction', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('solved', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evaluator_id'], ['accounts.id'], name=op.f('fk_evaluations_evaluator_id_accounts')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_evaluations_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluations'))
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index('uq_evaluations_round', ['request_id', 'round'], unique=True)

    op.create_table('outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('period_month', sa.String(length=7), nullable=False),
    sa.Column('period_19', sa.String(length=7), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('route', sa.String(length=16), nullable=True),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('responded_in_time', sa.Boolean(), nullable=False),
    sa.Column('resolved_in_time', sa.Boolean(), nullable=False),
    sa.Column('evaluated', sa.Boolean(), nullable=False),
    sa.Column('solved', sa.Boolean(), nullable=True),
    sa.Column('satisfaction', sa.Enum('satisfied', 'basically_satisfied', 'unsatisfied', name='satisfaction', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('appraisal', sa.Integer(), nullable=True),
    sa.Column('hours', sa.Numeric(precision=6, scale=1), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('closed_by', sa.String(length=16), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_outcomes_building_id_buildings')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_outcomes_category_id_categories')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_outcomes_community_id_communities')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_outcomes_grid_id_grids')),
    sa.ForeignKeyConstraint(['handler_id'], ['accounts.id'], name=op.f('fk_outcomes_handler_id_accounts')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_outcomes_member_id_members')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_outcomes_request_id_requests')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_outcomes_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcomes')),
    sa.UniqueConstraint('request_id', name=op.f('uq_outcomes_request_id'))
    )
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcomes_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcomes_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcomes_period_19'), ['period_19'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcomes_period_month'), ['period_month'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcomes_street_id'), ['street_id'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.Enum('report', 'result', name='photo_stage', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_photos_request_id_requests')),
    sa.ForeignKeyConstraint(['uploader_id'], ['accounts.id'], name=op.f('fk_photos_uploader_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_uploader_id'), ['uploader_id'], unique=False)

    op.create_table('request_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_request_events_actor_id_accounts')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_request_events_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_events'))
    )
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_events_request_id'), ['request_id'], unique=False)


    _append_only_events()
    _seed_taxonomy()


def downgrade() -> None:
    _drop_append_only_events()
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_events_request_id'))

    op.drop_table('request_events')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_uploader_id'))
        batch_op.drop_index(batch_op.f('ix_photos_request_id'))

    op.drop_table('photos')
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcomes_street_id'))
        batch_op.drop_index(batch_op.f('ix_outcomes_period_month'))
        batch_op.drop_index(batch_op.f('ix_outcomes_period_19'))
        batch_op.drop_index(batch_op.f('ix_outcomes_member_id'))
        batch_op.drop_index(batch_op.f('ix_outcomes_community_id'))

    op.drop_table('outcomes')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index('uq_evaluations_round')

    op.drop_table('evaluations')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('uq_claims_live', sqlite_where=sa.text("status IN ('active', 'reported')"), postgresql_where=sa.text("status IN ('active', 'reported')"))
        batch_op.drop_index(batch_op.f('ix_claims_request_id'))
        batch_op.drop_index('ix_claims_member_status')

    op.drop_table('claims')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_street_status')
        batch_op.drop_index(batch_op.f('ix_requests_respond_by'))
        batch_op.drop_index(batch_op.f('ix_requests_resolve_by'))
        batch_op.drop_index(batch_op.f('ix_requests_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_requests_grid_id'))
        batch_op.drop_index(batch_op.f('ix_requests_evaluate_by'))
        batch_op.drop_index('ix_requests_community_status')
        batch_op.drop_index(batch_op.f('ix_requests_collector_id'))
        batch_op.drop_index(batch_op.f('ix_requests_claim_by'))
        batch_op.drop_index(batch_op.f('ix_requests_category_id'))
        batch_op.drop_index(batch_op.f('ix_requests_building_id'))

    op.drop_table('requests')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('uq_registrations_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_registrations_member_id'))
        batch_op.drop_index(batch_op.f('ix_registrations_community_id'))

    op.drop_table('registrations')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_unit_id'))

    op.drop_table('members')
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buildings_grid_id'))
        batch_op.drop_index(batch_op.f('ix_buildings_community_id'))

    op.drop_table('buildings')
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_tokens_account_id'))

    op.drop_table('auth_tokens')
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grids_community_id'))

    op.drop_table('grids')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_street_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_community_id'))

    op.drop_table('accounts')
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_communities_street_id'))

    op.drop_table('communities')
    op.drop_table('units')
    op.drop_table('streets')
    op.drop_table('processed_messages')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_categories_parent_id'))

    op.drop_table('categories')


# --- request_events is append-only: the database refuses UPDATE and DELETE ---------------------

def _append_only_events() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION request_events_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'request_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER request_events_no_{verb.lower()} BEFORE {verb} ON request_events "
                "FOR EACH ROW EXECUTE FUNCTION request_events_append_only()"
            )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER request_events_no_{verb.lower()} BEFORE {verb} ON request_events "
                "BEGIN SELECT RAISE(ABORT, 'request_events is append-only'); END"
            )


def _drop_append_only_events() -> None:
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS request_events_no_{verb}" +
                   (" ON request_events" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS request_events_append_only()")


# --- the seed taxonomy: 8 top-level categories, 40 leaves --------------------------------------
# (code, 中文, English, urgency, default route) per leaf; urgency classes after DB11/T 2021-2022.

TAXONOMY = [
    ("cityscape", "市容环境", "Cityscape", [
        ("cityscape.exposed_garbage", "垃圾暴露", "Exposed garbage", "normal", "community"),
        ("cityscape.piled_materials", "乱堆物料", "Piled materials", "normal", "open_task"),
        ("cityscape.flyposting", "违规小广告", "Fly-posting", "normal", "open_task"),
        ("cityscape.street_vending", "占道经营", "Street vending", "urgent", "street"),
        ("cityscape.illegal_building", "违章建筑", "Illegal construction", "complex", "street"),
    ]),
    ("sanitation", "环境卫生", "Sanitation", [
        ("sanitation.uncollected_waste", "垃圾清运不及时", "Waste not collected", "urgent", "community"),
        ("sanitation.waste_sorting", "垃圾分类", "Waste sorting", "normal", "open_task"),
        ("sanitation.public_toilet", "公厕卫生", "Public toilet hygiene", "normal", "community"),
        ("sanitation.corridor_clutter", "楼道杂物", "Clutter in stairwells", "normal", "open_task"),
        ("sanitation.pests", "蚊蝇鼠害", "Pests", "normal", "community"),
    ]),
    ("property", "物业管理", "Property management", [
        ("property.elevator", "电梯故障", "Elevator failure", "emergency", "community"),
        ("property.heating", "供暖问题", "Heating", "urgent", "community"),
        ("property.parking", "停车管理", "Parking", "normal", "community"),
        ("property.greenery", "绿化养护", "Greenery upkeep", "normal", "open_task"),
        ("property.service", "物业服务质量", "Property service quality", "normal", "community"),
    ]),
    ("facilities", "公共设施", "Public facilities", [
        ("facilities.streetlight", "路灯损坏", "Broken street light", "urgent", "street"),
        ("facilities.road_damage", "道路破损", "Damaged road", "normal", "street"),
        ("facilities.manhole", "井盖缺失", "Missing manhole cover", "emergency", "street"),
        ("facilities.fitness", "健身器材损坏", "Broken fitness equipment", "normal", "community"),
        ("facilities.accessibility", "无障碍设施", "Accessibility facilities", "normal", "community"),
    ]),
    ("disputes", "邻里纠纷", "Neighbour disputes", [
        ("disputes.noise", "噪音扰民", "Noise", "urgent", "community"),
        ("disputes.water_leak", "漏水纠纷", "Water leak between flats", "urgent", "community"),
        ("disputes.pets", "宠物扰民", "Pets", "normal", "community"),
        ("disputes.common_space", "占用公共空间", "Occupied common space", "normal", "community"),
        ("disputes.family", "家庭矛盾", "Family conflict", "normal", "community"),
    ]),
    ("safety", "治安安全", "Public safety", [
        ("safety.fire_lane", "消防通道堵塞", "Blocked fire lane", "emergency", "community"),
        ("safety.ebike_charging", "电动车违规充电", "E-bike charged indoors", "emergency", "community"),
        ("safety.hazard", "安全隐患", "Safety hazard", "urgent", "community"),
        ("safety.suspicious", "可疑人员", "Suspicious persons", "urgent", "street"),
        ("safety.group_rental", "群租房", "Overcrowded rental", "normal", "street"),
    ]),
    ("services", "民生服务", "Livelihood services", [
        ("services.elderly_help", "助老助残", "Help for elderly and disabled", "normal", "open_task"),
        ("services.lone_elderly", "独居老人探访", "Visits to elderly living alone", "normal", "open_task"),
        ("services.convenience", "便民服务", "Convenience services", "normal", "open_task"),
        ("services.employment", "就业帮扶", "Employment help", "complex", "community"),
        ("services.assistance", "社会救助", "Social assistance", "complex", "street"),
    ]),
    ("housing", "房屋安全", "Housing safety", [
        ("housing.roof_leak", "房屋漏雨", "Leaking roof", "urgent", "community"),
        ("housing.wall_cracks", "墙体开裂", "Cracked walls", "urgent", "street"),
        ("housing.facade", "外墙脱落", "Falling facade", "emergency", "street"),
        ("housing.dilapidated", "危旧房屋", "Dilapidated housing", "complex", "street"),
        ("housing.stairwell", "楼道设施损坏", "Damaged stairwell fittings", "normal", "community"),
    ]),
]


def _seed_taxonomy() -> None:
    categories = sa.table(
        "categories",
        sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("parent_id", sa.Integer),
        sa.column("name_zh", sa.String), sa.column("name_en", sa.String), sa.column("urgency", sa.String),
        sa.column("default_route", sa.String), sa.column("active", sa.Boolean), sa.column("sort_order", sa.Integer),
    )
    rows, next_id = [], 1
    for top_order, (code, zh, en, leaves) in enumerate(TAXONOMY, start=1):
        parent_id = next_id
        rows.append(dict(id=parent_id, code=code, parent_id=None, name_zh=zh, name_en=en, urgency="normal",
                         default_route="community", active=True, sort_order=top_order))
        next_id += 1
        for leaf_order, (leaf_code, leaf_zh, leaf_en, urgency, route) in enumerate(leaves, start=1):
            rows.append(dict(id=next_id, code=leaf_code, parent_id=parent_id, name_zh=leaf_zh, name_en=leaf_en,
                             urgency=urgency, default_route=route, active=True, sort_order=leaf_order))
            next_id += 1
    op.bulk_insert(categories, rows)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('categories', 'id'), (SELECT max(id) FROM categories))")
