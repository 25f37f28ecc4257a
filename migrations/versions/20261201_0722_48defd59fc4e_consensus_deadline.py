"""calls: the rapporteurs' due date for their consensus reports

``calls.consensus_deadline`` (issue 13): consensus reports not final by then are marked
overdue, and the coordinator reminds their rapporteurs. Empty: no due date.

Revision ID: 48defd59fc4e
Revises: de4ec4e581b4
Create Date: 2026-12-01 07:22:39.354623

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '48defd59fc4e'
down_revision = 'de4ec4e581b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consensus_deadline', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('consensus_deadline')

