"""The household register's change log (register_changes), the version coverage is cached against

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('register_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'],
                            name=op.f('fk_register_changes_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_changes'))
    )
    op.create_index('ix_register_changes_community', 'register_changes', ['community_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_register_changes_community', table_name='register_changes')
    op.drop_table('register_changes')
