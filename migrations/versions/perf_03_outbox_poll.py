"""outbox: no NOTIFY at the commit of every transaction that writes outbox rows

Revision ID: perf_03
Revises: perf_02
Create Date: 2026-12-06 03:10:00

A statement trigger sent `NOTIFY anxin_outbox` so the worker's relay woke at each commit. A
transaction that notifies takes a database-wide lock at commit and holds it through its WAL
flush, so every filing's commit waited for the one before (no group commit). `make bench-db`
replayed a filing's SQL: 1,228 filings/s of PostgreSQL alone with the trigger, 1,590 without,
and 0.15 ms less server CPU per filing. The relay polls every OUTBOX_POLL_SECONDS instead.
"""

from alembic import op

revision = "perf_03"
down_revision = "perf_02"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_messages_notify ON outbox_messages")
        op.execute("DROP FUNCTION IF EXISTS anxin_outbox_notify()")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION anxin_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_notify('anxin_outbox', ''); RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER outbox_messages_notify AFTER INSERT ON outbox_messages"
            " FOR EACH STATEMENT EXECUTE FUNCTION anxin_outbox_notify()"
        )
