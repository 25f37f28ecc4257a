"""discussion_messages: a discussion per proposal among its panel and the coordinators

Issue 13: during the consensus, the experts of a proposal, its rapporteur and the
coordinators discuss it in a thread of messages (audited, e-mailed to the panel, never in the
applicant's evaluation summary).

Revision ID: 2959bcc04c66
Revises: 48defd59fc4e
Create Date: 2026-12-01 07:29:42.571910

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2959bcc04c66'
down_revision = '48defd59fc4e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('discussion_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("text <> ''", name=op.f('ck_discussion_messages_text_not_empty')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_discussion_messages_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_discussion_messages_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discussion_messages'))
    )
    with op.batch_alter_table('discussion_messages', schema=None) as batch_op:
        batch_op.create_index('ix_discussion_messages_proposal_id_id', ['proposal_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('discussion_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_discussion_messages_proposal_id_id')

    op.drop_table('discussion_messages')
