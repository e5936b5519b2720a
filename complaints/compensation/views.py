"""The fund console (/console/fund) and the tourist's request. Thin: parse, call, commit, render.

Every console route passes `_fund_staff_only` (signed in, fund manager or admin of an agency)
and reaches a claim only through `_claim_in_scope`, which answers 404 for another city's fund.
What a role may do is the compensation table's business: an admin sees, a fund manager acts.
"""

from flask import (
    Blueprint,
    Response,
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
from sqlalchemy.exc import IntegrityError

from complaints.accounts.models import AccountRole
from complaints.cases.reasons import readable_reason
from complaints.cases.services import case_for_tracking_key
from complaints.cases.tracking_views import render_tracking
from complaints.cases.workflow import Actor
from complaints.compensation import deposits, queries, recovery, services
from complaints.compensation.forms import (
    AskForm,
    EmptyForm,
    PayeeForm,
    ReasonForm,
    ReferenceForm,
)
from complaints.compensation.models import Claim
from complaints.compensation.payee import METHOD_LABELS, masked_payee
from complaints.console.presenters import ROLE_LABELS
from complaints.console.presenters import STATE_LABELS as CASE_STATE_LABELS
from complaints.database import utcnow
from complaints.extensions import db
from complaints.outbox.services import after_commit
from complaints.presentation import yuan_to_fen
from workflows.machine import TransitionRefused
from workflows.states import Role

bp = Blueprint("compensation", __name__)
bp.add_app_template_global(services.compensation_summary, "compensation_summary")
bp.add_app_template_global(METHOD_LABELS, "payee_method_labels")
bp.add_app_template_global(masked_payee, "masked_payee")

FUND_ROLES = (AccountRole.FUND_MANAGER, AccountRole.ADMIN)
PUBLIC_ENDPOINTS = {"compensation.ask", "compensation.give_payee"}


@bp.before_request
def _fund_staff_only():
    # One gate for the blueprint, so no console route can be added without it.
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role not in FUND_ROLES or current_user.agency_id is None:
        abort(403)
    return None


def _actor() -> Actor:
    return Actor(current_user.role.workflow_role, str(current_user.id))


def _fund_or_404(fund_id: int | None):
    funds = queries.funds_for(current_user)
    if fund_id is not None:
        funds = [fund for fund in funds if fund.id == fund_id]
    if not funds:
        abort(404)
    return funds[0]


def _claim_in_scope(claim_id: int) -> Claim:
    claim = db.session.get(Claim, claim_id) or abort(404)
    if claim.fund_id not in {fund.id for fund in queries.funds_for(current_user)}:
        abort(404)  # another city's fund: as if it did not exist
    return claim


@bp.get("/console/fund/")
def dashboard():
    fund = _fund_or_404(request.args.get("fund", type=int))
    figure = request.args.get("figure", "requested")
    if figure not in queries.FIGURES:
        abort(404)
    return render_template(
        "compensation/fund.html",
        fund=fund,
        figures=queries.figures(fund),
        figure=figure,
        figure_labels={name: label for name, (label, _c) in queries.FIGURES.items()},
        claims=queries.claims_behind(fund, figure),
        minutes_to_pay=queries.minutes_to_pay,
        state_labels=queries.CLAIM_STATE_LABELS,
    )


@bp.get("/console/fund/export.csv")
def export():
    fund = _fund_or_404(request.args.get("fund", type=int))
    figure = request.args.get("figure") or None
    if figure is not None and figure not in queries.FIGURES:
        abort(404)
    body = "\ufeff" + queries.export_csv(fund, figure)  # BOM: Excel opens UTF-8 as UTF-8
    name = f"fund-{fund.division_code}-{figure or 'all'}-{utcnow():%Y%m%d}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/console/fund/claims/<int:claim_id>")
def claim_page(claim_id: int):
    claim = _claim_in_scope(claim_id)
    return _render_claim(claim)


def _render_claim(claim: Claim, status: int = 200, failed: str | None = None, **forms):
    role = current_user.role.workflow_role
    triggers = {t.trigger for t in services.available_claim_actions(claim, role, utcnow())}
    return render_template(
        "compensation/claim.html",
        claim=claim,
        triggers=triggers,
        can_enter_reference=role is Role.FUND_MANAGER
        and claim.payout_note == "awaiting_reference"
        and claim.entered_reference is None,
        can_retry=role is Role.FUND_MANAGER
        and claim.payout_note in ("insufficient_funds", "provider_refused"),
        minutes=queries.minutes_to_pay(claim),
        state_labels=queries.CLAIM_STATE_LABELS,
        recovery_labels=queries.RECOVERY_STATE_LABELS,
        case_state_labels=CASE_STATE_LABELS,
        claim_trigger_labels=queries.CLAIM_TRIGGER_LABELS,
        role_labels=ROLE_LABELS,
        readable_reason=readable_reason,
        failed=failed,  # the action whose form is shown again with its errors
        failed_form=forms.get("failed_form"),
        reason_form=ReasonForm(formdata=None),
        reference_form=ReferenceForm(formdata=None),
        button_form=EmptyForm(),
    ), status


ACTIONS = {
    "approve": (ReasonForm, lambda c, a, f, now: services.approve(c, a, reason=f, now=now)),
    "reject": (ReasonForm, lambda c, a, f, now: services.reject(c, a, reason=f, now=now)),
    "deduct_deposit": (
        ReasonForm,
        lambda c, a, f, now: deposits.deduct_deposit(c, a, now=now, reason=f),
    ),
    "deduct_deposit_partly": (
        ReasonForm,
        lambda c, a, f, now: deposits.deduct_deposit(c, a, now=now, reason=f),
    ),
    "reject_repayment_reference": (
        ReasonForm,
        lambda c, a, f, now: recovery.reject_repayment_reference(c, a, now=now, reason=f),
    ),
    "confirm_repayment": (
        ReferenceForm,
        lambda c, a, f, now: recovery.confirm_repayment(c, a, now=now, reference=f),
    ),
    "enter_reference": (
        ReferenceForm,
        lambda c, a, f, now: services.record_transfer_reference(c, f, a, now=now),
    ),
    "retry_payout": (EmptyForm, lambda c, a, f, now: services.schedule_payout(c)),
}


@bp.post("/console/fund/claims/<int:claim_id>/<action>")
def act(claim_id: int, action: str):
    claim = _claim_in_scope(claim_id)
    if action not in ACTIONS:
        abort(404)
    form_class, run = ACTIONS[action]
    form = form_class()
    if not form.validate_on_submit():
        return _render_claim(claim, 422, failed=action, failed_form=form)
    value = (form.reason.data if hasattr(form, "reason") else None) or (
        form.reference.data if hasattr(form, "reference") else ""
    )
    try:
        run(claim, _actor(), value, utcnow())
        db.session.commit()
    except TransitionRefused as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for(".claim_page", claim_id=claim_id), code=303)
    except (services.ClaimConflict, services.ReasonRequired, IntegrityError):
        # IntegrityError: a racing request wrote the same claim event or ledger key first.
        db.session.rollback()
        flash(_("Someone else acted on this claim first; here is where it stands now."), "error")
        return redirect(url_for(".claim_page", claim_id=claim_id), code=303)
    after_commit()  # the payout job runs now without a queue, or is queued
    flash(_("Done."), "success")
    return redirect(url_for(".claim_page", claim_id=claim_id), code=303)


@bp.post("/t/<tracking_key>/compensation")
def ask(tracking_key: str):
    """The tourist asks the fund to pay first, from the tracking page, saying where to pay."""
    case = case_for_tracking_key(tracking_key) or abort(404)
    back = redirect(url_for("cases.track", tracking_key=tracking_key) + "#compensation", 303)
    form = AskForm()
    if not form.validate_on_submit():
        return _tracking_again(case, tracking_key, form)
    try:
        services.request_claim(
            case,
            yuan_to_fen(form.amount.amount),
            Actor(Role.TOURIST),
            now=utcnow(),
            payee=form.payee,
        )
        db.session.commit()
    except services.ClaimRefused as refused:
        db.session.rollback()
        form.amount.errors = [str(reason.message) for reason in refused.reasons]
        return _tracking_again(case, tracking_key, form)
    except IntegrityError:
        db.session.rollback()  # a double tap: the first request made the claim
        return back
    after_commit()
    return back


@bp.post("/t/<tracking_key>/compensation/payee")
def give_payee(tracking_key: str):
    """A claim waiting for its payee account (asked before accounts were required)."""
    case = case_for_tracking_key(tracking_key) or abort(404)
    claim = services.live_claim(case.id) or abort(404)
    form = PayeeForm()
    if not form.validate_on_submit():
        return _tracking_again(case, tracking_key, form)
    try:
        services.set_payee(claim, form.payee, now=utcnow())
        db.session.commit()
    except services.ClaimConflict:
        db.session.rollback()
        flash(
            _("This claim has already been decided; the account can no longer change."),
            "compensation",
        )
    after_commit()
    return redirect(url_for("cases.track", tracking_key=tracking_key) + "#compensation", 303)


def _tracking_again(case, tracking_key: str, form):
    """The tracking page again with the compensation form as typed and its errors (422)."""
    return render_tracking(case, tracking_key, status=422, context={"compensation_form": form})
