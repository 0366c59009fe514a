"""Party life (组织生活): activities with their check-in codes, attendance once per member, members'
own annual targets; the point_reason CHECK takes activity_attended

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 17:30:52.518726
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

REASONS_BEFORE = ('task_verified', 'visit_collected', 'household_visit', 'resident_satisfied', 'released',
                  'sent_back', 'overdue')
REASONS_AFTER = REASONS_BEFORE[:3] + ('activity_attended',) + REASONS_BEFORE[3:]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _triggers(create: bool) -> None:
    """On SQLite a batch change rebuilds the table and loses its append-only triggers: take them off
    first and put them back after (as migration 0015 does). PostgreSQL alters the table in place."""
    for verb in ("UPDATE", "DELETE"):
        if create:
            op.execute(f"CREATE TRIGGER point_entries_no_{verb.lower()} BEFORE {verb} ON point_entries "
                       f"BEGIN SELECT RAISE(ABORT, 'point_entries is append-only'); END")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS point_entries_no_{verb.lower()}")


def _reasons(names: tuple[str, ...]) -> None:
    with op.batch_alter_table('point_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_point_entries_point_reason'), type_='check')
        listed = ", ".join(f"'{n}'" for n in names)
        batch_op.create_check_constraint('point_reason', sa.text(f"reason IN ({listed})"))


def upgrade() -> None:
    op.create_table('party_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('study_day', 'theme_day', 'volunteer_activity', 'care_visit', name='activity_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_party_activities_community_id_communities')),
    sa.ForeignKeyConstraint(['organiser_id'], ['accounts.id'], name=op.f('fk_party_activities_organiser_id_accounts')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_party_activities_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party_activities')),
    sa.UniqueConstraint('code', name=op.f('uq_party_activities_code'))
    )
    with op.batch_alter_table('party_activities', schema=None) as batch_op:
        batch_op.create_index('ix_party_activities_community_day', ['community_id', 'held_on'], unique=False)

    op.create_table('annual_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('activities', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_annual_targets_member_id_members')),
    sa.ForeignKeyConstraint(['set_by'], ['accounts.id'], name=op.f('fk_annual_targets_set_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_targets')),
    sa.UniqueConstraint('member_id', 'year', name=op.f('uq_annual_targets_member_id'))
    )
    op.create_table('party_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('code', 'organiser', name='check_in_method', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['party_activities.id'], name=op.f('fk_party_attendance_activity_id_party_activities')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_party_attendance_member_id_members')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'], name=op.f('fk_party_attendance_recorded_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party_attendance')),
    sa.UniqueConstraint('activity_id', 'member_id', name=op.f('uq_party_attendance_activity_id'))
    )
    with op.batch_alter_table('party_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_party_attendance_member_id'), ['member_id'], unique=False)
    if _sqlite():
        _triggers(create=False)
    _reasons(REASONS_AFTER)
    if _sqlite():
        _triggers(create=True)


def downgrade() -> None:
    # The entries of the reason going away must go first; the ledger refuses deletes, so the guard
    # is lifted for that one statement.
    if _sqlite():
        _triggers(create=False)
        op.execute("DELETE FROM point_entries WHERE reason = 'activity_attended'")
    else:
        op.execute("ALTER TABLE point_entries DISABLE TRIGGER point_entries_no_delete")
        op.execute("DELETE FROM point_entries WHERE reason = 'activity_attended'")
        op.execute("ALTER TABLE point_entries ENABLE TRIGGER point_entries_no_delete")
    _reasons(REASONS_BEFORE)
    if _sqlite():
        _triggers(create=True)
    with op.batch_alter_table('party_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_party_attendance_member_id'))

    op.drop_table('party_attendance')
    op.drop_table('annual_targets')
    with op.batch_alter_table('party_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_party_activities_community_day')

    op.drop_table('party_activities')
