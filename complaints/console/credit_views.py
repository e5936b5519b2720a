"""Console routes for merchants' credit: search, the record, the serious list, repair decisions.

On the console blueprint (imported by complaints.app before the blueprint is registered), so
the staff-only gate of views.py runs first. A regulator reaches a merchant only through
`merchant_for_regulator`: merchants of the agency's city or county, 404 for every other one,
so another agency cannot even learn what is on a record. Decisions are credit events recorded
by complaints.credit.repair; nothing here edits an earlier entry.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from complaints.accounts.models import Account, AccountRole
from complaints.accounts.permissions import may_decide_repair
from complaints.console.views import bp
from complaints.credit import repair
from complaints.credit.models import CreditRepairApplication, MerchantScore, RepairState
from complaints.credit.policy import current_credit_policy
from complaints.credit.presenters import GRADE_COLOURS, portal_context
from complaints.credit.queries import public_standing
from complaints.credit.services import CreditRuleError
from complaints.database import utcnow
from complaints.extensions import db
from complaints.forms import Form
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise
from complaints.replica import reads_from_replica

MAX_REASON = 2000
SEARCH_LIMIT = 50
DATE_ONLY = "yyyy-MM-dd"
# SAMR Order No. 44 list decisions follow a heavier penalty decision: not a handler's call alone.
LIST_DECIDERS = frozenset({AccountRole.SUPERVISOR, AccountRole.ADMIN})


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MerchantSearchForm(Form):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(
        _l("Name or enterprise code (USCC)"),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
    )


class ReasonForm(Form):
    reason = TextAreaField(
        _l("Reason"),
        filters=[_strip],
        validators=[DataRequired(_l("Give the reason for this decision.")), Length(max=MAX_REASON)],
    )


# --- scoped reads -----------------------------------------------------------------------------


def jurisdiction_codes(account: Account) -> list[str]:
    """Division codes whose city (Division.city_code) is the agency's own division.

    A division's city is its own code or its first four digits + "00", so the candidates are
    found by that prefix and the property itself decides, keeping one definition of "city".
    """
    code = account.agency.division_code
    divisions = db.session.scalars(
        select(Division).where(or_(Division.code == code, Division.code.startswith(code[:4])))
    )
    return [division.code for division in divisions if division.city_code == code]


def merchant_for_regulator(uscc: str, account: Account) -> Enterprise:
    """The merchant, if it is in the account's agency's jurisdiction; otherwise 404."""
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc.upper()))
    if enterprise is None or enterprise.division_code not in jurisdiction_codes(account):
        abort(404)
    return enterprise


def application_for_regulator(enterprise: Enterprise, application_id: int):
    application = db.session.get(CreditRepairApplication, application_id)
    if application is None or application.enterprise_id != enterprise.id:
        abort(404)
    return application


def search_merchants(account: Account, q: str | None):
    """(enterprise, score row or None) of the jurisdiction, by name or code, at most 50."""
    query = (
        select(Enterprise, MerchantScore)
        .outerjoin(MerchantScore, MerchantScore.enterprise_id == Enterprise.id)
        .where(Enterprise.division_code.in_(jurisdiction_codes(account)))
        .order_by(Enterprise.name_zh, Enterprise.id)
        .limit(SEARCH_LIMIT)
    )
    if q:
        query = query.where(
            or_(
                Enterprise.name_zh.contains(q, autoescape=True),
                func.lower(Enterprise.name_en).contains(q.lower(), autoescape=True),
                Enterprise.uscc.startswith(q.upper(), autoescape=True),
            )
        )
    return db.session.execute(query).all()


# --- pages ------------------------------------------------------------------------------------


@bp.get("/merchants")
@reads_from_replica
def merchant_search():
    form = MerchantSearchForm(request.args)
    valid = form.validate()
    rows = search_merchants(current_user, form.q.data) if valid else []
    return render_template(
        "console/merchants.html",
        form=form,
        rows=rows,
        agency=current_user.agency,
        limit=SEARCH_LIMIT,
        grade_colours=GRADE_COLOURS,
    ), (200 if valid else 400)


@bp.get("/merchants/<uscc>")
def merchant_credit(uscc: str):
    return _render_merchant(merchant_for_regulator(uscc, current_user))


def _render_merchant(enterprise: Enterprise, *, failed=None, refusal=None, status: int = 200):
    """The record; `failed` is (form key, form) of the decision tried, `refusal` its message."""
    now = utcnow()
    account = current_user
    policy = current_credit_policy()
    context = portal_context(enterprise.id, now)
    listing = repair.current_listing(enterprise.id, now)
    applications = list(
        db.session.scalars(
            select(CreditRepairApplication)
            .where(CreditRepairApplication.enterprise_id == enterprise.id)
            .order_by(CreditRepairApplication.requested_at.desc(), CreditRepairApplication.id)
        )
    )

    def form_for(key: str) -> ReasonForm:
        if failed is not None and failed[0] == key:
            return failed[1]
        return ReasonForm(formdata=None, prefix=key)

    pending = [
        (application, form_for(f"repair-{application.id}"))
        for application in applications
        if application.state is RepairState.REQUESTED
    ]
    return render_template(
        "console/merchant.html",
        enterprise=enterprise,
        division=db.session.get(Division, enterprise.division_code),
        standing=public_standing(enterprise.id, now),
        grade_colours=GRADE_COLOURS,
        listing=listing,
        early_removal_from=(policy.early_removal_from(listing.occurred_at) if listing else None),
        can_decide_list=account.role in LIST_DECIDERS,
        serious_form=form_for("serious"),
        removal_form=form_for("removal"),
        pending=pending,
        decided=[a for a in applications if a.state is not RepairState.REQUESTED],
        refusal=refusal,
        refused_key=failed[0] if failed else None,
        # A refusal about an application decided meanwhile has no form left to sit beside.
        refused_elsewhere=bool(
            refusal
            and failed
            and failed[0] not in {"serious", "removal"}
            and failed[0] not in {f"repair-{a.id}" for a, _form in pending}
        ),
        date_only=DATE_ONLY,
        locale=str(get_locale() or "zh"),
        **context,
    ), status


# --- decisions --------------------------------------------------------------------------------


def _actor(account: Account) -> str:
    return f"{account.role.value}:{account.id}"


def _decide(
    uscc: str, key: str, decision, *, list_decision: bool, done: str, grants_repair: bool = False
):
    """Scope, role, form, service, commit, redirect: the same steps for every decision.

    `decision(enterprise, reason, actor, now)` calls the credit service; its CreditRuleError
    is a refusal about the record's state (409), an invalid form one about what was typed (422).
    """
    account = current_user
    enterprise = merchant_for_regulator(uscc, account)
    form = ReasonForm(prefix=key)
    if list_decision and account.role not in LIST_DECIDERS:
        message = _("Only a supervisor or an administrator decides on the serious list.")
        return _render_merchant(enterprise, failed=(key, form), refusal=message, status=403)
    if grants_repair and not may_decide_repair(account):
        message = _("Only a supervisor or an administrator grants a credit repair.")
        return _render_merchant(enterprise, failed=(key, form), refusal=message, status=403)
    if not form.validate_on_submit():
        return _render_merchant(enterprise, failed=(key, form), status=422)
    try:
        decision(enterprise, form.reason.data, _actor(account), utcnow())
        db.session.commit()
    except CreditRuleError as refused:
        db.session.rollback()
        enterprise = merchant_for_regulator(uscc, account)
        return _render_merchant(
            enterprise, failed=(key, form), refusal=str(refused.message), status=409
        )
    except IntegrityError:
        # A one-per-entry constraint: another regulator decided the same thing a moment ago.
        db.session.rollback()
        enterprise = merchant_for_regulator(uscc, account)
        message = _("This record changed while you were looking at it. Reload and try again.")
        return _render_merchant(enterprise, failed=(key, form), refusal=message, status=409)
    flash(done() if callable(done) else done, "success")
    return redirect(url_for("console.merchant_credit", uscc=enterprise.uscc), code=303)


@bp.post("/merchants/<uscc>/serious")
def merchant_mark_serious(uscc: str):
    def decision(enterprise, reason, actor, now):
        repair.mark_serious(enterprise.id, actor, reason, now)

    done = _("The merchant is on the serious list; its grade is held at D.")
    return _decide(uscc, "serious", decision, list_decision=True, done=done)


@bp.post("/merchants/<uscc>/serious/remove")
def merchant_remove_serious(uscc: str):
    def decision(enterprise, reason, actor, now):
        repair.remove_from_serious_list(enterprise.id, actor, reason, now)

    done = _("The merchant was removed early from the serious list.")
    return _decide(uscc, "removal", decision, list_decision=True, done=done)


@bp.post("/merchants/<uscc>/repairs/<int:application_id>/<verdict>")
def merchant_decide_repair(uscc: str, application_id: int, verdict: str):
    if verdict not in ("grant", "refuse"):
        abort(404)
    # Scope before anything else: an application of another merchant is a 404, like a missing one.
    application = application_for_regulator(
        merchant_for_regulator(uscc, current_user), application_id
    )

    outcome = {}

    def decision(enterprise, reason, actor, now):
        if verdict == "grant":
            outcome["event"] = repair.grant_repair(
                application.id, actor=actor, reason=reason, now=now
            )
        else:
            repair.refuse_repair(application.id, actor=actor, reason=reason, now=now)

    def done():
        if verdict == "refuse":
            return _("Repair refused.")
        if outcome.get("event") is None:  # a serious entry: the first of two approvals
            return _(
                "Your approval is recorded. A repair of a serious entry takes effect when a "
                "second supervisor or administrator grants it too."
            )
        return _("Repair granted.")

    return _decide(
        uscc,
        f"repair-{application.id}",
        decision,
        list_decision=False,
        done=done,
        grants_repair=verdict == "grant",
    )
