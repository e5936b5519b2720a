"""Admin screens for dated policy versions and the working-day calendar's corrections."""

import json
from dataclasses import fields, is_dataclass
from datetime import UTC

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from complaints.admin.audit import record_change
from complaints.admin.forms import CalendarDayForm, CalendarYearForm, PolicyForm
from complaints.admin.views import _actor, _admin_only, bp
from complaints.clock import LOCAL_ZONE, local_today
from complaints.database import utcnow
from complaints.extensions import db
from complaints.policies import services as policies
from complaints.timers.models import CalendarOverride, CalendarYear
from complaints.timers.services import (
    current_calendar,
    current_policy,
    declare_year_complete,
    set_calendar_day,
)


def _shown(policy) -> list[tuple[str, str]]:
    policy = getattr(policy, "province", policy)  # a workflow PolicySet shows the province's
    if not is_dataclass(policy):
        return []
    shown = []
    for f in fields(policy):
        value = getattr(policy, f.name)
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        shown.append((f.name, str(value)))
    return shown


def _in_force(kind: str, now):
    """The province's time limits (its scopes show in the environment values), or credit."""
    if kind == policies.WORKFLOW:
        return current_policy(at=now)
    return policies.policy_at(kind, now)


def _render_policies(form=None, status=200):
    now = utcnow()
    kinds = []
    for kind in (policies.WORKFLOW, policies.CREDIT):
        version = policies.version_at(kind, now)
        kinds.append(
            {
                "kind": kind,
                "values": _shown(_in_force(kind, now)),
                "environment": json.dumps(policies.environment_values(kind), ensure_ascii=False),
                "current": version,
                "history": policies.history(kind),
            }
        )
    if form is None:
        form = PolicyForm(formdata=None)
        current = policies.version_at(policies.WORKFLOW, now)
        form.values.data = json.dumps(current.values if current else {}, ensure_ascii=False)
        form.effective_from.data = now.astimezone(LOCAL_ZONE).replace(
            tzinfo=None, second=0, microsecond=0
        )
    return render_template("admin/policies.html", kinds=kinds, form=form), status


@bp.get("/policies")
def policies_page():
    _admin_only()
    return _render_policies()


@bp.post("/policies")
def add_policy_version():
    _admin_only()
    form = PolicyForm()
    if not form.validate_on_submit():
        return _render_policies(form, 422)
    try:
        values = json.loads(form.values.data)
        effective = form.effective_from.data.replace(tzinfo=LOCAL_ZONE)
        version = policies.add_version(
            form.kind.data,
            values,
            effective,
            _actor().label,
            form.reason.data.strip(),
        )
    except (json.JSONDecodeError, policies.PolicyRefused) as refused:
        db.session.rollback()
        form.values.errors.append(str(refused))
        return _render_policies(form, 422)
    record_change(
        _actor(),
        "policy",
        form.kind.data,
        "version",
        before=None,
        after={
            "values": values,
            "effective_from": version.effective_from.astimezone(UTC).isoformat(),
        },
        reason=form.reason.data.strip(),
    )
    db.session.commit()
    flash(_("The new values apply to what starts from the time given."), "success")
    return redirect(url_for("admin.policies_page"), code=303)


def _render_calendar(day_form=None, year_form=None, status=200):
    year = request.args.get("year", type=int) or local_today().year
    overrides = [
        row
        for row in db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))
        if row.day.year == year
    ]
    return render_template(
        "admin/calendar.html",
        year=year,
        overrides=overrides,
        official=current_calendar().is_official(year),
        complete=db.session.get(CalendarYear, year),
        day_form=day_form or CalendarDayForm(formdata=None),
        year_form=year_form or CalendarYearForm(formdata=None, year=year),
    ), status


@bp.get("/calendar")
def calendar_page():
    _admin_only()
    return _render_calendar()


@bp.post("/calendar/days")
def set_day():
    _admin_only()
    form = CalendarDayForm()
    if not form.validate_on_submit():
        return _render_calendar(day_form=form, status=422)
    old = db.session.get(CalendarOverride, form.day.data)
    before = {"working": old.is_working_day, "note": old.note} if old else None
    working = form.kind.data == "working"
    set_calendar_day(
        form.day.data, working=working, note=form.note.data.strip(), actor=_actor().label
    )
    record_change(
        _actor(),
        "calendar",
        form.day.data.isoformat(),
        "set",
        before=before,
        after={"working": working, "note": form.note.data.strip()},
        reason=form.note.data.strip(),
    )
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("admin.calendar_page", year=form.day.data.year), code=303)


@bp.post("/calendar/years")
def complete_year():
    _admin_only()
    form = CalendarYearForm()
    if not form.validate_on_submit():
        return _render_calendar(year_form=form, status=422)
    declare_year_complete(form.year.data, note=form.note.data.strip(), actor=_actor().label)
    record_change(
        _actor(),
        "calendar",
        str(form.year.data),
        "complete",
        before=None,
        after={"complete": True},
        reason=form.note.data.strip(),
    )
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("admin.calendar_page", year=form.year.data), code=303)
