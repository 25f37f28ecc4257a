"""report kind analytics: the decision analytics of a large call made as a background job

Issue 14, point 5: the analytics of a large call are computed by the report job machinery
(progress, kept until the data changes). ``report_jobs.kind`` is a portable enum, a VARCHAR with
the named CHECK ``ck_report_jobs_report_kind``: the check is made again with the new value
``analytics`` (on SQLite by copying the table, as batch mode does).

Revision ID: a7c3e9d4b1f2
Revises: d5077ad7b14d
Create Date: 2026-12-01 10:21:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c3e9d4b1f2'
down_revision = 'd5077ad7b14d'
branch_labels = None
depends_on = None

BEFORE = ('decision', 'feedback', 'feedback-zip', 'feedback-all')
AFTER = (*BEFORE, 'analytics')


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade():
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_jobs_report_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_report_jobs_report_kind'), _kinds(AFTER))


def downgrade():
    op.execute("DELETE FROM report_jobs WHERE kind = 'analytics'")
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_jobs_report_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_report_jobs_report_kind'), _kinds(BEFORE))
