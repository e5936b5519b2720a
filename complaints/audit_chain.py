"""Hash chains for append-only event tables (case events, claim events): one mechanism.

Each row's hash covers its canonical contents and the previous row's hash within the same
owner (a case, a claim): a global chain would serialise every write, a per-owner chain still
makes any edit or deletion detectable. A table joins by mixing in `HashChained` and naming its
owner column (and any columns beyond the common ones that the hash covers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import ClassVar

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from complaints.extensions import db

GENESIS_HASH = "0" * 64


def canonical_digest(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class HashChained:
    """Declarative mixin: `seq`, `prev_hash`, `hash`, appending, and checking a chain.

    The model declares `trigger`, `from_state`, `to_state`, `actor_role`, `actor_id`,
    `reason`, `created_at` and its owner column; the table's unique (owner, seq) makes two
    writers racing for the same link fail instead of forking.
    """

    __chain_owner__: ClassVar[str]  # e.g. "case_id"
    __chain_extra__: ClassVar[tuple[str, ...]] = ()  # further columns the hash covers

    seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def chain_owner_id(self) -> int:
        return getattr(self, self.__chain_owner__)

    def digest(self) -> str:
        body = {
            self.__chain_owner__: self.chain_owner_id(),
            "seq": self.seq,
            "trigger": self.trigger,
            "from": self.from_state.value if self.from_state else None,
            "to": self.to_state.value,
            "role": self.actor_role.value,
            "actor": self.actor_id,
            "reason": self.reason,
            "at": self.created_at.isoformat(),
            "prev": self.prev_hash,
        }
        body.update({name: getattr(self, name) for name in self.__chain_extra__})
        return canonical_digest(body)

    def append(self, *, first: bool = False):
        """Link after the owner's last event, seal, add and flush.

        `first` for an owner created in this transaction: there is nothing to look up, and
        the row waits for the transaction's next flush (a filing writes its event, deadline
        and outbox rows in one flush instead of three).
        """
        cls = type(self)
        owner_column = getattr(cls, cls.__chain_owner__)
        last = (
            None
            if first
            else db.session.execute(
                select(cls.seq, cls.hash)
                .where(owner_column == self.chain_owner_id())
                .order_by(cls.seq.desc())
                .limit(1)
            ).first()
        )
        self.seq, self.prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
        self.hash = self.digest()
        db.session.add(self)
        if not first:
            db.session.flush()
        return self

    @staticmethod
    def first_break(chain: Iterable[HashChained]) -> tuple[int, str] | None:
        """(seq, problem) of the first bad link in one owner's events in seq order, or None."""
        expected_prev = GENESIS_HASH
        for expected_seq, event in enumerate(chain, start=1):
            if event.seq != expected_seq:
                return event.seq, f"expected event {expected_seq}"
            if event.prev_hash != expected_prev:
                return event.seq, "previous hash does not match"
            if event.digest() != event.hash:
                return event.seq, "contents changed after writing"
            expected_prev = event.hash
        return None
