"""Open311 GeoReport v2 endpoints. Thin: parse, call services, answer in JSON or XML.

services and discovery are public; requests and tokens need `api_key` (scope open311):
a partner sees the requests it filed, an agency key its agency's cases.
"""

from datetime import datetime

from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from complaints.api.auth import count_request
from complaints.apikeys.models import Scope
from complaints.apikeys.services import principal_for
from complaints.cases.models import Case
from complaints.categories import Category
from complaints.database import utcnow
from complaints.extensions import csrf, db
from complaints.open311 import services
from complaints.open311.formats import errors, respond
from complaints.open311.models import Open311Request
from complaints.outbox.services import after_commit
from workflows.states import OPEN_STATES

bp = Blueprint("open311", __name__, url_prefix="/open311")
csrf.exempt(bp)
FORMAT = "<any(json, xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


@bp.get("/discovery.<any(json, xml):fmt>")
def discovery(fmt):
    base = current_app.config["PUBLIC_BASE_URL"]
    return respond(
        fmt,
        "discovery",
        {
            "changeset": "2026-12-04T00:00:00+08:00",
            "contact": _("Hainan tourism complaints platform (Anxin), see docs/open311.md"),
            "key_service": _(
                "API keys are issued by the provincial bureau: apikeys create --scope open311"
            ),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": f"{base}/open311/v2",
                    "changeset": "2026-12-04T00:00:00+08:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@bp.get(f"/v2/services.{FORMAT}")
def service_list(fmt):
    return respond(fmt, "services", services.service_list())


@bp.get(f"/v2/services/<code>.{FORMAT}")
def service_definition(code, fmt):
    if code not in {c.value for c in Category}:
        return errors(fmt, 404, [_("service_code %(code)s is not a service.", code=code)])
    return respond(fmt, "service_definition", services.service_definition(code))


def _principal(fmt):
    raw = (request.form if request.method == "POST" else request.args).get("api_key", "")
    principal = principal_for(raw, utcnow()) if raw else None
    if principal is None or Scope.OPEN311.value not in principal.scopes:
        return None, errors(
            fmt, 403, [_("api_key is missing, invalid, or lacks the open311 scope.")]
        )
    if not count_request(principal):  # the same per-key budget as /api/v1
        limit, _remaining, reset = g.rate_limit
        response = errors(
            fmt, 429, [_("This key may make %(n)d requests a minute. Try again later.", n=limit)]
        )
        response.headers["Retry-After"] = str(reset)
        return None, response
    return principal, None


@bp.post(f"/v2/requests.{FORMAT}")
def create_request(fmt):
    principal, refused = _principal(fmt)
    if refused:
        return refused
    now = utcnow()
    try:
        filed = services.file_request(request.form, principal, now)
        db.session.commit()
    except services.FilingRefused as refusal:
        db.session.rollback()
        return errors(fmt, refusal.status, refusal.descriptions)
    except IntegrityError:
        db.session.rollback()
        return errors(fmt, 409, [_("Conflict; send the request again.")])
    after_commit()
    case = db.session.get(Case, filed.case_id)
    body = [
        {"token": filed.token, "service_notice": services.service_notice(case), "account_id": None}
    ]
    return respond(fmt, "service_requests", body, status=201)


@bp.get(f"/v2/tokens/<token>.{FORMAT}")
def token_lookup(token, fmt):
    principal, refused = _principal(fmt)
    if refused:
        return refused
    row = db.session.execute(
        select(Open311Request, Case.number)
        .join(Case, Case.id == Open311Request.case_id)
        .where(Open311Request.token == token, Open311Request.api_key_id == principal.key_id)
    ).first()
    if row is None:
        return errors(fmt, 404, [_("No request has this token.")])
    return respond(fmt, "service_requests", [{"service_request_id": row[1], "token": token}])


@bp.get(f"/v2/requests/<request_id>.{FORMAT}")
def request_item(request_id, fmt):
    principal, refused = _principal(fmt)
    if refused:
        return refused
    case = db.session.scalar(
        services.visible_cases(principal).where(Case.number == request_id.upper())
    )
    if case is None:
        return errors(fmt, 404, [_("No request has this id.")])
    return respond(fmt, "service_requests", [services.request_record(case)])


@bp.get(f"/v2/requests.{FORMAT}")
def request_list(fmt):
    principal, refused = _principal(fmt)
    if refused:
        return refused
    stmt = services.visible_cases(principal)
    ids = [
        i.strip().upper()
        for i in request.args.get("service_request_id", "").split(",")
        if i.strip()
    ]
    if ids:
        # The spec: with service_request_id given, every other filter is ignored.
        stmt = stmt.where(Case.number.in_(ids[: services.MAX_RESULTS]))
    else:
        problems = []
        end = _instant("end_date", problems) or utcnow()
        start = _instant("start_date", problems) or end - services.WINDOW
        if end - start > services.WINDOW:
            problems.append(_("start_date and end_date may be at most 90 days apart."))
        statuses = {s.strip() for s in request.args.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            problems.append(_("status must be open or closed."))
        code = request.args.get("service_code")
        if code and code not in {c.value for c in Category}:
            problems.append(_("service_code %(code)s is not a service.", code=code))
        if problems:
            return errors(fmt, 400, problems)
        stmt = stmt.where(Case.created_at >= start, Case.created_at <= end)
        if code:
            stmt = stmt.where(Case.category == code)
        if statuses == {"open"}:
            stmt = stmt.where(Case.state.in_(OPEN_STATES))
        elif statuses == {"closed"}:
            stmt = stmt.where(Case.state.not_in(OPEN_STATES))
    cases = db.session.scalars(
        stmt.options(
            selectinload(Case.evidence),
            selectinload(Case.events),
            joinedload(Case.agency),
            joinedload(Case.outlet),
        )
        .order_by(Case.created_at.desc())
        .limit(services.MAX_RESULTS)
    )
    return respond(fmt, "service_requests", services.request_records(cases))


def _instant(name: str, problems: list) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        problems.append(
            _(
                "%(field)s must be ISO 8601 with a time zone, e.g. 2026-12-01T00:00:00+08:00.",
                field=name,
            )
        )
        return None
    return value
