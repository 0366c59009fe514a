"""member_scores without foreign keys to members, communities, streets and units (derived rows;
checking them doubled the time a recompute spends storing a city)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 02:15:00
"""

from __future__ import annotations

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

KEYS = (('member_id', 'members'), ('community_id', 'communities'), ('street_id', 'streets'), ('unit_id', 'units'))


def upgrade() -> None:
    with op.batch_alter_table('member_scores', schema=None) as batch_op:
        for column, table in KEYS:
            batch_op.drop_constraint(op.f(f'fk_member_scores_{column}_{table}'), type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('member_scores', schema=None) as batch_op:
        for column, table in KEYS:
            batch_op.create_foreign_key(op.f(f'fk_member_scores_{column}_{table}'), table, [column], ['id'])
