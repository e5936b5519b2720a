"""What a key reaches: the pages' own scoped lookups, called with the key's principal.

A regulator key reaches its agency's cases through `console.queries.case_for_regulator`, a
merchant key its enterprise's through `portal.queries.case_for_merchant`; both answer 404 for
anything else, so a guessed number reveals nothing. Partner keys hold no cases here.
"""

from flask_babel import gettext as _
from flask_smorest import abort

from complaints.api.auth import current_principal
from complaints.cases.models import Case
from complaints.console.queries import case_for_regulator
from complaints.portal.queries import case_for_merchant


def is_regulator() -> bool:
    principal = current_principal()
    return principal.agency_id is not None


def is_merchant() -> bool:
    return current_principal().enterprise_id is not None


def require_tenant() -> None:
    if not (is_regulator() or is_merchant()):
        abort(403, message=_("Partner keys file and follow complaints through Open311."))


def case_in_scope(number: str) -> Case:
    require_tenant()
    principal = current_principal()
    if is_regulator():
        return case_for_regulator(number, principal)
    return case_for_merchant(number, principal)
