"""deadline classes, 80 % reminder times, the working-day calendar, deadline actions, the inbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:26:18.714394
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('holiday', 'workday', name='day_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('deadline_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_deadline_actions_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_actions'))
    )
    with op.batch_alter_table('deadline_actions', schema=None) as batch_op:
        batch_op.create_index('uq_deadline_actions', ['request_id', 'action', 'due_at'], unique=True)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notifications_account_id_accounts')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_notifications_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_account_read', ['account_id', 'read_at'], unique=False)
        batch_op.create_index('uq_notifications_event_account', ['event_id', 'account_id'], unique=True)

    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_class', sa.Enum('h2', 'h24', 'd7', 'd15', name='deadline_class', native_enum=False, create_constraint=True, length=24), nullable=False, server_default='d7'))

    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('respond_remind_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolve_remind_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claim_remind_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('evaluate_remind_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_requests_claim_remind_at'), ['claim_remind_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_evaluate_remind_at'), ['evaluate_remind_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_resolve_remind_at'), ['resolve_remind_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_respond_remind_at'), ['respond_remind_at'], unique=False)

    # Until now urgency carried both windows; the feedback window becomes its own class.
    for urgency, deadline_class in (("emergency", "h2"), ("urgent", "h24"), ("normal", "d7"), ("complex", "d15")):
        op.execute(f"UPDATE categories SET deadline_class = '{deadline_class}' WHERE urgency = '{urgency}'")
    _seed_calendar()


def downgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requests_respond_remind_at'))
        batch_op.drop_index(batch_op.f('ix_requests_resolve_remind_at'))
        batch_op.drop_index(batch_op.f('ix_requests_evaluate_remind_at'))
        batch_op.drop_index(batch_op.f('ix_requests_claim_remind_at'))
        batch_op.drop_column('evaluate_remind_at')
        batch_op.drop_column('claim_remind_at')
        batch_op.drop_column('resolve_remind_at')
        batch_op.drop_column('respond_remind_at')

    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_categories_deadline_class'), type_='check')
        batch_op.drop_column('deadline_class')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('uq_notifications_event_account')
        batch_op.drop_index('ix_notifications_account_read')

    op.drop_table('notifications')
    with op.batch_alter_table('deadline_actions', schema=None) as batch_op:
        batch_op.drop_index('uq_deadline_actions')

    op.drop_table('deadline_actions')
    op.drop_table('calendar_days')


# 国务院办公厅关于2026年部分节假日安排的通知 (4 November 2025): days off that fall on weekdays,
# and weekend days that are worked. Weekends and weekdays that follow the usual rule are not listed.
CALENDAR_2026 = {
    "元旦": (["2026-01-01", "2026-01-02"], ["2026-01-04"]),
    "春节": (["2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-23"],
             ["2026-02-14", "2026-02-28"]),
    "清明节": (["2026-04-06"], []),
    "劳动节": (["2026-05-01", "2026-05-04", "2026-05-05"], ["2026-05-09"]),
    "端午节": (["2026-06-19"], []),
    "中秋节": (["2026-09-25"], []),
    "国庆节": (["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"], ["2026-09-20", "2026-10-10"]),
}


def _seed_calendar() -> None:
    from datetime import date

    days = sa.table("calendar_days", sa.column("day", sa.Date), sa.column("kind", sa.String),
                    sa.column("name", sa.String))
    rows = []
    for name, (off, worked) in CALENDAR_2026.items():
        rows += [{"day": date.fromisoformat(d), "kind": "holiday", "name": name} for d in off]
        rows += [{"day": date.fromisoformat(d), "kind": "workday", "name": f"{name}调休上班"} for d in worked]
    op.bulk_insert(days, rows)
