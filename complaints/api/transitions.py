"""A transition asked for by API: the console's or the portal's own service, chosen by who
holds the key, so the same table, guards, role rules and audit apply as to a click."""

from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_smorest import abort
from sqlalchemy import select

from complaints.agencies.models import Agency
from complaints.api.auth import current_principal
from complaints.api.scope import is_regulator
from complaints.cases.models import Case, CaseEvent
from complaints.console import services as console
from complaints.console.forms import CONSOLE_TRIGGERS
from complaints.extensions import db
from complaints.portal import services as portal
from workflows.machine import RefusalCode, TransitionRefused, check

FIELD_OF_REFUSAL = {
    RefusalCode.REASON_REQUIRED: "reason",
    RefusalCode.GROUND_REQUIRED: "ground",
    RefusalCode.BAD_GROUND: "ground",
}


def perform_transition(case: Case, data: dict, now: datetime) -> CaseEvent:
    trigger = data["trigger"]
    try:
        if is_regulator():
            return _as_regulator(case, trigger, data, now)
        return _as_merchant(case, trigger, data, now)
    except TransitionRefused as refused:
        db.session.rollback()
        field = FIELD_OF_REFUSAL.get(refused.code)
        if refused.code is RefusalCode.BAD_GROUND and trigger in ("assign", "transfer"):
            field = "handler_id" if trigger == "assign" else "agency_slug"
        if field:
            abort(422, message=refused.message, errors={"json": {field: [refused.message]}})
        abort(409, message=refused.message)
    except portal.PortalRefused as refused:
        db.session.rollback()
        abort(422, message=str(refused.message), errors={"json": {"body": [str(refused.message)]}})


def _as_regulator(case, trigger, data, now) -> CaseEvent:
    principal = current_principal()
    if trigger not in CONSOLE_TRIGGERS:
        check(case.state, trigger, principal.role.workflow_role, console.case_facts(case, now))
    console.ensure_available(case, trigger, principal, now)
    agency_id = None
    if data.get("agency_slug"):
        agency_id = db.session.scalar(select(Agency.id).where(Agency.slug == data["agency_slug"]))
        if agency_id is None:
            abort(422, errors={"json": {"agency_slug": [_("No agency with this slug.")]}})
    amount = data.get("amount_fen")
    return console.perform(
        case,
        trigger,
        principal,
        console.ActionInput(
            reason=(data.get("reason") or "").strip() or None,
            ground=data.get("ground") or None,
            handler_id=data.get("handler_id"),
            agency_id=agency_id,
            amount=Decimal(amount) / 100 if amount is not None else None,
            terms=(data.get("terms") or "").strip() or None,
        ),
        now,
    )


def _as_merchant(case, trigger, data, now) -> CaseEvent:
    principal = current_principal()
    account = principal.account
    if trigger not in portal.MERCHANT_TRIGGERS:
        # The table says why (wrong state, not a merchant's trigger): the same refusal text.
        check(case.state, trigger, principal.role.workflow_role, console.case_facts(case, now))
        abort(
            409,
            message=_("Merchants answer with merchant_refund, merchant_offer or merchant_dispute."),
        )
    if trigger not in portal.merchant_triggers(case, now):
        check(case.state, trigger, principal.role.workflow_role, console.case_facts(case, now))
    if trigger == "merchant_refund":
        if data.get("amount_fen") is None:
            abort(422, errors={"json": {"amount_fen": [_("Give the amount refunded.")]}})
        return portal.refund(case, account, data["amount_fen"], now)
    if trigger == "merchant_offer":
        offer = portal.make_offer(case, account, data.get("amount_fen"), data.get("terms", ""), now)
        return db.session.scalar(
            select(CaseEvent)
            .where(CaseEvent.case_id == offer.case_id)
            .order_by(CaseEvent.seq.desc())
            .limit(1)
        )
    return portal.submit_dispute(case, account, data.get("reason", ""), now)
