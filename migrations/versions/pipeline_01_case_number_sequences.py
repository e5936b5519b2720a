"""pipeline: case number sequences, outbox NOTIFY trigger and job ids, send attempts

Revision ID: pipeline_01
Revises: dfa128e11d9c
Create Date: 2026-12-04 17:05:00

A filing draws its number with nextval() inside its own INSERT: no second transaction and no
counter row locked by every filing of a city until commit. The function creates the day's
sequence on first use; a filing racing to create the same one waits for the first to commit
and then uses it. A day already counted in case_number_sequences (a release during the day)
continues from that count. SQLite keeps the counter table (single writer anyway).
"""
from alembic import op
import sqlalchemy as sa

import complaints.database


revision = 'pipeline_01'
down_revision = 'dfa128e11d9c'
branch_labels = None
depends_on = None

NEXT_CASE_NUMBER = r"""
CREATE OR REPLACE FUNCTION anxin_next_case_number(prefix text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    sequence_name text := 'case_no_' || replace(prefix, '-', '_');
    counted bigint;
BEGIN
    -- The common path: the day's sequence exists (no subtransaction, no lock).
    IF to_regclass(quote_ident(sequence_name)) IS NULL THEN
        SELECT last_value INTO counted FROM case_number_sequences AS s WHERE s.prefix = $1;
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I START WITH %s',
                           sequence_name, coalesce(counted, 0) + 1);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;  -- another filing created it at the same moment and has committed
        END;
    END IF;
    RETURN nextval(quote_ident(sequence_name));
END
$$;
"""


# The worker's relay listens: one notification per committed INSERT statement, sent by the
# server at commit, so a filing wakes the relay without a statement of its own.
OUTBOX_NOTIFY = r"""
CREATE OR REPLACE FUNCTION anxin_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('anxin_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_messages_notify AFTER INSERT ON outbox_messages
    FOR EACH STATEMENT EXECUTE FUNCTION anxin_outbox_notify();
"""


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relay_job_id', sa.String(length=128), nullable=True))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt_started_at', complaints.database.UTCDateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NEXT_CASE_NUMBER)
        op.execute(OUTBOX_NOTIFY)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('attempt_started_at')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('relay_job_id')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_messages_notify ON outbox_messages")
        op.execute("DROP FUNCTION IF EXISTS anxin_outbox_notify()")
        op.execute("DROP FUNCTION IF EXISTS anxin_next_case_number(text)")
