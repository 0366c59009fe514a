"""志愿者: the volunteer role, member rows of kind volunteer (no home unit), categories that allow
volunteers, the time bank's ledger of hours spent (time_bank_entries, append-only), and member scores
that say which kind they rank

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

ROLES_BEFORE = ('resident', 'staff', 'member', 'street_officer', 'secretary', 'admin', 'client')
ROLES_AFTER = ROLES_BEFORE + ('volunteer',)
LEDGER = 'time_bank_entries'


def _roles(names: tuple[str, ...]) -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_accounts_role'), type_='check')
        listed = ", ".join(f"'{n}'" for n in names)
        batch_op.create_check_constraint('role', sa.text(f"role IN ({listed})"))


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
                   f"RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql")
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def upgrade() -> None:
    _roles(ROLES_AFTER)
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('kind', sa.Enum('party', 'volunteer', name='member_kind', native_enum=False,
                                                   create_constraint=True, length=24),
                                   server_default='party', nullable=False))
        batch.alter_column('unit_id', existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint(
            'unit_matches_kind',
            sa.text("(kind = 'party' AND unit_id IS NOT NULL) OR (kind = 'volunteer' AND unit_id IS NULL)"))
    with op.batch_alter_table('categories') as batch:
        batch.add_column(sa.Column('volunteers', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('member_scores') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='party', nullable=False))
        batch.alter_column('unit_id', existing_type=sa.Integer(), nullable=True)
    op.create_table(LEDGER,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('service_received', name='time_bank_reason', native_enum=False,
                                create_constraint=True, length=24), nullable=False),
    sa.Column('hours', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_time_bank_entries_community_id_communities')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_time_bank_entries_member_id_members')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'], name=op.f('fk_time_bank_entries_recorded_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_bank_entries'))
    )
    op.create_index('ix_time_bank_entries_member', LEDGER, ['member_id', 'id'], unique=False)
    op.create_index(op.f('ix_time_bank_entries_community_id'), LEDGER, ['community_id'], unique=False)
    _append_only(LEDGER)


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT count(*) FROM members WHERE kind = 'volunteer'")).scalar():
        raise RuntimeError("volunteers are on record: a schema before 0022 has no place for them")
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {LEDGER}_no_{verb}" + (f" ON {LEDGER}" if op.get_bind().dialect.name
                                                                   == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {LEDGER}_append_only()")
    op.drop_index(op.f('ix_time_bank_entries_community_id'), table_name=LEDGER)
    op.drop_index('ix_time_bank_entries_member', table_name=LEDGER)
    op.drop_table(LEDGER)
    op.execute("DELETE FROM member_scores WHERE kind = 'volunteer'")
    with op.batch_alter_table('member_scores') as batch:
        batch.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
        batch.drop_column('kind')
    with op.batch_alter_table('categories') as batch:
        batch.drop_column('volunteers')
    with op.batch_alter_table('members') as batch:
        batch.drop_constraint(op.f('ck_members_unit_matches_kind'), type_='check')
        batch.drop_constraint(op.f('ck_members_member_kind'), type_='check')
        batch.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
        batch.drop_column('kind')
    _roles(ROLES_BEFORE)
