"""Regulator staff: an admin invites by e-mail, sets role and agency, disables and re-enables.

The invitation reuses the merchant one (complaints.portal.staff): an account without a usable
password and a signed, timed link that works once. The e-mail goes through the outbox, so it
is sent after the commit and retried like every other message.
"""

import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.accounts import totp
from complaints.accounts.models import Account, AccountRole
from complaints.accounts.services import account_by_email, disable_account, normalise_email
from complaints.admin.audit import Actor, changed_fields, record_change
from complaints.admin.registry import RegistryError
from complaints.agencies.models import Agency
from complaints.extensions import db
from complaints.notices.rendering import render_message
from complaints.outbox.services import add_outbox_message
from complaints.portal.staff import (
    INVITE_MAX_AGE,
    UNSET_PASSWORD_PREFIX,
    awaiting_password,
    invite_token,
)
from notifications.base import OutgoingMessage

REGULATOR_ROLES = (
    AccountRole.HANDLER,
    AccountRole.SUPERVISOR,
    AccountRole.FUND_MANAGER,
    AccountRole.ADMIN,
)
SEND_INVITATION_JOB = "complaints.admin.staff.send_invitation"


def _snapshot(account: Account) -> dict:
    return {
        "email": account.email,
        "name": account.name,
        "role": account.role.value,
        "agency": account.agency.slug if account.agency else None,
        "active": account.active,
    }


def invite_regulator(
    email: str, name: str, role: AccountRole, agency: Agency, actor: Actor, reason: str
) -> Account:
    email = normalise_email(email)
    if role not in REGULATOR_ROLES:
        raise RegistryError("role", _l("Choose a regulator role."))
    if account_by_email(email) is not None:
        raise RegistryError("email", _l("An account with this email already exists."))
    account = Account(
        email=email,
        name=name.strip() or email,
        role=role,
        agency_id=agency.id,
        password_hash=UNSET_PASSWORD_PREFIX + secrets.token_hex(16),
    )
    db.session.add(account)
    db.session.flush()
    db.session.refresh(account, ["agency"])
    record_change(
        actor, "account", email, "invite", before=None, after=_snapshot(account), reason=reason
    )
    add_outbox_message(SEND_INVITATION_JOB, account.id)
    return account


def change_role(
    account: Account, role: AccountRole, agency: Agency, actor: Actor, reason: str
) -> bool:
    if role not in REGULATOR_ROLES or account.enterprise_id is not None:
        raise RegistryError("role", _l("Choose a regulator role."))
    old = _snapshot(account)
    account.role, account.agency_id = role, agency.id
    db.session.flush()
    db.session.refresh(account, ["agency"])
    before, after = changed_fields(old, _snapshot(account))
    if not after:
        return False
    record_change(
        actor, "account", account.email, "update", before=before, after=after, reason=reason
    )
    return True


def set_active(account: Account, active: bool, actor: Actor, reason: str) -> None:
    if account.active == active:
        return
    if not active and actor.account_id == account.id:
        raise RegistryError("reason", _l("You cannot disable your own account."))
    if active:
        account.active = True
        db.session.flush()
    else:
        disable_account(account)  # its sessions end at once, copied cookies included
    record_change(
        actor,
        "account",
        account.email,
        "enable" if active else "disable",
        before={"active": not active},
        after={"active": active},
        reason=reason,
    )


def reset_two_factor(account: Account, actor: Actor, reason: str) -> bool:
    """After a lost phone with no recovery code left: the account sets two-factor sign-in up
    again at its next sign-in (where its role requires it) or signs in with the password."""
    if not totp.is_enrolled(account):
        return False
    totp.remove(account)
    record_change(
        actor,
        "account",
        account.email,
        "reset_two_factor",
        before={"two_factor": True},
        after={"two_factor": False},
        reason=reason,
    )
    return True


def regulator_accounts() -> list[Account]:
    return list(
        db.session.scalars(
            select(Account)
            .where(Account.agency_id.is_not(None))
            .order_by(Account.agency_id, Account.email)
        )
    )


def invitation_url(account: Account) -> str:
    token = invite_token(account, current_app.config["SECRET_KEY"])
    return f"{current_app.config['PUBLIC_BASE_URL']}/staff/invite/{token}"


def send_invitation(account_id: int) -> None:
    """The outbox job: e-mail the one-time link (nothing if the password is already set)."""
    from complaints.notices.jobs import channel_for

    account = db.session.get(Account, account_id)
    if account is None or not account.active or not awaiting_password(account):
        return
    rendered = render_message(
        "notices/staff/invitation.email.txt",
        "email",
        account.language,
        account=account,
        url=invitation_url(account),
        hours=INVITE_MAX_AGE // 3600,
    )
    channel_for("email").send(
        OutgoingMessage(
            channel="email", to=account.email, body=rendered.body, subject=rendered.subject
        )
    )
