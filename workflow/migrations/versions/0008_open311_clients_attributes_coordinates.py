"""Open311 clients and their keys, the client role, category attributes and their answers, a
request's contact e-mail and outside photo link, building coordinates

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 21:59:23.272299
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ROLES_BEFORE = ('resident', 'staff', 'member', 'street_officer', 'secretary', 'admin')
ROLES_AFTER = ROLES_BEFORE + ('client',)


def _roles(names: tuple[str, ...]) -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_accounts_role'), type_='check')
        listed = ", ".join(f"'{n}'" for n in names)
        batch_op.create_check_constraint('role', sa.text(f"role IN ({listed})"))


def upgrade() -> None:
    _roles(ROLES_AFTER)
    op.create_table('open311_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_open311_clients_account_id_accounts')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_open311_clients_created_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_clients')),
    sa.UniqueConstraint('account_id', name=op.f('uq_open311_clients_account_id')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_open311_clients_key_hash'))
    )
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Double(), nullable=True))

    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attributes', sa.JSON(), server_default='[]', nullable=False))

    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), server_default='', nullable=False))
        batch_op.add_column(sa.Column('attributes', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('media_url', sa.String(length=500), server_default='', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('media_url')
        batch_op.drop_column('attributes')
        batch_op.drop_column('contact_email')

    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('attributes')

    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')

    op.drop_table('open311_clients')
    op.execute("DELETE FROM accounts WHERE role = 'client'")
    _roles(ROLES_BEFORE)
