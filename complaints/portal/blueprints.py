"""The portal's blueprints: one parent registered by the app, two children with their gates.

`merchant` (under /merchant) lets in only signed-in merchant staff; `public` holds what
people without an account use: the tourist's answers on the tracking page and the staff
invitation link. Keeping them apart means no merchant route can be added without the gate.
"""

from flask import Blueprint, abort, current_app
from flask_login import current_user

from complaints.accounts.models import AccountRole

MERCHANT_ROLES = frozenset({AccountRole.MERCHANT_OWNER, AccountRole.MERCHANT_STAFF})

bp = Blueprint("portal", __name__)
merchant_bp = Blueprint("merchant", __name__, url_prefix="/merchant")
public_bp = Blueprint("public", __name__)


@merchant_bp.before_request
def _merchants_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role not in MERCHANT_ROLES or current_user.enterprise_id is None:
        abort(403)
    return None


def owner_only() -> None:
    if current_user.role is not AccountRole.MERCHANT_OWNER:
        abort(403)
