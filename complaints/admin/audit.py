"""Recording administrative changes (who, when, before, after, why) and reading them back."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from complaints.admin.models import AdminChange
from complaints.database import utcnow
from complaints.extensions import db


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a signed-in account, or a script run from the command line."""

    label: str
    account_id: int | None = None

    @classmethod
    def of(cls, account) -> "Actor":
        return cls(label=account.email, account_id=account.id)


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """The old and new values of only the fields that differ."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def change_row(
    actor: Actor,
    subject_type: str,
    subject_key: str,
    action: str,
    *,
    before: dict | None,
    after: dict | None,
    reason: str = "",
    at: datetime | None = None,
) -> dict:
    """A row for a bulk insert of AdminChange (imports write thousands at a time)."""
    return {
        "at": at or utcnow(),
        "actor": actor.label,
        "actor_account_id": actor.account_id,
        "subject_type": subject_type,
        "subject_key": subject_key,
        "action": action,
        "before": before,
        "after": after,
        "reason": reason,
    }


def record_change(actor: Actor, subject_type: str, subject_key: str, action: str, **fields):
    """Record one change. Flushes with the change it describes (same transaction)."""
    write_changes([change_row(actor, subject_type, subject_key, action, **fields)])


def write_changes(rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(AdminChange.__table__), rows)


@dataclass(frozen=True)
class ChangeFilter:
    subject_type: str = ""
    subject_key: str = ""
    actor: str = ""


def changes_page(filters: ChangeFilter, before_id: int | None, limit: int = 50):
    """Newest first, keyset-paged by id (the log grows by a row per imported line)."""
    statement = select(AdminChange).order_by(AdminChange.id.desc()).limit(limit + 1)
    if filters.subject_type:
        statement = statement.where(AdminChange.subject_type == filters.subject_type)
    if filters.subject_key:
        statement = statement.where(AdminChange.subject_key == filters.subject_key)
    if filters.actor:
        statement = statement.where(AdminChange.actor == filters.actor)
    if before_id:
        statement = statement.where(AdminChange.id < before_id)
    rows = list(db.session.scalars(statement))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)
