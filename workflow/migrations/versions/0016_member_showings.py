"""亮身份: what each member shows residents of themselves (workflow.identity)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:41:46.896283
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('member_showings',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('show_name', sa.Boolean(), nullable=False),
    sa.Column('show_unit', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=30), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_showings_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_showings'))
    )


def downgrade() -> None:
    op.drop_table('member_showings')
