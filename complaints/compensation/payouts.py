"""Payout providers: how money actually reaches the tourist.

A provider is called with an idempotency key (one per claim), outside any database lock,
after the amount has been reserved in the ledger. Real payment APIs (bank, Alipay, WeChat Pay)
take such a key (Alipay's `out_biz_no`, for instance), so a retried job that calls again gets
the same transfer back instead of a second one; every backend here must behave the same way.

- `manual`: a fund manager makes the bank transfer and types its reference into the console;
  the job then records it. Until then the claim waits (`PayoutPending`).
- `simulated`: answers at once with a reference derived from the key; for the demo and tests,
  refused in production.

Choose with the `PAYOUT_BACKEND` setting (default: manual in production, simulated otherwise).
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flask import current_app


@dataclass(frozen=True)
class PayoutInstruction:
    idempotency_key: str
    amount_fen: int
    payee_name: str
    payee_phone: str
    memo: str
    # What a person entered for a transfer made outside the system (manual backend only).
    entered_reference: str | None = None


class PayoutPending(Exception):
    """No transfer reference yet; the claim stays approved and the job may run again."""


class PayoutFailed(Exception):
    """The provider refused for good (e.g. the payee account is wrong)."""


class PayoutProvider(Protocol):
    name: str

    def send(self, instruction: PayoutInstruction) -> str:
        """The transfer reference; idempotent on `instruction.idempotency_key`."""
        ...


class ManualBankTransfer:
    name = "manual"

    def send(self, instruction: PayoutInstruction) -> str:
        reference = (instruction.entered_reference or "").strip()
        if not reference:
            raise PayoutPending("waiting for a fund manager to enter the bank transfer reference")
        return reference


class SimulatedTransfer:
    name = "simulated"

    def send(self, instruction: PayoutInstruction) -> str:
        if current_app.config.get("ANXIN_ENV") == "production":
            raise PayoutFailed("the simulated payout backend never pays in production")
        digest = hashlib.sha256(instruction.idempotency_key.encode()).hexdigest()[:16]
        return f"SIM-{digest.upper()}"


# name -> factory; a real payment API registers itself here.
PROVIDERS: dict[str, Callable[[], PayoutProvider]] = {
    "manual": ManualBankTransfer,
    "simulated": SimulatedTransfer,
}


def configured_provider() -> PayoutProvider:
    default = "manual" if current_app.config.get("ANXIN_ENV") == "production" else "simulated"
    name = current_app.config.get("PAYOUT_BACKEND") or default
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise RuntimeError(
            f"PAYOUT_BACKEND={name!r} is unknown; use one of {', '.join(PROVIDERS)}"
        ) from None
