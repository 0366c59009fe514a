"""Planned collection in the unit scores: coverage and round figures per community and street run
(unit_scores; empty in runs made before), and the coverage counts a later run may reuse
(coverage_counts)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

COUNTS = ('households', 'visited', 'overdue', 'never_visited', 'visits', 'rounds', 'round_windows',
          'round_windows_met')
SHARES = ('coverage', 'round_rate', 'rates_composite')
MEMO = ('visits_n', 'visits_last', 'changes_n', 'changes_last', 'households', 'visited', 'due', 'overdue',
        'never_visited')


def upgrade() -> None:
    with op.batch_alter_table('unit_scores') as batch:
        for name in COUNTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
        for name in SHARES:
            batch.add_column(sa.Column(name, sa.Numeric(7, 4), nullable=True))
    op.create_table('coverage_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('today', sa.Date(), nullable=False),
    sa.Column('plan_key', sa.String(length=64), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in MEMO),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_coverage_counts_community_id_communities'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_counts')),
    sa.UniqueConstraint('community_id', 'as_of', 'today', 'plan_key', name=op.f('uq_coverage_counts_community_id'))
    )


def downgrade() -> None:
    op.drop_table('coverage_counts')
    with op.batch_alter_table('unit_scores') as batch:
        for name in (*SHARES[::-1], *COUNTS[::-1]):
            batch.drop_column(name)
