"""/api/v1/claims: advance-compensation claims of the key's city fund; fund-manager keys decide.

Scope is the fund console's: `compensation.queries.funds_for` (the agency's city or county
fund), and the compensation table decides which role may approve or reject.
"""

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import RAISE
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from complaints.api import paging
from complaints.api.auth import current_principal, requires
from complaints.api.schemas import ClaimDecisionIn, ClaimListQuery, ClaimOut, ClaimPageOut
from complaints.apikeys.models import Scope
from complaints.cases.models import Case
from complaints.cases.workflow import Actor
from complaints.compensation import queries, services
from complaints.compensation.models import Claim
from complaints.database import utcnow
from complaints.extensions import db
from complaints.outbox.services import after_commit
from workflows.machine import TransitionRefused

MAX_ID = 2**31 - 1  # larger path ids exist nowhere (and overflow SQLite's INTEGER)
blp = Blueprint("api_claims", __name__, url_prefix="/claims", description="Compensation claims")


def _fund_ids() -> set[int]:
    principal = current_principal()
    if principal.agency_id is None:
        abort(403, message=_("Only agency keys read compensation claims."))
    return {fund.id for fund in queries.funds_for(principal)}


def _claim_in_scope(claim_id: int) -> Claim:
    claim = db.session.get(Claim, claim_id) if claim_id <= MAX_ID else None
    if claim is None or claim.fund_id not in _fund_ids():
        abort(404)
    return claim


def claim_dict(claim: Claim) -> dict:
    role = current_principal().role.workflow_role
    return {
        "id": claim.id,
        "case_number": db.session.scalar(select(Case.number).where(Case.id == claim.case_id)),
        "state": str(claim.state),
        "amount_fen": claim.amount_fen,
        "requested_at": claim.requested_at,
        "approved_at": claim.approved_at,
        "paid_at": claim.paid_at,
        "payout_provider": claim.payout_provider,
        "payout_reference": claim.payout_reference,
        "decision_reason": claim.decision_reason,
        "available_triggers": [
            t.trigger for t in services.available_claim_actions(claim, role, utcnow())
        ],
    }


@blp.route("")
class ClaimList(MethodView):
    @requires(Scope.CASES_READ)
    @blp.arguments(ClaimListQuery, location="query", unknown=RAISE)
    @blp.response(200, ClaimPageOut)
    def get(self, args):
        """Claims on the key's city fund, newest first, with their payouts."""
        stmt = select(Claim).where(Claim.fund_id.in_(_fund_ids() or {-1}))
        if args.get("state"):
            stmt = stmt.where(Claim.state == args["state"])
        after = paging.last_id("claims", args.get("after"))
        if after is not None:
            stmt = stmt.where(Claim.id < after)
        rows = list(db.session.scalars(stmt.order_by(Claim.id.desc()).limit(args["limit"] + 1)))
        rows, cursor = paging.trim("claims", rows, args["limit"])
        return paging.page([claim_dict(c) for c in rows], cursor)


@blp.route("/<int:claim_id>")
class ClaimItem(MethodView):
    @requires(Scope.CASES_READ)
    @blp.response(200, ClaimOut)
    def get(self, claim_id):
        """One claim and its payout."""
        return claim_dict(_claim_in_scope(claim_id))


@blp.route("/<int:claim_id>/decision")
class ClaimDecision(MethodView):
    @requires(Scope.COMPENSATION_WRITE)
    @blp.arguments(ClaimDecisionIn)
    @blp.response(201, ClaimOut)
    def post(self, data, claim_id):
        """Approve or reject a requested claim (fund-manager keys, as in the fund console)."""
        claim = _claim_in_scope(claim_id)
        principal = current_principal()
        actor = Actor(principal.role.workflow_role, principal.id)
        decide = services.approve if data["decision"] == "approve" else services.reject
        try:
            decide(claim, actor, reason=data["reason"], now=utcnow())
            db.session.commit()
        except services.ReasonRequired:
            db.session.rollback()
            abort(422, errors={"json": {"reason": [_("Say why.")]}})
        except TransitionRefused as refused:
            db.session.rollback()
            abort(409, message=refused.message)
        except StaleDataError:
            db.session.rollback()
            abort(409, message=_("This claim changed meanwhile. Read it again and retry."))
        after_commit()
        return claim_dict(_claim_in_scope(claim_id))
