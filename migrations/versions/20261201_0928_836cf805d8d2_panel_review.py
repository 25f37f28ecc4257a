"""panel review: the panel's places in ex aequo groups, its comments and its report

Issue 13, point 3: a call may have a panel review inside the ranking phase. ``panel_entries``
holds, per proposal, the place the panel gave it inside its ex aequo group (with the reason,
required by a check) and the panel's comment; ``calls.panel_review`` switches the step on and
``calls.panel_report`` holds the panel's report. Existing calls get no panel (false, empty).

Revision ID: 836cf805d8d2
Revises: 2959bcc04c66
Create Date: 2026-12-01 09:28:26.573370

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '836cf805d8d2'
down_revision = '2959bcc04c66'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('panel_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('place', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("place IS NULL OR reason <> ''", name=op.f('ck_panel_entries_place_has_reason')),
    sa.CheckConstraint('place IS NULL OR place > 0', name=op.f('ck_panel_entries_place_positive')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_panel_entries_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_panel_entries_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_entries')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_panel_entries_proposal_id'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('panel_review', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('panel_report', sa.Text(), nullable=False, server_default=''))
    # The defaults only fill existing rows: the models set both on every new call.
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.alter_column('panel_review', server_default=None)
        batch_op.alter_column('panel_report', server_default=None)



def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('panel_report')
        batch_op.drop_column('panel_review')

    op.drop_table('panel_entries')
