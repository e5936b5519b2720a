"""Hash chains for append-only event tables (case events, claim events).

Each row's hash covers its canonical contents and the previous row's hash within the same
owner (a case, a claim): a global chain would serialise every write, a per-owner chain still
makes any edit or deletion detectable.
"""

import hashlib
import json

from sqlalchemy import select

from complaints.extensions import db

GENESIS_HASH = "0" * 64


def canonical_digest(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def next_link(model, owner_column, owner_id: int) -> tuple[int, str]:
    """The sequence number and previous hash for the owner's next event. The table's unique
    (owner, seq) makes two writers racing for the same link fail instead of forking."""
    last = db.session.execute(
        select(model.seq, model.hash)
        .where(owner_column == owner_id)
        .order_by(model.seq.desc())
        .limit(1)
    ).first()
    return (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)


def append_chained(event, owner_column, owner_id: int, digest, *, first: bool = False):
    """Link `event` after the owner's last one, seal it with `digest`, and flush.

    `first` for an owner created in this transaction: there is nothing to look up.
    """
    event.seq, event.prev_hash = (
        (1, GENESIS_HASH) if first else next_link(type(event), owner_column, owner_id)
    )
    event.hash = digest(event)
    db.session.add(event)
    db.session.flush()
    return event
