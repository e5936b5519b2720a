"""tourist journey: evidence notes and events, extra tracking links, code purpose, payee account

Revision ID: tourist_01
Revises: dfa128e11d9c
Create Date: 2026-12-04 17:10:00

"""
from alembic import op
import sqlalchemy as sa

import complaints.database


# revision identifiers, used by Alembic.
revision = 'tourist_01'
down_revision = "regulator_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_tracking_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', complaints.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_tracking_keys_case_id_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_tracking_keys')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_case_tracking_keys_key_hash')),
    )
    with op.batch_alter_table('case_tracking_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_tracking_keys_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.String(length=255), server_default='', nullable=False))
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_evidence_event_id_case_events'), 'case_events', ['event_id'], ['id'])

    with op.batch_alter_table('phone_verifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='confirm', nullable=False))

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payee_method', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('payee_account', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('payee_name', sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_column('payee_name')
        batch_op.drop_column('payee_account')
        batch_op.drop_column('payee_method')

    with op.batch_alter_table('phone_verifications', schema=None) as batch_op:
        batch_op.drop_column('purpose')

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_evidence_event_id_case_events'), type_='foreignkey')
        batch_op.drop_column('event_id')
        batch_op.drop_column('note')

    with op.batch_alter_table('case_tracking_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_tracking_keys_case_id'))

    op.drop_table('case_tracking_keys')
