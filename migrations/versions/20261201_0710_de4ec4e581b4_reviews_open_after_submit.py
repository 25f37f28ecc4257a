"""calls: may an expert read the other reviews after submitting their own

``calls.reviews_open_after_submit`` (issue 13): on, an expert who has submitted a review of a
proposal reads the panel's other submitted reviews of it. Existing calls keep each review to
its author (false; the server default only fills them, then goes).

Revision ID: de4ec4e581b4
Revises: 287ecacb4afb
Create Date: 2026-12-01 07:10:39.026806

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'de4ec4e581b4'
down_revision = '287ecacb4afb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'reviews_open_after_submit', sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.alter_column('reviews_open_after_submit', server_default=None)


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('reviews_open_after_submit')
