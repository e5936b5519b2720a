"""The tourist's complaint form and tracking page. Thin: parse, call a service, render."""

import inspect
import secrets

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from complaints.agencies.routing import route_agency
from complaints.cases import services
from complaints.cases.evidence import stage_uploads, staged_evidence
from complaints.cases.forms import SUBMISSION_KEY_PATTERN, ComplaintForm
from complaints.cases.models import CaseSource, Remedy
from complaints.categories import Category
from complaints.database import utcnow
from complaints.errors import retry_time, too_many_requests
from complaints.extensions import db, limiter
from complaints.input_guard import flag_removed_characters, keeps_typed_input
from complaints.languages import language_for_phone
from complaints.merchants.services import (
    ScanStatus,
    enterprise_by_uscc,
    resolve_scan_token,
)
from complaints.outbox.services import after_commit
from complaints.presentation import yuan_to_fen
from complaints.timers.services import current_calendar, current_policy, policy_set

bp = Blueprint("cases", __name__)


def _complaint_rate_limit() -> str:
    return current_app.config["COMPLAINT_RATE_LIMIT"]


def _complaint_was_filed(response) -> bool:
    return bool(g.get("complaint_filed"))


# One limit per client across every filing endpoint ("filing" scope), counting only complaints
# actually filed: a language switch or a form sent back with errors costs nothing. At the
# limit the form comes back as typed (complaints.errors re-renders it, see `limited_until`).
filing_limit = limiter.shared_limit(
    _complaint_rate_limit,
    scope="filing",
    methods=["POST"],
    deduct_when=_complaint_was_filed,
)
FILING_ENDPOINTS = ("cases.complain_at_outlet", "cases.complain_about_enterprise")


@bp.route("/s/<token>/complain", methods=["GET", "POST"])
@filing_limit
@keeps_typed_input
def complain_at_outlet(token: str):
    result = resolve_scan_token(token)
    if result.status is ScanStatus.INVALID:
        abort(404, description=_("This code is not one of ours, or it was damaged."))
    if result.status is ScanStatus.REPLACED:
        return render_template("scan_replaced.html", outlet=result.outlet), 410
    outlet = result.outlet
    return _complaint_form(outlet.enterprise, outlets=[outlet], source=CaseSource.QR)


@bp.route("/m/<uscc>/complain", methods=["GET", "POST"])
@filing_limit
@keeps_typed_input
def complain_about_enterprise(uscc: str):
    enterprise = enterprise_by_uscc(uscc) or abort(404)
    return _complaint_form(enterprise, outlets=list(enterprise.outlets), source=CaseSource.SEARCH)


def _policy_for(enterprise, outlets):
    """The time limits a complaint about this merchant falls under, by category: the agency
    that would receive it and the category pick the scope (Order 32 for tours)."""
    division_code = outlets[0].division_code if len(outlets) == 1 else enterprise.division_code

    def policy_for(category: str | None):
        try:
            chosen = Category(category)
        except ValueError:
            return current_policy()
        agency = route_agency(division_code, chosen)
        return policy_set().resolve(agency.slug if agency else None, chosen.value)

    return policy_for


def _complaint_form(enterprise, *, outlets, source: CaseSource):
    form = ComplaintForm()
    form.policy_for = _policy_for(enterprise, outlets)
    form.calendar = current_calendar()
    form.outlet_code.choices = [SelectChoice(o.code, o.name_zh) for o in outlets]
    if request.method == "GET":
        form.submission_key.data = secrets.token_urlsafe(24)
        form.language.data = str(get_locale())
        form.remedy.data = Remedy.REFUND.value  # needs no figure: what was paid
        if len(outlets) == 1:
            form.outlet_code.data = outlets[0].code
            form.category.data = outlets[0].category.value
    elif form.is_submitted():
        # A retry carrying photos is recognised before they are stored twice; without photos
        # the filing's own INSERT recognises the submission key, saving a look-up.
        retried = _has_uploads(form) and _existing_submission(form.submission_key.data)
        if retried:
            return retried
        upload_errors = _stage_uploads(form)
        if not request.form.get("switch_lang"):  # a language switch only re-renders
            valid = form.validate()
            valid = not flag_removed_characters(form) and valid
            outlet = _chosen_outlet(form, outlets)
            at_limit = g.get("filing_limited_until") is not None
            if valid and outlet is not False and not upload_errors and not at_limit:
                return _file(form, enterprise, outlet, source)
        form.evidence.errors = list(form.evidence.errors) + upload_errors
        db.session.commit()  # keep the photos that were fine for the next attempt
    staged = (
        staged_evidence(services.hash_key(form.submission_key.data))
        if services_key_ok(form)
        else []
    )
    limited_until = g.get("filing_limited_until")
    status = 429 if limited_until else (422 if form.errors else 200)
    return render_template(
        "complaint_form.html",
        form=form,
        enterprise=enterprise,
        outlets=outlets,
        staged=staged,
        limited_until=limited_until,
        merchant_stage=current_policy().merchant_stage,
    ), status


@bp.errorhandler(RateLimitExceeded)
def at_rate_limit(exc):
    """At the filing limit the same form comes back, everything typed kept, saying when to
    retry; nothing is filed (the undecorated view runs, so the limit is not checked again)."""
    if request.endpoint not in FILING_ENDPOINTS:
        return too_many_requests(exc)
    g.filing_limited_until = retry_time()
    view = inspect.unwrap(current_app.view_functions[request.endpoint])
    return view(**(request.view_args or {}))


def _stage_uploads(form) -> list[str]:
    if not services_key_ok(form):
        return []
    return stage_uploads(
        request.files.getlist(form.evidence.name),
        submission_key_hash=services.hash_key(form.submission_key.data),
        upload_dir=current_app.config["UPLOAD_DIR"],
        max_bytes=current_app.config["EVIDENCE_MAX_FILE_BYTES"],
        max_files=current_app.config["EVIDENCE_MAX_FILES"],
    )


def _has_uploads(form) -> bool:
    return any(upload.filename for upload in request.files.getlist(form.evidence.name))


def services_key_ok(form) -> bool:
    return bool(SUBMISSION_KEY_PATTERN.match(form.submission_key.data or ""))


def _chosen_outlet(form, outlets):
    """The outlet picked, None when the complaint is about the enterprise as a whole, or
    False (with an error on the field) when the pick is not one of this merchant's."""
    code = form.outlet_code.data
    if not code:
        return None
    for outlet in outlets:
        if outlet.code == code:
            return outlet
    form.outlet_code.errors = [*form.outlet_code.errors, "Choose one of this merchant's outlets."]
    return False


def _existing_submission(submission_key: str | None):
    if not submission_key:
        return None
    case = services.case_for_submission(submission_key)
    if case is None:
        return None
    tracking_key = services.tracking_key_for(submission_key, current_app.config["SECRET_KEY"])
    return redirect(url_for("cases.track", tracking_key=tracking_key, new=1), code=303)


def _message_language(form) -> str:
    """The form's choice; when the page language was only the default (nothing chosen, no
    Accept-Language we speak) and left as it was, the phone's country is the better hint."""
    chosen = form.language.data
    if chosen == str(get_locale()) and not g.get("locale_chosen", True):
        return language_for_phone(form.phone_e164, current_app.config["LANGUAGES"]) or chosen
    return chosen


def _file(form, enterprise, outlet, source):
    data = services.ComplaintInput(
        enterprise_id=enterprise.id,
        outlet_id=outlet.id if outlet else None,
        category=Category(form.category.data),
        description=form.description.data.strip(),
        occurred_on=form.occurred_on.data,
        amount_paid_fen=yuan_to_fen(form.amount_paid.amount),
        amount_claimed_fen=yuan_to_fen(form.amount_claimed.amount),
        remedy=Remedy(form.remedy.data),
        tourist_name=form.tourist_name.data.strip(),
        tourist_phone=form.phone_e164,
        language=_message_language(form),
        contact_consent=form.contact_consent.data,
        source=source,
        submission_key=form.submission_key.data,
        harm_known_on=form.harm_known_on.data,
        contract_ended_on=form.contract_ended_on.data,
        merchant_first=form.first_answer.data != "regulator",
        tourist_address=(form.tourist_address.data or "").strip(),
    )
    try:
        filed = services.file_complaint(
            data,
            secret_key=current_app.config["SECRET_KEY"],
            public_base_url=current_app.config["PUBLIC_BASE_URL"],
            now=utcnow(),
        )
        db.session.commit()
        g.complaint_filed = True  # counted toward the per-client filing limit
    except IntegrityError:
        # A double tap raced us to the same submission key: show the case the first one made.
        db.session.rollback()
        return _existing_submission(form.submission_key.data) or abort(409)
    after_commit()
    return redirect(url_for("cases.track", tracking_key=filed.tracking_key, new=1), code=303)


# The tracking page and what the tourist does there live in their own module; importing it
# last registers its routes on `bp`, which it takes from here.
from complaints.cases import tracking_views  # noqa: E402, F401
