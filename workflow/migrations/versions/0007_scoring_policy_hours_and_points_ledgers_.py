"""scoring policy, hours and points ledgers, score runs, audit log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 17:17:52.764919
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


# Version 1 of the scoring policy: DESIGN.md §5's defaults (k = 0.9, 0.10/0.50/0.40, base 60,
# 10/30/30/20/10 % quotas), in force for every period until an admin adds a version.
DEFAULT_RULES = json.loads("""
{"period_kind": "month", "satisfaction_k": "0.9",
 "rate_weights": {"response": "0.10", "resolution": "0.50", "satisfaction": "0.40"},
 "points": {"base": 60, "task_verified": 5, "visit_collected": 2, "resident_satisfied": 3, "released": -2,
            "sent_back": -3, "overdue": -5, "full_score": 100},
 "quality": {"satisfied": "100", "basically_satisfied": "80", "unsatisfied": "40", "appraisal_weight": "0.4",
             "shrinkage_strength": "3", "prior_mean": "80"},
 "assessment": {"quality": "0.5", "hours": "0.2", "points": "0.3", "full_hours": "20"},
 "gates": {"min_verified_tasks": 3, "no_red_supervision": true},
 "grade_quotas": [{"grade": "excellent", "share": "0.10"}, {"grade": "good", "share": "0.30"},
                  {"grade": "competent", "share": "0.30"}, {"grade": "basic", "share": "0.20"},
                  {"grade": "improve", "share": "0.10"}]}
""")
APPEND_ONLY = ("hours_entries", "point_entries", "audit_log")


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=24), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_audit_log_actor_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('score_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('period_kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'superseded', 'retired', name='run_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('scope_kind', sa.Enum('city', 'street', 'community', name='scope_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('marks', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['published_by'], ['accounts.id'], name=op.f('fk_score_runs_published_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_runs'))
    )
    with op.batch_alter_table('score_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_runs_period'), ['period'], unique=False)
        batch_op.create_index('uq_score_runs_draft', ['period'], unique=True, sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
        batch_op.create_index('uq_score_runs_published', ['period', 'scope_kind', 'scope_id'], unique=True, sqlite_where=sa.text("status = 'published'"), postgresql_where=sa.text("status = 'published'"))

    op.create_table('scoring_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_scoring_policies_created_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_policies')),
    sa.UniqueConstraint('version', name=op.f('uq_scoring_policies_version'))
    )
    with op.batch_alter_table('scoring_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scoring_policies_effective_from'), ['effective_from'], unique=False)

    op.create_table('member_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('tasks', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=8, scale=1), nullable=False),
    sa.Column('quality_sum', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('quality_mean', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('community_mean', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('quality', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('hours_score', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('points_bonus', sa.Integer(), nullable=False),
    sa.Column('points_deduction', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('points_score', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('composite', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('gate_failures', sa.JSON(), nullable=False),
    sa.Column('community_rank', sa.Integer(), nullable=True),
    sa.Column('community_grade', sa.String(length=16), nullable=True),
    sa.Column('community_decided_by', sa.String(length=16), nullable=True),
    sa.Column('street_rank', sa.Integer(), nullable=True),
    sa.Column('street_grade', sa.String(length=16), nullable=True),
    sa.Column('street_decided_by', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_member_scores_community_id_communities')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_scores_member_id_members')),
    sa.ForeignKeyConstraint(['run_id'], ['score_runs.id'], name=op.f('fk_member_scores_run_id_score_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_member_scores_street_id_streets')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_member_scores_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_scores'))
    )
    with op.batch_alter_table('member_scores', schema=None) as batch_op:
        batch_op.create_index('ix_member_scores_run_community', ['run_id', 'community_id'], unique=False)
        batch_op.create_index('ix_member_scores_run_member', ['run_id', 'member_id'], unique=False)
        batch_op.create_index('ix_member_scores_run_street', ['run_id', 'street_id'], unique=False)
        batch_op.create_index('ix_member_scores_run_unit', ['run_id', 'unit_id'], unique=False)

    op.create_table('unit_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('unit_kind', sa.Enum('street', 'community', 'grid', 'member', name='unit_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('responded_in_time', sa.Integer(), nullable=False),
    sa.Column('evaluated', sa.Integer(), nullable=False),
    sa.Column('solved', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('basically_satisfied', sa.Integer(), nullable=False),
    sa.Column('response_rate', sa.Numeric(precision=7, scale=4), nullable=True),
    sa.Column('resolution_rate', sa.Numeric(precision=7, scale=4), nullable=True),
    sa.Column('satisfaction_rate', sa.Numeric(precision=7, scale=4), nullable=True),
    sa.Column('composite', sa.Numeric(precision=7, scale=4), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['score_runs.id'], name=op.f('fk_unit_scores_run_id_score_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_scores'))
    )
    with op.batch_alter_table('unit_scores', schema=None) as batch_op:
        batch_op.create_index('ix_unit_scores_run_unit', ['run_id', 'unit_kind', 'unit_id'], unique=False)

    op.create_table('point_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Enum('task_verified', 'visit_collected', 'resident_satisfied', 'released', 'sent_back', 'overdue', name='point_reason', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=64), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('period_month', sa.String(length=7), nullable=False),
    sa.Column('period_19', sa.String(length=7), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_point_entries_community_id_communities')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_point_entries_member_id_members')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_point_entries_request_id_requests')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_point_entries_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_entries')),
    sa.UniqueConstraint('source_key', name=op.f('uq_point_entries_source_key'))
    )
    with op.batch_alter_table('point_entries', schema=None) as batch_op:
        batch_op.create_index('ix_point_entries_community_19', ['community_id', 'period_19'], unique=False)
        batch_op.create_index('ix_point_entries_community_month', ['community_id', 'period_month'], unique=False)
        batch_op.create_index('ix_point_entries_member_day', ['member_id', 'local_date'], unique=False)
        batch_op.create_index('ix_point_entries_day', ['local_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_entries_request_id'), ['request_id'], unique=False)

    op.create_table('hours_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=5, scale=1), nullable=False),
    sa.Column('appraisal', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('period_month', sa.String(length=7), nullable=False),
    sa.Column('period_19', sa.String(length=7), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_hours_entries_claim_id_claims')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_hours_entries_community_id_communities')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_hours_entries_member_id_members')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_hours_entries_request_id_requests')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_hours_entries_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hours_entries')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_hours_entries_claim_id'))
    )
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.create_index('ix_hours_entries_community_19', ['community_id', 'period_19'], unique=False)
        batch_op.create_index('ix_hours_entries_community_month', ['community_id', 'period_month'], unique=False)
        batch_op.create_index('ix_hours_entries_member_day', ['member_id', 'local_date'], unique=False)
        batch_op.create_index('ix_hours_entries_request_round', ['request_id', 'round'], unique=False)

    policies = sa.table("scoring_policies", sa.column("version", sa.Integer), sa.column("effective_from", sa.Date),
                        sa.column("rules", sa.JSON), sa.column("note", sa.Text),
                        sa.column("created_at", sa.DateTime(timezone=True)))
    op.bulk_insert(policies, [{"version": 1, "effective_from": date(2000, 1, 1), "rules": DEFAULT_RULES,
                               "note": "Defaults of DESIGN.md §5", "created_at": datetime.now(UTC)}])
    for table in APPEND_ONLY:
        _append_only(table)


def _append_only(table: str) -> None:
    """Ledgers and the audit log are facts: the database refuses UPDATE and DELETE on them."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
                   f"RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql")
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def _drop_append_only(table: str) -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_append_only(table)
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_hours_entries_request_round')
        batch_op.drop_index('ix_hours_entries_member_day')
        batch_op.drop_index('ix_hours_entries_community_month')
        batch_op.drop_index('ix_hours_entries_community_19')

    op.drop_table('hours_entries')
    with op.batch_alter_table('point_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_entries_request_id'))
        batch_op.drop_index('ix_point_entries_member_day')
        batch_op.drop_index('ix_point_entries_day')
        batch_op.drop_index('ix_point_entries_community_month')
        batch_op.drop_index('ix_point_entries_community_19')

    op.drop_table('point_entries')
    with op.batch_alter_table('unit_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_scores_run_unit')

    op.drop_table('unit_scores')
    with op.batch_alter_table('member_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_member_scores_run_unit')
        batch_op.drop_index('ix_member_scores_run_street')
        batch_op.drop_index('ix_member_scores_run_member')
        batch_op.drop_index('ix_member_scores_run_community')

    op.drop_table('member_scores')
    with op.batch_alter_table('scoring_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scoring_policies_effective_from'))

    op.drop_table('scoring_policies')
    with op.batch_alter_table('score_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_score_runs_published', sqlite_where=sa.text("status = 'published'"), postgresql_where=sa.text("status = 'published'"))
        batch_op.drop_index('uq_score_runs_draft', sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
        batch_op.drop_index(batch_op.f('ix_score_runs_period'))

    op.drop_table('score_runs')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
