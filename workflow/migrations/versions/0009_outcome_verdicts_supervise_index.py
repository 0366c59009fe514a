"""Every round's verdicts on the outcome row (the rates count the unsatisfied verdicts that reopened
a request), and a partial index on supervision events

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = ('verdicts', 'verdicts_solved', 'verdicts_satisfied', 'verdicts_basically')
SUPERVISE = "trigger = 'supervise'"
# The decisive verdicts of each closed request, from the evaluations kept for every round.
BACKFILL = """
UPDATE outcomes SET
  verdicts = (SELECT count(*) FROM evaluations e WHERE e.request_id = outcomes.request_id AND e.decisive),
  verdicts_solved = (SELECT count(*) FROM evaluations e
                     WHERE e.request_id = outcomes.request_id AND e.decisive AND e.solved),
  verdicts_satisfied = (SELECT count(*) FROM evaluations e
                        WHERE e.request_id = outcomes.request_id AND e.decisive AND e.satisfaction = 'satisfied'),
  verdicts_basically = (SELECT count(*) FROM evaluations e
                        WHERE e.request_id = outcomes.request_id AND e.decisive
                          AND e.satisfaction = 'basically_satisfied')
"""


def upgrade() -> None:
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default='0', nullable=False))
    op.execute(BACKFILL)
    op.create_index('ix_request_events_supervise', 'request_events', ['request_id', 'created_at'], unique=False,
                    sqlite_where=sa.text(SUPERVISE), postgresql_where=sa.text(SUPERVISE))


def downgrade() -> None:
    op.drop_index('ix_request_events_supervise', table_name='request_events',
                  sqlite_where=sa.text(SUPERVISE), postgresql_where=sa.text(SUPERVISE))
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
