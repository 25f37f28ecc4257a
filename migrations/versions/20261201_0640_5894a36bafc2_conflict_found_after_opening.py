"""conflict_declarations: a conflict found after the proposal opened

An expert who declared no conflict may find one later (issue 13). The declaration then turns
into a conflict, and ``conflict_found_at`` says when; the review written meanwhile is kept but
no longer counts.

Revision ID: 5894a36bafc2
Revises: db27bb756698
Create Date: 2026-12-01 06:40:52.582940

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5894a36bafc2'
down_revision = 'db27bb756698'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conflict_found_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.drop_column('conflict_found_at')
