"""/api/v1/enterprises and /outlets: the registry, codes, grade and credit events.

The registry (names, USCC, outlets, grade) is public: the scan page shows it to anyone. Credit
events, with the case each came from, go only to regulator keys and the merchant's own keys.
"""

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE
from sqlalchemy import or_, select

from complaints.api import paging
from complaints.api.auth import current_principal, requires
from complaints.api.schemas import EnterpriseListQuery, EnterpriseOut, EnterprisePageOut, OutletOut
from complaints.apikeys.models import Scope
from complaints.cases.models import Case
from complaints.credit.models import CreditEvent, MerchantScore
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Enterprise, Outlet
from complaints.merchants.services import enterprise_by_uscc, outlet_by_code, scan_url

blp = Blueprint(
    "api_merchants", __name__, url_prefix="", description="Enterprises, outlets and credit"
)


def _ref(enterprise: Enterprise) -> dict:
    return {"uscc": enterprise.uscc, "name_zh": enterprise.name_zh, "name_en": enterprise.name_en}


def outlet_dict(outlet: Outlet) -> dict:
    return {
        "code": outlet.code,
        "name_zh": outlet.name_zh,
        "name_en": outlet.name_en,
        "category": str(outlet.category),
        "division_code": outlet.division_code,
        "address": outlet.address,
        "scan_url": scan_url(outlet),
    }


def _sees_credit_events(enterprise: Enterprise) -> bool:
    principal = current_principal()
    return principal.agency_id is not None or principal.enterprise_id == enterprise.id


@blp.route("/enterprises")
class EnterpriseList(MethodView):
    @requires(Scope.CREDIT_READ)
    @blp.arguments(EnterpriseListQuery, location="query", unknown=RAISE)
    @blp.response(200, EnterprisePageOut)
    def get(self, args):
        """The registry by USCC, optionally searched by name."""
        stmt = select(Enterprise).order_by(Enterprise.id).limit(args["limit"] + 1)
        if current_principal().enterprise_id is not None:
            stmt = stmt.where(Enterprise.id == current_principal().enterprise_id)
        if args.get("q"):
            stmt = stmt.where(
                or_(
                    Enterprise.name_zh.icontains(args["q"], autoescape=True),
                    Enterprise.name_en.icontains(args["q"], autoescape=True),
                    Enterprise.uscc == args["q"].upper(),
                )
            )
        after = paging.last_id("enterprises", args.get("after"))
        if after is not None:
            stmt = stmt.where(Enterprise.id > after)
        rows = list(db.session.scalars(stmt))
        rows, cursor = paging.trim("enterprises", rows, args["limit"])
        return paging.page([_ref(e) for e in rows], cursor)


@blp.route("/enterprises/<uscc>")
class EnterpriseItem(MethodView):
    @requires(Scope.CREDIT_READ)
    @blp.response(200, EnterpriseOut)
    def get(self, uscc):
        """One enterprise: outlets with their codes, grade, and (to those entitled) credit events."""
        enterprise = enterprise_by_uscc(uscc.upper()) or abort(404)
        principal = current_principal()
        if principal.enterprise_id is not None and principal.enterprise_id != enterprise.id:
            abort(404)
        score = db.session.get(MerchantScore, enterprise.id)
        body = _ref(enterprise) | {
            "division_code": enterprise.division_code,
            "trusted": enterprise.trusted,
            "standing": {
                "score": score.score if score else None,
                "grade": score.grade if score else None,
                "trusted": enterprise.trusted,
                "serious_list_since": score.serious_list_since if score else None,
            },
            "outlets": [outlet_dict(o) for o in sorted(enterprise.outlets, key=lambda o: o.id)],
            "credit_events": [],
        }
        if _sees_credit_events(enterprise):
            rows = db.session.execute(
                select(CreditEvent, Case.number)
                .outerjoin(Case, Case.id == CreditEvent.case_id)
                .where(CreditEvent.enterprise_id == enterprise.id)
                .order_by(CreditEvent.occurred_at, CreditEvent.id)
            )
            now = utcnow()
            body["credit_events"] = [
                {
                    "id": event.id,
                    "kind": str(event.kind),
                    "points": event.points,
                    "reason": event.reason,
                    "case_number": number,
                    "occurred_at": event.occurred_at,
                    "expires_at": event.expires_at,
                }
                for event, number in rows
                if event.expires_at > now or principal.agency_id is not None
            ]
        return body


@blp.route("/outlets/<code>")
class OutletItem(MethodView):
    @requires(Scope.CREDIT_READ)
    @blp.response(200, OutletOut)
    def get(self, code):
        """One outlet by the code printed under its QR."""
        outlet = outlet_by_code(code) or abort(404)
        principal = current_principal()
        if principal.enterprise_id is not None and principal.enterprise_id != outlet.enterprise_id:
            abort(404)
        return outlet_dict(outlet)
