"""/api/v1/cases: the queue, one case, its transitions, evidence and messages."""

from flask import current_app
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import RAISE
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from complaints.api import paging
from complaints.api.auth import current_principal, requires
from complaints.api.presenters import case_detail, case_summary
from complaints.api.schemas import (
    CaseListQuery,
    CaseOut,
    CasePageOut,
    EvidenceListOut,
    MessageIn,
    MessageListOut,
    MessageOut,
    TransitionIn,
    TransitionOut,
)
from complaints.api.scope import case_in_scope, is_regulator, require_tenant
from complaints.api.transitions import perform_transition
from complaints.apikeys.models import Scope
from complaints.cases.evidence import send_evidence_file
from complaints.cases.models import Case, Evidence
from complaints.categories import Category
from complaints.console import queries as console_queries
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import Audience
from complaints.outbox.services import after_commit
from complaints.portal.messages import MessageRefused, messages_for, post_message
from workflows.states import CaseState

blp = Blueprint("api_cases", __name__, url_prefix="/cases", description="Complaint cases")


def _role():
    return current_principal().role.workflow_role


@blp.route("")
class CaseList(MethodView):
    @requires(Scope.CASES_READ)
    @blp.arguments(CaseListQuery, location="query", unknown=RAISE)
    @blp.response(200, CasePageOut)
    def get(self, args):
        """The queue: the console's filters and order (running deadline first), cursor pages."""
        require_tenant()
        if is_regulator():
            return _regulator_page(args)
        return _merchant_page(args)


def _regulator_page(args):
    filters = console_queries.QueueFilters(
        state=CaseState(args["state"]) if args.get("state") else None,
        category=Category(args["category"]) if args.get("category") else None,
        division=args.get("division"),
        merchant=args.get("merchant"),
        q=args.get("q"),
    )
    after = None
    if args.get("after"):
        try:
            after = console_queries.decode_cursor(args["after"])
        except console_queries.BadCursor:
            abort(400, errors={"query": {"after": [_("Not a cursor of this list.")]}})
    page = console_queries.queue_page(
        current_principal().agency_id, filters, after, size=args["limit"]
    )
    return paging.page(
        [case_summary(row.case, row.deadline) for row in page.rows], page.next_cursor
    )


def _merchant_page(args):
    """A merchant's cases, newest first; never one still `submitted` (as in the portal)."""
    stmt = (
        select(Case)
        .where(
            Case.enterprise_id == current_principal().enterprise_id,
            Case.state != CaseState.SUBMITTED,
        )
        .options(joinedload(Case.enterprise), joinedload(Case.outlet), joinedload(Case.agency))
        .order_by(Case.id.desc())
        .limit(args["limit"] + 1)
    )
    for name, column in (("state", Case.state), ("category", Case.category)):
        if args.get(name):
            stmt = stmt.where(column == args[name])
    if args.get("division"):
        stmt = stmt.where(Case.division_code == args["division"])
    if args.get("q"):
        stmt = stmt.where(Case.description.icontains(args["q"], autoescape=True))
    after = paging.last_id("merchant-cases", args.get("after"))
    if after is not None:
        stmt = stmt.where(Case.id < after)
    rows = list(db.session.scalars(stmt))
    rows, cursor = paging.trim("merchant-cases", rows, args["limit"])
    from complaints.timers.services import open_deadlines_for

    deadlines = open_deadlines_for(c.id for c in rows)
    return paging.page([case_summary(c, deadlines.get(c.id)) for c in rows], cursor)


@blp.route("/<number>")
class CaseItem(MethodView):
    @requires(Scope.CASES_READ)
    @blp.response(200, CaseOut)
    def get(self, number):
        """One case with its public timeline and the triggers this key may fire now."""
        return case_detail(case_in_scope(number), _role(), utcnow())


@blp.route("/<number>/transitions")
class CaseTransitions(MethodView):
    @requires(Scope.CASES_WRITE)
    @blp.arguments(TransitionIn)
    @blp.response(201, TransitionOut)
    @blp.alt_response(409, description="Not allowed in the case's state or for this key")
    def post(self, data, number):
        """Fire a transition through the same workflow `fire` and role rules as the pages."""
        case = case_in_scope(number)
        now = utcnow()
        try:
            event = perform_transition(case, data, now)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            abort(409, message=_("This case changed meanwhile. Read it again and retry."))
        after_commit()
        case = case_in_scope(number)
        return {
            "seq": event.seq,
            "trigger": event.trigger,
            "from_state": str(event.from_state) if event.from_state else None,
            "to_state": str(event.to_state),
            "case": case_detail(case, _role(), utcnow()),
        }


@blp.route("/<number>/evidence")
class CaseEvidence(MethodView):
    @requires(Scope.CASES_READ)
    @blp.response(200, EvidenceListOut)
    def get(self, number):
        """The tourist's evidence files (metadata; each `url` downloads the file)."""
        case = case_in_scope(number)
        base = current_app.config["PUBLIC_BASE_URL"]
        return {
            "data": [
                {
                    "id": item.id,
                    "kind": str(item.kind),
                    "content_type": item.content_type,
                    "size_bytes": item.size_bytes,
                    "sha256": item.sha256,
                    "created_at": item.created_at,
                    "url": f"{base}/api/v1/cases/{case.number}/evidence/{item.id}",
                }
                for item in case.evidence
            ]
        }


@blp.route("/<number>/evidence/<int:evidence_id>")
class CaseEvidenceFile(MethodView):
    @requires(Scope.CASES_READ)
    @blp.response(200, description="The file itself", content_type="application/octet-stream")
    def get(self, number, evidence_id):
        """Download one evidence file of the case."""
        case = case_in_scope(number)
        item = db.session.get(Evidence, evidence_id) if evidence_id < 2**31 else None
        if item is None or item.case_id != case.id:
            abort(404)
        return send_evidence_file(item.stored_name, item.content_type)


def _audience() -> Audience:
    return Audience.REGULATOR if is_regulator() else Audience.MERCHANT


def _message_dict(message) -> dict:
    visible = [
        name
        for name, flag in (
            ("tourist", message.visible_to_tourist),
            ("merchant", message.visible_to_merchant),
            ("regulator", message.visible_to_regulator),
        )
        if flag
    ]
    return {
        "id": message.id,
        "author_role": str(message.author_role),
        "body": message.body,
        "created_at": message.created_at,
        "visible_to": visible,
    }


@blp.route("/<number>/messages")
class CaseMessages(MethodView):
    @requires(Scope.CASES_READ)
    @blp.response(200, MessageListOut)
    def get(self, number):
        """The thread as this key's audience may read it, oldest first."""
        case = case_in_scope(number)
        return {"data": [_message_dict(m) for m in messages_for(case, _audience())]}

    @requires(Scope.CASES_WRITE)
    @blp.arguments(MessageIn)
    @blp.response(201, MessageOut)
    def post(self, data, number):
        """Add a message, as the portal and the console do."""
        case = case_in_scope(number)
        principal = current_principal()
        audiences = (
            frozenset(Audience(a) for a in data["audiences"]) if data.get("audiences") else None
        )
        try:
            message = post_message(
                case,
                principal.role.workflow_role,
                data["body"],
                now=utcnow(),
                author=principal.account,
                audiences=audiences,
            )
            db.session.commit()
        except MessageRefused as refused:
            db.session.rollback()
            abort(422, errors={"json": {"body": [str(refused.message)]}})
        after_commit()
        return _message_dict(message)
