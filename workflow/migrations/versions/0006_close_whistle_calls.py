"""whistle calls closed when their request leaves the street office

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 16:38:49.890225
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


OPEN_BEFORE = "responded_at IS NULL"
OPEN_AFTER = "responded_at IS NULL AND closed_at IS NULL"


def _open_index(batch_op, where: str) -> None:
    batch_op.create_index('uq_whistle_calls_open', ['request_id', 'department_id'], unique=True,
                          sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    with op.batch_alter_table('whistle_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        # A closed call no longer blocks calling the same department again.
        batch_op.drop_index('uq_whistle_calls_open')
        _open_index(batch_op, OPEN_AFTER)



def downgrade() -> None:
    with op.batch_alter_table('whistle_calls', schema=None) as batch_op:
        batch_op.drop_index('uq_whistle_calls_open')
        _open_index(batch_op, OPEN_BEFORE)
        batch_op.drop_column('closed_at')

