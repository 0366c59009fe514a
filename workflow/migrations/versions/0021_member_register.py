"""党员名册: member classes an admin adds (member_classes), each member's entry (member_profiles), and
the skills a category's tasks call for (categories.skills)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('member_classes',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=30), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_member_classes'))
    )
    op.create_table('member_profiles',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('class_code', sa.String(length=32), nullable=True),
    sa.Column('post', sa.String(length=50), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('availability', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_profiles_member_id_members')),
    sa.ForeignKeyConstraint(['updated_by'], ['accounts.id'], name=op.f('fk_member_profiles_updated_by_accounts')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_profiles'))
    )
    op.create_index(op.f('ix_member_profiles_class_code'), 'member_profiles', ['class_code'], unique=False)
    with op.batch_alter_table('categories') as batch:
        batch.add_column(sa.Column('skills', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('categories') as batch:
        batch.drop_column('skills')
    op.drop_index(op.f('ix_member_profiles_class_code'), table_name='member_profiles')
    op.drop_table('member_profiles')
    op.drop_table('member_classes')
