"""Who may do what beyond the blueprint gates, in one place."""

from complaints.accounts.models import Account, AccountRole

# Credit repair lifts a merchant's grade, like an early removal from the serious list: a
# supervisor or admin decides (issue 11.10), and a repair of a serious event needs a second
# person, as payouts above a threshold do.
REPAIR_DECIDERS = frozenset({AccountRole.SUPERVISOR, AccountRole.ADMIN})
MERCHANT_ROLES = frozenset({AccountRole.MERCHANT_OWNER, AccountRole.MERCHANT_STAFF})


def may_print_outlet_codes(account, enterprise_id: int) -> bool:
    """Code images and posters carry the signed scan URL: after a rotation the new one must
    reach only the merchant's own staff and regulators, not anyone who knows the outlet code."""
    if account is None or not getattr(account, "is_authenticated", False):
        return False
    if account.role.is_regulator:
        return account.agency_id is not None
    return account.role in MERCHANT_ROLES and account.enterprise_id == enterprise_id


def may_decide_repair(account: Account) -> bool:
    return account.role in REPAIR_DECIDERS
