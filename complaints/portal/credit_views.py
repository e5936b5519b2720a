"""The merchant's credit record: grade, score history, every entry behind it, credit repair.

Thin, like views.py. Every read is of `current_user.enterprise_id` (the merchant gate in
blueprints.py guarantees one), so no URL carries another enterprise's id; an entry id posted
in the repair form is checked against this enterprise by the credit service itself.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from complaints.credit import engine, repair
from complaints.credit.models import CreditRepairApplication, RepairState
from complaints.credit.policy import current_credit_policy
from complaints.credit.presenters import GRADE_COLOURS, kind_label, portal_context
from complaints.credit.queries import public_standing
from complaints.credit.services import CreditRuleError
from complaints.database import utcnow
from complaints.extensions import db
from complaints.forms import Form
from complaints.input_guard import is_id
from complaints.portal.blueprints import merchant_bp
from complaints.presentation import local_time

MAX_CORRECTIONS = 2000
MAX_COMMITMENT = 1000
DATE_ONLY = "yyyy-MM-dd"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RepairApplicationForm(Form):
    entry = SelectField(
        _l("Entry to repair"),
        choices=[],  # filled by the view from the merchant's own record
        # Any id reaches the service, which refuses another merchant's entry as "no such
        # entry" and one whose minimum period is not served with its date.
        validate_choice=False,
        validators=[DataRequired(_l("Choose the entry you ask to repair."))],
    )
    corrections = TextAreaField(
        _l("What you corrected"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Describe what you corrected.")),
            Length(max=MAX_CORRECTIONS),
        ],
    )
    commitment = TextAreaField(
        _l("Public credit commitment"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Make a public credit commitment.")),
            Length(max=MAX_COMMITMENT),
        ],
    )


REPAIR_STATE_LABELS = {
    RepairState.REQUESTED: _l("Waiting for the regulator"),
    RepairState.GRANTED: _l("Granted"),
    RepairState.REFUSED: _l("Refused"),
}


@dataclass(frozen=True)
class Candidate:
    """A negative entry that counts now and has not been repaired: what repair could cancel."""

    event: object  # CreditEvent
    available_from: datetime
    pending: bool

    def open_at(self, now: datetime) -> bool:
        return not self.pending and now >= self.available_from


def repair_candidates(history, pending_ids: set[int], now: datetime) -> list[Candidate]:
    """From the lines already loaded for the events table, so no second read of the events.

    Mirrors the checks of repair._repairable, which stays the authority when the form is sent:
    this list only decides what the page offers and which date it announces.
    """
    policy = current_credit_policy()
    lines = history.breakdown.lines
    repaired = {line.event.neutralises_id for line in lines if line.event.neutralises_id}
    candidates = []
    for line in lines:
        event = line.event
        if (
            line.active
            and engine.is_repairable_kind(event.kind, policy)
            and event.id not in repaired
        ):
            available = engine.repair_available_from(event, policy)
            candidates.append(Candidate(event, available, event.id in pending_ids))
    return candidates


def applications_of(enterprise_id: int) -> list[CreditRepairApplication]:
    return list(
        db.session.scalars(
            select(CreditRepairApplication)
            .where(CreditRepairApplication.enterprise_id == enterprise_id)
            .order_by(CreditRepairApplication.requested_at.desc(), CreditRepairApplication.id)
        )
    )


def _fill_entries(form: RepairApplicationForm, candidates: list[Candidate], now: datetime):
    # Entries not open yet stay visible but disabled, with their date, so the merchant learns
    # when to come back; a forced submission is refused by the service with the same date.
    choices = [SelectChoice("", _("Choose an entry"))]
    for candidate in candidates:
        event = candidate.event
        label = f"{local_time(event.occurred_at, DATE_ONLY)} · {kind_label(event.kind)} ({event.points:+d})"
        if candidate.pending:
            label = _("%(entry)s — application waiting", entry=label)
        elif not candidate.open_at(now):
            label = _(
                "%(entry)s — possible from %(date)s",
                entry=label,
                date=local_time(candidate.available_from, DATE_ONLY),
            )
        render_kw = {} if candidate.open_at(now) else {"disabled": True}
        choices.append(SelectChoice(str(event.id), label, render_kw=render_kw))
    form.entry.choices = choices
    return form


def _render_credit(form: RepairApplicationForm | None = None, refusal=None, status: int = 200):
    now = utcnow()
    enterprise_id = current_user.enterprise_id
    context = portal_context(enterprise_id, now)
    applications = applications_of(enterprise_id)
    pending = {a.credit_event_id for a in applications if a.state is RepairState.REQUESTED}
    candidates = repair_candidates(context["history"], pending, now)
    form = _fill_entries(form or RepairApplicationForm(formdata=None), candidates, now)
    policy = current_credit_policy()
    listing = repair.current_listing(enterprise_id, now)
    return render_template(
        "portal/credit.html",
        standing=public_standing(enterprise_id, now),
        grade_colours=GRADE_COLOURS,
        listing=listing,
        early_removal_from=(policy.early_removal_from(listing.occurred_at) if listing else None),
        candidates=candidates,
        can_apply=any(c.open_at(now) for c in candidates),
        now=now,
        applications=applications,
        state_labels=REPAIR_STATE_LABELS,
        form=form,
        refusal=refusal,
        date_only=DATE_ONLY,
        max_corrections=MAX_CORRECTIONS,
        max_commitment=MAX_COMMITMENT,
        **context,
    ), status


@merchant_bp.get("/credit")
def credit():
    return _render_credit()


@merchant_bp.post("/credit/repair")
def apply_repair():
    account = current_user
    form = RepairApplicationForm()
    valid = form.validate_on_submit()
    if valid and not is_id(form.entry.data):
        form.entry.errors = [_("Choose the entry you ask to repair.")]
        valid = False
    if not valid:
        return _render_credit(form, status=422)
    try:
        repair.apply_for_repair(
            account.enterprise_id,
            int(form.entry.data),
            corrections=form.corrections.data,
            commitment=form.commitment.data,
            actor=f"{account.role.value}:{account.id}",
            now=utcnow(),
        )
        db.session.commit()
    except CreditRuleError as refused:
        db.session.rollback()
        return _render_credit(form, refusal=str(refused.message), status=409)
    except IntegrityError:
        # The one-open-application index: a second click raced the first one.
        db.session.rollback()
        message = _("An application to repair this entry is already waiting.")
        return _render_credit(form, refusal=message, status=409)
    flash(_("Your application was sent to the market regulator."), "success")
    return redirect(url_for(".credit", _anchor="applications"), code=303)
