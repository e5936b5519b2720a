"""E-mails to staff that carry a one-time link (sign-in unlock, staff invitation).

An outbox job that takes the account id and the purpose and signs the link when it sends,
so no link ever sits in the database; a transient failure raises and the relay retries.
"""

import logging

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from complaints.accounts.models import Account
from complaints.extensions import db
from complaints.outbox.services import add_outbox_message
from notifications.base import OutgoingMessage

log = logging.getLogger(__name__)

SEND_JOB = "complaints.accounts.mail.send_account_link"
PURPOSES = ("unlock", "invite")


def _link_builder(purpose: str):
    """(endpoint, token function) of a purpose; imported here, where the link is made."""
    if purpose == "unlock":
        from complaints.accounts.unlock import unlock_token

        return "accounts.unlock", unlock_token
    from complaints.portal.staff import invite_token

    return "portal.public.accept_invite", invite_token


def queue_account_link(account: Account, purpose: str) -> None:
    """Flushes an outbox row; the request commits and relays."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown account link {purpose!r}")
    add_outbox_message(SEND_JOB, account.id, purpose)


def send_account_link(account_id: int, purpose: str) -> None:
    from complaints.notices.jobs import channel_for

    account = db.session.get(Account, account_id)
    if account is None:
        return
    endpoint, token_for = _link_builder(purpose)
    token = token_for(account, current_app.config["SECRET_KEY"])
    # Built from the URL map: a job has no request for url_for to work in.
    path = current_app.url_map.bind("anxin").build(endpoint, {"token": token})
    link = current_app.config["PUBLIC_BASE_URL"] + path
    with force_locale(account.language or "zh"):
        subject, body = _texts(purpose, account, link)
    channel = channel_for("email")
    try:
        channel.send(OutgoingMessage(channel="email", to=account.email, subject=subject, body=body))
    finally:
        close = getattr(channel, "close", None)
        if close is not None:
            close()
    log.info("account link %s sent to account %s", purpose, account_id)


def _texts(purpose: str, account: Account, link: str) -> tuple[str, str]:
    if purpose == "unlock":
        return _("Anxin: unlock signing in"), _(
            "Someone (perhaps you) failed to sign in to Anxin as %(email)s several times, so "
            "signing in from that place now waits. If it was you, open this link within an hour "
            "to end the wait:\n%(link)s\nIf it was not you, ignore this email: your password "
            "still protects the account.",
            email=account.email,
            link=link,
        )
    return _("Anxin: you are invited to the merchant portal"), _(
        "You were invited to answer complaints for %(merchant)s on Anxin. Open this link "
        "within 24 hours to confirm this email address and choose your password:\n%(link)s\n"
        "If you do not expect this, ignore this email.",
        merchant=account.enterprise.name_zh if account.enterprise else "",
        link=link,
    )
