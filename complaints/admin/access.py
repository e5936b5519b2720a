"""Who may administer what: the one place the admin screens ask.

Admins administer the whole installation; other regulators see (read-only) the enterprises
and outlets of their agency's area; merchant owners edit only their own enterprise's outlets.
"""

from complaints.accounts.models import Account, AccountRole
from complaints.admin.posters import division_and_below


def is_admin(account: Account) -> bool:
    return account.is_authenticated and account.role is AccountRole.ADMIN


def may_view_registry(account: Account) -> bool:
    return account.is_authenticated and account.role.is_regulator and account.agency_id is not None


def area_of(account: Account) -> frozenset[str] | None:
    """The division codes whose outlets ``account`` may see; None means every division."""
    if is_admin(account):
        return None
    return frozenset(division_and_below(account.agency.division_code))


def may_edit_outlet(account: Account, enterprise_id: int) -> bool:
    if is_admin(account):
        return True
    return account.role is AccountRole.MERCHANT_OWNER and account.enterprise_id == enterprise_id
