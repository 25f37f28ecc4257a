"""score parts: the texts of a criterion's several comment boxes, kept apart

Issue 13, point 1: a scheme may give a criterion several comment fields (strengths and
weaknesses). ``scores.parts`` keeps each box's text by field key so the expert's form shows
them again; ``scores.comment`` keeps holding the composed text every other reader uses.
Existing scores have none (NULL).

Revision ID: d5077ad7b14d
Revises: 836cf805d8d2
Create Date: 2026-12-01 09:39:49.993938

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5077ad7b14d'
down_revision = '836cf805d8d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parts', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('parts')

