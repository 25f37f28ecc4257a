"""decisions: the granted amount of a funded decision

A funded proposal may be granted less than it requested (the amount is cut in grant
preparation). ``decisions.amount_eur`` holds that amount; empty means the requested funding.
Only a funded decision has one, and it is positive.

Revision ID: 4684a273d9ed
Revises: e6bdf186ae11
Create Date: 2026-11-30 12:51:11.368190

"""
from alembic import op
import sqlalchemy as sa

import reviewer_app.models.types


# revision identifiers, used by Alembic.
revision = '4684a273d9ed'
down_revision = 'e6bdf186ae11'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount_eur', reviewer_app.models.types.Cents(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_decisions_amount_positive'), 'amount_eur IS NULL OR amount_eur > 0'
        )
        batch_op.create_check_constraint(
            op.f('ck_decisions_amount_only_when_funded'),
            "amount_eur IS NULL OR outcome = 'funded'",
        )


def downgrade():
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_decisions_amount_only_when_funded'), type_='check')
        batch_op.drop_constraint(op.f('ck_decisions_amount_positive'), type_='check')
        batch_op.drop_column('amount_eur')
