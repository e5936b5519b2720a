"""The double-entry ledger: the only way money moves.

`post` writes one balanced transaction and moves the cached balances with conditional UPDATEs
in the caller's database transaction (TECH-NOTES "Money under concurrency"):

- the transaction row goes in first; its unique idempotency key makes a duplicate (a retried
  or concurrent job) fail before any balance moves — on PostgreSQL the second writer waits
  for the first to commit and then fails;
- balances move in ascending account id order (one fixed lock order: no deadlocks);
- a leg that would push an account past zero matches no row (`WHERE balance_fen >= :amt`)
  and raises `InsufficientBalance`; the CHECK constraint is the last line behind it.

On any `LedgerError` the caller must roll back: earlier legs may already have moved.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from complaints.compensation.models import (
    ASSET_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from complaints.extensions import db
from workflows.states import Role


class LedgerError(Exception):
    """Nothing may be written; roll back the database transaction."""


class UnbalancedTransaction(LedgerError):
    pass


class InsufficientBalance(LedgerError):
    def __init__(self, account: LedgerAccount, amount_fen: int) -> None:
        super().__init__(f"account {account.key} cannot move {amount_fen} fen")
        self.account = account
        self.amount_fen = amount_fen


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount_fen: int  # debit positive, credit negative


def account_key(kind: AccountKind, fund_id: int | None, enterprise_id: int | None) -> str:
    parts = [kind.value]
    if fund_id is not None:
        parts.append(f"f{fund_id}")
    if enterprise_id is not None:
        parts.append(f"e{enterprise_id}")
    return ":".join(parts)


def account(
    kind: AccountKind, *, fund_id: int | None = None, enterprise_id: int | None = None
) -> LedgerAccount:
    """The account for an owner, created on first use.

    INSERT ... ON CONFLICT DO NOTHING (both dialects) so two first payouts for one merchant
    never collide on creating its receivable.
    """
    key = account_key(kind, fund_id, enterprise_id)
    found = db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))
    if found is not None:
        return found
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    values = {
        "key": key,
        "kind": kind,
        "fund_id": fund_id,
        "enterprise_id": enterprise_id,
        "balance_fen": 0,
    }
    db.session.execute(
        dialect.insert(LedgerAccount)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))


def find_account(
    kind: AccountKind, *, fund_id: int | None = None, enterprise_id: int | None = None
) -> LedgerAccount | None:
    key = account_key(kind, fund_id, enterprise_id)
    return db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))


def balance_of(
    kind: AccountKind, *, fund_id: int | None = None, enterprise_id: int | None = None
) -> int:
    found = find_account(kind, fund_id=fund_id, enterprise_id=enterprise_id)
    return found.balance_fen if found else 0


def transaction_exists(idempotency_key: str) -> bool:
    found = db.session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == idempotency_key)
    )
    return found is not None


def post(
    kind: TransactionKind,
    idempotency_key: str,
    legs: Iterable[Leg],
    *,
    actor_role: Role,
    actor_id: str | None,
    now: datetime,
    case_id: int | None = None,
    claim_id: int | None = None,
    memo: str = "",
) -> LedgerTransaction:
    """Write one balanced transaction. Flushes; raises IntegrityError on a reused key."""
    legs = list(legs)
    if len(legs) < 2 or sum(leg.amount_fen for leg in legs) != 0:
        raise UnbalancedTransaction(f"{kind}: legs must be two or more and sum to zero")
    if any(leg.amount_fen == 0 for leg in legs):
        raise UnbalancedTransaction(f"{kind}: a leg of zero fen")
    transaction = LedgerTransaction(
        idempotency_key=idempotency_key,
        kind=kind,
        case_id=case_id,
        claim_id=claim_id,
        actor_role=actor_role,
        actor_id=actor_id,
        memo=memo,
        created_at=now,
    )
    db.session.add(transaction)
    db.session.flush()
    for leg in sorted(legs, key=lambda leg: leg.account.id):
        _move(leg.account, leg.amount_fen)
        db.session.add(
            LedgerEntry(
                transaction_id=transaction.id,
                account_id=leg.account.id,
                amount_fen=leg.amount_fen,
            )
        )
    db.session.flush()
    return transaction


def _move(target: LedgerAccount, amount_fen: int) -> None:
    """Compare-and-set on the balance: the condition is evaluated on the locked, current row."""
    stmt = update(LedgerAccount).where(LedgerAccount.id == target.id)
    if target.kind in ASSET_KINDS and amount_fen < 0:
        stmt = stmt.where(LedgerAccount.balance_fen >= -amount_fen)
    elif target.kind not in ASSET_KINDS and amount_fen > 0:
        stmt = stmt.where(LedgerAccount.balance_fen <= -amount_fen)
    moved = db.session.execute(
        stmt.values(balance_fen=LedgerAccount.balance_fen + amount_fen).execution_options(
            synchronize_session=False
        )
    ).rowcount
    db.session.expire(target, ["balance_fen"])
    if moved != 1:
        raise InsufficientBalance(target, amount_fen)


@dataclass(frozen=True)
class Problem:
    what: str

    def __str__(self) -> str:
        return self.what


def verify() -> Iterator[Problem]:
    """Recompute the ledger from its entries; yield every inconsistency found."""
    sums = (
        select(
            LedgerTransaction.id,
            LedgerTransaction.idempotency_key,
            func.coalesce(func.sum(LedgerEntry.amount_fen), 0),
            func.count(LedgerEntry.id),
        )
        .outerjoin(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id, LedgerTransaction.idempotency_key)
        .having(
            (func.coalesce(func.sum(LedgerEntry.amount_fen), 0) != 0)
            | (func.count(LedgerEntry.id) < 2)
        )
        .order_by(LedgerTransaction.id)
    )
    for tx_id, key, total, count in db.session.execute(sums):
        yield Problem(f"transaction {tx_id} ({key}): {count} entries summing to {total} fen")
    derived = (
        select(
            LedgerAccount.id,
            LedgerAccount.key,
            LedgerAccount.kind,
            LedgerAccount.balance_fen,
            func.coalesce(func.sum(LedgerEntry.amount_fen), 0).label("derived"),
        )
        .outerjoin(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .group_by(
            LedgerAccount.id, LedgerAccount.key, LedgerAccount.kind, LedgerAccount.balance_fen
        )
        .order_by(LedgerAccount.id)
    )
    for _id, key, kind, cached, from_entries in db.session.execute(derived):
        if cached != from_entries:
            yield Problem(f"account {key}: balance {cached} fen but entries sum to {from_entries}")
        wrong_side = from_entries < 0 if kind in ASSET_KINDS else from_entries > 0
        if wrong_side:
            yield Problem(f"account {key}: entries put it on the wrong side ({from_entries} fen)")
