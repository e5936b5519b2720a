"""Ending sign-in waits by an e-mailed link: proving the mailbox proves the owner.

The token names the account and lasts an hour; using it clears every client's wait for the
account (complaints.accounts.services.clear_throttles), so a stranger's guesses from the same
hotel network never keep the owner out for long.
"""

from itsdangerous import BadSignature, URLSafeTimedSerializer

from complaints.accounts.models import Account
from complaints.extensions import db

UNLOCK_MAX_AGE = 3600
UNLOCK_SALT = "sign-in-unlock"


def unlock_token(account: Account, secret_key: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=UNLOCK_SALT).dumps({"a": account.id})


def account_for_unlock(token: str, secret_key: str) -> Account | None:
    try:
        data = URLSafeTimedSerializer(secret_key, salt=UNLOCK_SALT).loads(
            token, max_age=UNLOCK_MAX_AGE
        )
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        return None
    return db.session.get(Account, data["a"])
