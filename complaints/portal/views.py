"""The merchant's cases: dashboard, case page, actions, dispute evidence, messages.

Thin: parse, call a query or service, commit, relay, redirect. Every route reaches a case
only through `queries.case_for_merchant`, which answers 404 for another enterprise's case.
"""

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from complaints.cases.evidence import send_evidence_file
from complaints.cases.models import Case, EvidenceKind
from complaints.console.presenters import (
    DEADLINE_LABELS,
    REMEDY_LABELS,
    STATE_LABELS,
    TRIGGER_LABELS,
    deadline_view,
)
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import Audience
from complaints.outbox.services import after_commit
from complaints.portal import evidence, forms, messages, presenters, queries, services
from complaints.portal.blueprints import bp, merchant_bp, public_bp
from complaints.presentation import yuan_to_fen
from complaints.timers.services import open_deadline_for
from workflows.machine import RefusalCode, TransitionRefused
from workflows.states import Role

NOT_YOUR_TURN = RefusalCode.WRONG_STATE, RefusalCode.GUARD_FAILED, RefusalCode.ROLE_NOT_ALLOWED


@merchant_bp.get("/")
def dashboard():
    now = utcnow()
    enterprise_id = current_user.enterprise_id
    return render_template(
        "portal/dashboard.html",
        rows=queries.open_cases(enterprise_id, now),
        outcomes=queries.outcomes(enterprise_id, now),
        outcome_labels=presenters.OUTCOME_LABELS,
        state_labels=STATE_LABELS,
        deadline_labels=DEADLINE_LABELS,
        time_left=presenters.time_left,
    )


@merchant_bp.get("/cases/<number>")
def case_page(number: str):
    return _render_case(queries.case_for_merchant(number, current_user))


def _render_case(case: Case, *, failed=None, refusal=None, status=200, **forms_shown):
    """The case page; `failed` is (trigger, form) of the action tried, with its `refusal`."""
    now = utcnow()
    actions = []
    for trigger in services.merchant_triggers(case, now):
        form = failed[1] if failed and failed[0] == trigger else forms.action_form(trigger)
        actions.append((trigger, form))
    can_dispute = "merchant_dispute" in dict(actions)
    return render_template(
        "portal/case.html",
        case=case,
        phone=presenters.tourist_phone_for_merchant(case),
        tourist_name=presenters.tourist_name_for_merchant(case),
        deadline=deadline_view(open_deadline_for(case.id), now),
        time_left=presenters.time_left(_left(case, now)),
        timeline=presenters.merchant_timeline(case),
        actions=actions,
        refusal=refusal,
        refused_trigger=failed[0] if failed else None,
        trigger_labels=TRIGGER_LABELS,
        state_labels=STATE_LABELS,
        remedy_labels=REMEDY_LABELS,
        kind_labels=presenters.KIND_LABELS,
        offer_labels=presenters.OFFER_STATUS_LABELS,
        last_offer=services.latest_offer(case),
        shown_status=services.shown_status,
        refund_limit=services.refund_limit_fen(case),
        staged=services.staged_dispute_evidence(case) if can_dispute else [],
        submitted=services.submitted_dispute_evidence(case),
        stage_form=forms_shown.get("stage_form")
        or forms.StageEvidenceForm().fill_kinds(presenters.KIND_LABELS),
        thread=presenters.thread(case, Audience.MERCHANT),
        can_post=messages.can_post(case),
        message_form=forms_shown.get("message_form") or forms.MerchantMessageForm(),
    ), status


def _left(case: Case, now):
    deadline = open_deadline_for(case.id)
    return deadline.due_at - now if deadline else None


def _refusal_text(refused: TransitionRefused) -> str:
    if refused.code in NOT_YOUR_TURN:
        return _("This case is no longer waiting for your answer.")
    if refused.code is RefusalCode.REASON_REQUIRED:
        return _("Say why you dispute the complaint.")
    return refused.message


def _changed() -> str:
    return _("This case changed while you were looking at it. Reload and try again.")


@merchant_bp.post("/cases/<number>/actions/<trigger>")
def act(number: str, trigger: str):
    account = current_user
    case = queries.case_for_merchant(number, account)
    if trigger not in services.MERCHANT_TRIGGERS:
        abort(404)
    form = forms.action_form(trigger)
    now = utcnow()
    if trigger not in services.merchant_triggers(case, now):
        message = _("This case is no longer waiting for your answer.")
        return _render_case(case, refusal=message, status=409)
    if not form.validate_on_submit():
        return _render_case(case, failed=(trigger, form), status=422)
    try:
        _perform(case, trigger, form, account, now)
        db.session.commit()
    except services.PortalRefused as refused:
        db.session.rollback()
        case = queries.case_for_merchant(number, account)
        return _render_case(case, failed=(trigger, form), refusal=refused.message, status=422)
    except TransitionRefused as refused:
        db.session.rollback()
        case = queries.case_for_merchant(number, account)
        return _render_case(
            case, failed=(trigger, form), refusal=_refusal_text(refused), status=409
        )
    except StaleDataError:
        db.session.rollback()  # someone acted on the case between our read and our write
        case = queries.case_for_merchant(number, account)
        return _render_case(case, failed=(trigger, form), refusal=_changed(), status=409)
    after_commit()
    flash(_("Done: %(action)s.", action=TRIGGER_LABELS.get(trigger, trigger)), "success")
    return redirect(url_for(".case_page", number=case.number), code=303)


def _perform(case, trigger, form, account, now):
    if trigger == "merchant_refund":
        return services.refund(case, account, yuan_to_fen(form.amount.amount), now)
    if trigger == "merchant_offer":
        amount = yuan_to_fen(form.amount.amount) if (form.amount.data or "").strip() else None
        return services.make_offer(case, account, amount, form.terms.data or "", now)
    return services.submit_dispute(case, account, form.reason.data or "", now)


# --- dispute evidence ----------------------------------------------------------------------


@merchant_bp.post("/cases/<number>/evidence")
def stage_evidence(number: str):
    account = current_user
    case = queries.case_for_merchant(number, account)
    form = forms.StageEvidenceForm().fill_kinds(presenters.KIND_LABELS)
    if "merchant_dispute" not in services.merchant_triggers(case, utcnow()):
        message = _("This case is no longer waiting for your answer.")
        return _render_case(case, refusal=message, status=409)
    if not form.validate_on_submit():
        return _render_case(case, stage_form=form, status=422)
    try:
        evidence.stage_item(
            case,
            account,
            request.files.get(form.file.name),
            EvidenceKind(form.kind.data),
            form.note.data or "",
            upload_dir=current_app.config["UPLOAD_DIR"],
            max_bytes=current_app.config["EVIDENCE_MAX_FILE_BYTES"],
        )
        db.session.commit()
    except services.PortalRefused as refused:
        db.session.rollback()
        form.file.errors = [refused.message]
        return _render_case(queries.case_for_merchant(number, account), stage_form=form, status=422)
    flash(_("File added. It is sent to the regulator when you submit the dispute."), "success")
    return redirect(url_for(".case_page", number=case.number) + "#dispute", code=303)


@merchant_bp.post("/cases/<number>/evidence/<int:item_id>/remove")
def remove_evidence(number: str, item_id: int):
    case = queries.case_for_merchant(number, current_user)
    item = queries.dispute_evidence_for_merchant(case, item_id)
    if not forms.EmptyForm().validate_on_submit():
        abort(400)
    try:
        stale_file = evidence.remove_item(item, upload_dir=current_app.config["UPLOAD_DIR"])
        db.session.commit()
    except services.PortalRefused as refused:
        db.session.rollback()
        return _render_case(case, refusal=refused.message, status=409)
    stale_file.unlink(missing_ok=True)
    flash(_("File removed."), "success")
    return redirect(url_for(".case_page", number=case.number) + "#dispute", code=303)


@merchant_bp.get("/cases/<number>/evidence/<int:item_id>")
def dispute_file(number: str, item_id: int):
    case = queries.case_for_merchant(number, current_user)
    item = queries.dispute_evidence_for_merchant(case, item_id)
    return send_evidence_file(item.stored_name, item.content_type)


@merchant_bp.get("/cases/<number>/tourist-evidence/<int:evidence_id>")
def tourist_file(number: str, evidence_id: int):
    case = queries.case_for_merchant(number, current_user)
    item = queries.tourist_evidence_for_merchant(case, evidence_id)
    return send_evidence_file(item.stored_name, item.content_type)


# --- messages ------------------------------------------------------------------------------


@merchant_bp.post("/cases/<number>/messages")
def post_message(number: str):
    account = current_user
    case = queries.case_for_merchant(number, account)
    form = forms.MerchantMessageForm()
    if not form.validate_on_submit():
        return _render_case(case, message_form=form, status=422)
    audiences = (
        frozenset({Audience.MERCHANT, Audience.REGULATOR}) if form.regulator_only.data else None
    )
    try:
        messages.post_message(
            case, Role.MERCHANT, form.body.data, now=utcnow(), author=account, audiences=audiences
        )
        db.session.commit()
        after_commit()  # the other parties hear of it now
    except messages.MessageRefused as refused:
        db.session.rollback()
        form.body.errors = [refused.message]
        return _render_case(
            queries.case_for_merchant(number, account), message_form=form, status=422
        )
    flash(_("Message sent."), "success")
    return redirect(url_for(".case_page", number=case.number) + "#messages", code=303)


# The other routes live beside these; importing them here attaches them to the blueprints.
from complaints.portal import (  # noqa: E402, F401
    account_views,
    credit_views,
    outlet_views,
    tourist_views,
)

bp.register_blueprint(merchant_bp)
bp.register_blueprint(public_bp)
