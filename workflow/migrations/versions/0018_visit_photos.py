"""A household visit's photos (photos.visit_id)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_photos_visit_id'), ['visit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_photos_visit_id_visits'), 'visits', ['visit_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_photos_visit_id_visits'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_photos_visit_id'))
        batch_op.drop_column('visit_id')
