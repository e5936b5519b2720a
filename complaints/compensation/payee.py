"""Where an advance payment goes: an Alipay or WeChat Pay account, or a bank account, each
with the holder's name. Validated when the tourist asks; shown in full only on the fund's
payout screen (the fund manager makes the transfer) and masked everywhere else."""

import re
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class PayeeMethod(StrEnum):
    ALIPAY = "alipay"
    WECHAT = "wechat"
    BANK = "bank"


METHOD_LABELS = {
    PayeeMethod.ALIPAY: _l("Alipay"),
    PayeeMethod.WECHAT: _l("WeChat Pay"),
    PayeeMethod.BANK: _l("Bank account"),
}

CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
WECHAT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")  # WeChat's own rule for IDs
BANK_DIGITS = re.compile(r"^\d{12,30}$")


class PayeeInvalid(ValueError):
    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field  # "payee_method", "payee_account" or "payee_name"
        self.message = message


@dataclass(frozen=True)
class Payee:
    method: PayeeMethod
    account: str
    name: str


def parse_payee(method: str | None, account: str | None, name: str | None) -> Payee:
    """Normalise and check the three fields; raises PayeeInvalid naming the field."""
    try:
        chosen = PayeeMethod(method or "")
    except ValueError:
        raise PayeeInvalid(
            "payee_method",
            _l("Choose how you want to be paid: Alipay, WeChat Pay or a bank account."),
        ) from None
    account = "".join((account or "").split())
    if chosen is PayeeMethod.BANK:
        account = account.replace("-", "")
        if not BANK_DIGITS.match(account):
            raise PayeeInvalid(
                "payee_account", _l("Enter the bank account or card number: 12 to 30 digits.")
            )
    elif chosen is PayeeMethod.ALIPAY:
        if not (CN_MOBILE.match(account.removeprefix("+86")) or EMAIL.match(account)):
            raise PayeeInvalid(
                "payee_account",
                _l("Enter the Alipay account: the mobile number or e-mail address it uses."),
            )
        account = account.removeprefix("+86")
    elif not (WECHAT_ID.match(account) or CN_MOBILE.match(account.removeprefix("+86"))):
        raise PayeeInvalid(
            "payee_account",
            _l(
                "Enter the WeChat ID (6 to 20 letters, digits, - or _, starting with a letter) or the mobile number linked to WeChat Pay."
            ),
        )
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 64:
        raise PayeeInvalid(
            "payee_name", _l("Enter the account holder's full name, as the account shows it.")
        )
    return Payee(chosen, account[:64], name)


def mask_account(account: str | None) -> str:
    """The last four characters only; a mobile number keeps its first three as well."""
    if not account:
        return ""
    if "@" in account:
        local, _, domain = account.partition("@")
        return f"{local[:1]}***@{domain}"
    if CN_MOBILE.match(account):
        return f"{account[:3]}****{account[-4:]}"
    return "****" + account[-4:] if len(account) > 4 else "*" * len(account)


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    return name[0] + "*" * min(len(name) - 1, 6)


def masked_payee(claim) -> str:
    """E.g. "Alipay 138****5678 (张*)"; "" when no payee was given."""
    if not claim.payee_method:
        return ""
    label = METHOD_LABELS[PayeeMethod(claim.payee_method)]
    return f"{label} {mask_account(claim.payee_account)} ({mask_name(claim.payee_name)})"
