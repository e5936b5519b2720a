"""Open311 mapping (service_code = category, address_id = outlet code, ...) and filing
through the same pipeline as the web form: ComplaintForm's validation, file_complaint, and the
real-name phone check (the partner vouches, or the tourist types the SMS code)."""

import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from complaints.apikeys.services import ApiPrincipal
from complaints.cases import services as cases
from complaints.cases.forms import REMEDY_LABELS, ComplaintForm
from complaints.cases.models import Case, CaseSource, Remedy
from complaints.cases.presenters import STATE_LABELS
from complaints.cases.services import phone_verified
from complaints.categories import Category
from complaints.clock import LOCAL_ZONE
from complaints.extensions import db
from complaints.merchants.services import outlet_by_code
from complaints.open311.models import Open311Request
from complaints.presentation import yuan_to_fen
from complaints.timers.services import open_deadline_for, open_deadlines_for
from workflows.states import OPEN_STATES

WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
# Our form's field -> the Open311 parameter a partner sends (for error messages).
PARAMETER_OF = {
    "category": "service_code",
    "outlet_code": "address_id",
    "description": "description",
    "occurred_on": "attribute[occurred_on]",
    "amount_paid": "attribute[amount_paid]",
    "amount_claimed": "attribute[amount_claimed]",
    "remedy": "attribute[remedy]",
    "tourist_name": "first_name",
    "phone": "phone",
    "language": "attribute[language]",
    "contact_consent": "attribute[contact_consent]",
}


class FilingRefused(ValueError):
    def __init__(self, status: int, descriptions: list[str]) -> None:
        super().__init__("; ".join(str(d) for d in descriptions))
        self.status, self.descriptions = status, descriptions


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL_ZONE).isoformat(timespec="seconds") if moment else None


def service_list() -> list[dict]:
    return [
        {
            "service_code": category.value,
            "service_name": str(category.label),
            "description": str(category.label),
            "metadata": True,
            "type": "realtime",
            "keywords": "tourism, complaint",
            "group": "tourism",
        }
        for category in Category
    ]


def service_definition(code: str) -> dict:
    remedies = [{"key": r.value, "name": str(label)} for r, label in REMEDY_LABELS.items()]
    attribute = _attribute
    return {
        "service_code": code,
        "attributes": [
            attribute("occurred_on", "datetime", True, 1, _("When did it happen"), "YYYY-MM-DD"),
            attribute("amount_paid", "number", False, 2, _("Amount paid (CNY)"), "yuan, e.g. 128.50"),
            attribute("amount_claimed", "number", False, 3, _("Amount you ask for (CNY)"), "yuan"),
            attribute("remedy", "singlevaluelist", True, 4, _("What would put it right"), "", remedies),
            attribute(
                "language", "singlevaluelist", False, 5, _("Language for messages"), "",
                [{"key": "zh", "name": "中文"}, {"key": "en", "name": "English"}],
            ),
            attribute(
                "contact_consent", "singlevaluelist", False, 6,
                _("The merchant may see my name and full number to contact me"), "",
                [{"key": "true", "name": "true"}, {"key": "false", "name": "false"}],
            ),
        ],
    }  # fmt: skip


def _attribute(code, datatype, required, order, description, datatype_description, values=None):
    item = {
        "variable": True,
        "code": code,
        "datatype": datatype,
        "required": required,
        "datatype_description": datatype_description,
        "order": order,
        "description": str(description),
    }
    if values is not None:
        item["values"] = values
    return item


def file_request(params: MultiDict, principal: ApiPrincipal, now: datetime) -> Open311Request:
    """Validate as the web form does, file, and vouch for the phone when the partner may."""
    missing = [name for name in ("service_code", "address_id") if not params.get(name)]
    if missing:
        raise FilingRefused(400, [_("%(field)s is required.", field=m) for m in missing])
    if params["service_code"] not in {c.value for c in Category}:
        raise FilingRefused(
            404, [_("service_code %(code)s is not a service.", code=params["service_code"])]
        )
    outlet = outlet_by_code(params["address_id"])
    if outlet is None:
        raise FilingRefused(400, [_("address_id: no outlet has this code.")])
    form = ComplaintForm(formdata=_form_data(params, outlet.code), meta={"csrf": False})
    form.outlet_code.choices = [SelectChoice(outlet.code, outlet.name_zh)]
    if not form.validate():
        raise FilingRefused(
            400,
            [
                f"{PARAMETER_OF.get(name, name)}: {message}"
                for name, messages in form.errors.items()
                for message in messages
            ],
        )
    filed = cases.file_complaint(
        cases.ComplaintInput(
            enterprise_id=outlet.enterprise_id,
            outlet_id=outlet.id,
            category=Category(form.category.data),
            description=form.description.data.strip(),
            occurred_on=form.occurred_on.data,
            amount_paid_fen=yuan_to_fen(form.amount_paid.amount),
            amount_claimed_fen=yuan_to_fen(form.amount_claimed.amount),
            remedy=Remedy(form.remedy.data),
            tourist_name=form.tourist_name.data.strip(),
            tourist_phone=form.phone_e164,
            language=form.language.data,
            contact_consent=form.contact_consent.data,
            source=CaseSource.API,
            submission_key=form.submission_key.data,
        ),
        secret_key=current_app.config["SECRET_KEY"],
        public_base_url=current_app.config["PUBLIC_BASE_URL"],
        now=now,
    )
    if principal.vouches_for_phone:
        phone_verified(filed.case, now)  # the partner checked the phone (docs/open311.md)
    request = Open311Request(
        case_id=filed.case.id,
        api_key_id=principal.key_id,
        token=secrets.token_urlsafe(18),
        created_at=now,
    )
    db.session.add(request)
    db.session.flush()
    return request


def _form_data(params: MultiDict, outlet_code: str) -> MultiDict:
    name = " ".join(p for p in (params.get("first_name"), params.get("last_name")) if p)
    data = MultiDict(
        {
            "submission_key": secrets.token_urlsafe(24),
            "outlet_code": outlet_code,
            "category": params.get("service_code", ""),
            "description": params.get("description", ""),
            "occurred_on": (params.get("attribute[occurred_on]") or "")[:10],
            "amount_paid": params.get("attribute[amount_paid]", ""),
            "amount_claimed": params.get("attribute[amount_claimed]", ""),
            "remedy": params.get("attribute[remedy]", ""),
            "tourist_name": name,
            "phone": params.get("phone", ""),
            "language": params.get("attribute[language]") or "zh",
        }
    )
    if (params.get("attribute[contact_consent]") or "").lower() == "true":
        data["contact_consent"] = "y"
    return data


def service_notice(case: Case) -> str:
    if case.phone_verified_at is None:
        return _(
            "Waiting for the tourist to confirm the phone number with the code sent by SMS; "
            "the complaint is handled once it is confirmed."
        )
    return ""


def visible_cases(principal: ApiPrincipal):
    """A partner sees the requests it filed; an agency key its agency's cases (the console's
    rule); nobody else sees any."""
    if principal.agency_id is not None:
        return select(Case).where(Case.agency_id == principal.agency_id)
    return select(Case).where(
        Case.id.in_(
            select(Open311Request.case_id).where(Open311Request.api_key_id == principal.key_id)
        )
    )


def request_records(cases) -> list[dict]:
    """A page of requests: each case's running deadline read in one query, not one per row."""
    cases = list(cases)
    deadlines = open_deadlines_for(c.id for c in cases)
    return [request_record(c, deadlines.get(c.id)) for c in cases]


def request_record(case: Case, deadline=None) -> dict:
    deadline = deadline if deadline is not None else open_deadline_for(case.id)
    evidence = case.evidence[0] if case.evidence else None
    base = current_app.config["PUBLIC_BASE_URL"]
    last = case.events[-1] if case.events else None
    return {
        "service_request_id": case.number,
        "status": "open" if case.state in OPEN_STATES else "closed",
        "status_notes": (last.reason if last and last.reason else str(STATE_LABELS[case.state])),
        "service_name": str(case.category.label),
        "service_code": case.category.value,
        "description": case.description,
        "agency_responsible": case.agency.name_zh if case.agency_id else "",
        "service_notice": service_notice(case),
        "requested_datetime": iso(case.created_at),
        "updated_datetime": iso(last.created_at if last else case.state_entered_at),
        "expected_datetime": iso(deadline.due_at) if deadline else None,
        "address": case.outlet.address if case.outlet_id else "",
        "address_id": case.outlet.code if case.outlet_id else "",
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": f"{base}/api/v1/cases/{case.number}/evidence/{evidence.id}"
        if evidence
        else None,
    }
