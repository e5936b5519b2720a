"""Numbers that asked for no more text messages, and an insert that tolerates a twin.

Twilio itself blocks numbers that texted its English keywords (STOP, ...) and answers 21610 if
we try; keeping our own list lets us skip them before trying, honour 退订/TD (which Twilio does
not know), and show in the delivery log why a party was not told.
"""

import functools

from sqlalchemy import delete, event, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from complaints.database import bound_params, bound_values
from complaints.extensions import db
from complaints.notices.models import SmsOptOut

OPTED_OUT = "opted_out"  # Notification.error_code for a message we did not send because of it


def insert_unless_exists(table, values: dict) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None when a unique
    constraint already holds such a row. Atomic on both databases, and unlike catching
    IntegrityError it leaves the caller's transaction usable on PostgreSQL."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    )
    return db.session.execute(statement).scalar_one_or_none()


def insert_row_unless_exists(model, values: dict):
    """The same for an ORM model, returning the new row as a loaded instance (one statement:
    no SELECT after the INSERT), or None when such a row already exists."""
    statement = _row_insert(model, db.session.get_bind().dialect.name, tuple(values))
    return db.session.scalars(statement, bound_params(values)).one_or_none()


@functools.cache
def _row_insert(model, dialect_name: str, columns: tuple[str, ...]):
    """Built once per process and set of columns, and executed with parameters. A Core INSERT
    on the table whose RETURNING the ORM loads as instances: an ORM insert of the model ran
    SQLAlchemy's bulk insert machinery for its one row, and a filing's two notification rows
    were the worker's costliest statements (23% of its CPU in a profile of a rush; this form
    took 7.5% off the worker's CPU per filing, batches of both forms interleaved in one
    process). Core still applies the column defaults (created_at, status)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = model.__table__
    insert = (
        dialect.insert(table)
        .values(**bound_values(table, columns))
        .on_conflict_do_nothing()
        .returning(*table.c)
    )
    return select(model).from_statement(insert)


def _answers() -> dict[str, bool]:
    """Opt-out answers already read in this transaction (a filing texts one number twice)."""
    return db.session.info.setdefault("opted_out", {})


def is_opted_out(phone: str) -> bool:
    answers = _answers()
    if phone not in answers:
        answers[phone] = bool(db.session.scalar(select(exists().where(SmsOptOut.phone == phone))))
    return answers[phone]


def record_opt_out(phone: str, source: str) -> bool:
    """True when this is news (the number was not opted out before). Flushes only."""
    _answers().pop(phone, None)
    db.session.info.get("sms_facts", {}).pop(phone, None)
    return (
        insert_unless_exists(SmsOptOut.__table__, {"phone": phone, "source": source[:32]})
        is not None
    )


def remove_opt_out(phone: str) -> bool:
    _answers().pop(phone, None)
    db.session.info.get("sms_facts", {}).pop(phone, None)
    return bool(db.session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone)).rowcount)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_answers(session: Session) -> None:
    # Another transaction (an inbound STOP) may change them.
    session.info.pop("opted_out", None)
    session.info.pop("sms_facts", None)
