"""Points for household visits (the point_reason CHECK takes household_visit); the visit reminders
sent, each once

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

REASONS_BEFORE = ('task_verified', 'visit_collected', 'resident_satisfied', 'released', 'sent_back', 'overdue')
REASONS_AFTER = REASONS_BEFORE[:2] + ('household_visit',) + REASONS_BEFORE[2:]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _triggers(create: bool) -> None:
    """On SQLite a batch change rebuilds the table and loses its triggers (migration 0007 made them):
    take them off first and put them back after. PostgreSQL alters the table in place."""
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
    op.create_table('visit_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_reminders')),
    sa.UniqueConstraint('key', name=op.f('uq_visit_reminders_key'))
    )
    if _sqlite():
        _triggers(create=False)
    _reasons(REASONS_AFTER)
    if _sqlite():
        _triggers(create=True)


def downgrade() -> None:
    # The entries of the reason going away must go first; the ledger refuses deletes, so the
    # guard is lifted for that one statement.
    if _sqlite():
        _triggers(create=False)
        op.execute("DELETE FROM point_entries WHERE reason = 'household_visit'")
    else:
        op.execute("ALTER TABLE point_entries DISABLE TRIGGER point_entries_no_delete")
        op.execute("DELETE FROM point_entries WHERE reason = 'household_visit'")
        op.execute("ALTER TABLE point_entries ENABLE TRIGGER point_entries_no_delete")
    _reasons(REASONS_BEFORE)
    if _sqlite():
        _triggers(create=True)
    op.drop_table('visit_reminders')
