"""analytics: rollup indexes by agency and metric, so a year's charts read only their rows

Revision ID: analytics_01
Revises: tourist_01
Create Date: 2026-12-05 06:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'analytics_01'
down_revision = 'tourist_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_case_rollups_agency_metric_day', 'case_rollups', ['agency_id', 'metric', 'day'],
        postgresql_include=['category', 'division_code', 'n'],
    )
    op.create_index(
        'ix_case_rollups_metric_day', 'case_rollups', ['metric', 'day'],
        postgresql_include=['agency_id', 'category', 'division_code', 'n'],
    )
    op.create_index(
        'ix_stage_rollups_agency_day', 'stage_rollups', ['agency_id', 'day'],
        postgresql_include=['kind', 'bucket', 'n', 'within'],
    )


def downgrade():
    op.drop_index('ix_stage_rollups_agency_day', table_name='stage_rollups')
    op.drop_index('ix_case_rollups_metric_day', table_name='case_rollups')
    op.drop_index('ix_case_rollups_agency_metric_day', table_name='case_rollups')
