"""partial lottery: a call's bounds of funded probability and the published seed

Issue 14, point 4: a call may allocate the budget left after the clearly fundable proposals by a
draw among those whose funded probability lies between two bounds (percent, checked), with a
seed the coordinator publishes while the evaluation is still open, and a result drawn once in
the ranking phase and kept (``lottery_result``). Existing calls have no lottery (NULL).

Revision ID: 484cc091a42d
Revises: a7c3e9d4b1f2
Create Date: 2026-12-01 10:28:37.317209

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '484cc091a42d'
down_revision = 'a7c3e9d4b1f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lottery_low_percent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lottery_high_percent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lottery_seed', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('lottery_seed_published_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('lottery_result', sa.JSON(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_calls_lottery_bounds'),
            "(lottery_low_percent IS NULL AND lottery_high_percent IS NULL) OR "
            "(0 < lottery_low_percent AND lottery_low_percent < lottery_high_percent "
            "AND lottery_high_percent < 100)",
        )



def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_calls_lottery_bounds'), type_='check')
        batch_op.drop_column('lottery_result')
        batch_op.drop_column('lottery_seed_published_at')
        batch_op.drop_column('lottery_seed')
        batch_op.drop_column('lottery_high_percent')
        batch_op.drop_column('lottery_low_percent')

