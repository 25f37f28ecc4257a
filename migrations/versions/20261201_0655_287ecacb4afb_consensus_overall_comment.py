"""consensus: an overall comment for the applicant

``consensus_reports.overall_comment`` is the panel's overall view of the proposal, written for
the applicant (it opens their evaluation summary); ``consensus_versions.overall_comment`` keeps
it with each saved version. Reports and versions that exist get an empty comment (the server
default only fills them, then goes, as the model has none).

Revision ID: 287ecacb4afb
Revises: 5894a36bafc2
Create Date: 2026-12-01 06:55:38.014512

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '287ecacb4afb'
down_revision = '5894a36bafc2'
branch_labels = None
depends_on = None


def upgrade():
    # Two steps per table: on SQLite the second one copies the table, with the rows filled by
    # the first.
    for table in ('consensus_reports', 'consensus_versions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('overall_comment', sa.Text(), nullable=False, server_default='')
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('overall_comment', server_default=None)


def downgrade():
    for table in ('consensus_versions', 'consensus_reports'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('overall_comment')
