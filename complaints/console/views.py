"""The regulator console. Thin: parse, call a query or service, commit, render.

Every route sits behind `_staff_only` (signed in, regulator role) and reaches a case only
through `queries.case_for_regulator`, which answers 404 for another agency's case.
"""

from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from complaints.alerts.services import open_count as open_alert_count
from complaints.cases.evidence import send_evidence_file
from complaints.cases.models import Case
from complaints.cases.workflow import available_actions
from complaints.categories import Category
from complaints.console import panels, presenters, queries, services, worklist
from complaints.console.forms import (
    CONSOLE_TRIGGERS,
    MessageForm,
    QueueFilterForm,
    action_form,
    transition_named,
)
from complaints.database import utcnow
from complaints.extensions import db
from complaints.outbox.services import after_commit
from complaints.replica import reads_from_replica
from complaints.timers.services import open_deadline_for
from workflows.machine import RefusalCode, TransitionRefused
from workflows.states import CaseState

bp = Blueprint("console", __name__, url_prefix="/console")

# Refusals about what was typed (422) rather than about the case's state (409).
FIELD_REFUSALS = {RefusalCode.REASON_REQUIRED, RefusalCode.GROUND_REQUIRED, RefusalCode.BAD_GROUND}


@bp.before_request
@login_required
def _staff_only():
    # One gate for the whole blueprint, so no route can be added without it.
    if not current_user.role.is_regulator or current_user.agency_id is None:
        abort(403)


def _locale() -> str:
    return str(get_locale() or "zh")


@bp.get("/")
@reads_from_replica
def queue():
    account = current_user
    agency = account.agency
    form = _filter_form(agency)
    if not form.validate():
        return _render_queue(form, queries.QueuePage(), agency), 400
    filters = worklist.tab_filters(form.filters(), form.tab.data, account)
    if form.sort.data != "deadline":
        number = form.page.data or 1
        page = worklist.sorted_page(agency.id, filters, form.sort.data, number, queries.PAGE_SIZE)
        return _render_queue(form, page, agency, page_number=number)
    after = None
    if request.args.get("after"):
        try:
            after = queries.decode_cursor(request.args["after"])
        except queries.BadCursor:
            abort(
                400,
                description=_(
                    "This page link is damaged or out of date. Go back to the first page of the queue."
                ),
            )
    page = queries.queue_page(agency.id, filters, after)
    return _render_queue(form, page, agency, first_page=after is None)


def _filter_form(agency) -> QueueFilterForm:
    form = QueueFilterForm(request.args)
    any_choice = SelectChoice("", _("Any"))
    form.state.choices = [any_choice] + [
        SelectChoice(s.value, presenters.STATE_LABELS[s]) for s in CaseState
    ]
    form.category.choices = [any_choice] + [SelectChoice(c.value, c.label) for c in Category]
    form.division.choices = [any_choice] + [
        SelectChoice(d.code, d.name(_locale())) for d in queries.divisions_of(agency)
    ]
    return form


def filter_args() -> dict[str, str]:
    """The queue's filters as query arguments, without the page position."""
    return {k: v for k, v in request.args.items() if k not in ("after", "page", "lang") and v}


def _render_queue(form, page, agency, first_page=True, page_number=None):
    now = utcnow()
    rows = [(row, presenters.deadline_view(row.deadline, now)) for row in page.rows]
    args = filter_args()
    if page_number is not None:  # a sorted listing: numbered pages
        has_next = getattr(page, "has_next", False)
        next_url = url_for("console.queue", **args, page=page_number + 1) if has_next else None
        first_page = page_number == 1
    else:
        next_url = (
            url_for("console.queue", **args, after=page.next_cursor) if page.next_cursor else None
        )
    loads = worklist.open_loads(agency.id)  # the tab counts and the assign form's loads
    return render_template(
        "console/queue.html",
        form=form,
        rows=rows,
        agency=agency,
        next_url=next_url,
        first_url=None if first_page else url_for("console.queue", **args),
        labels=presenters,
        tabs=worklist.TABS,
        counts=loads.tab_counts(current_user.id),
        open_alerts=open_alert_count(agency.id),
        tab_url=lambda tab: url_for("console.queue", **{**args, "tab": tab}),
        export_url=lambda fmt: url_for("console.export_queue", fmt=fmt, **args),
        bulk_form=worklist_views.bulk_form(agency, loads=loads),
        saved=worklist_views.saved_filters_of(current_user),
        save_form=worklist_views.SavedFilterForm(formdata=None, query=urlencode(args)),
    )


@bp.get("/cases/<number>")
def case_page(number: str):
    case = queries.case_for_regulator(number, current_user)
    return render_case(case)


def render_case(case: Case, *, failed=None, refusal=None, status: int = 200, message_form=None):
    """The case page; `failed` is the action form that was tried and its `refusal` message
    (a refusal without a form is shown at the top); `message_form` one that did not validate."""
    now = utcnow()
    account = current_user
    forms = []
    for transition in available_actions(case, account.role.workflow_role, now):
        if transition.trigger not in CONSOLE_TRIGGERS:
            continue
        if failed is not None and failed.trigger_name == transition.trigger:
            forms.append((transition, failed))
        else:
            forms.append((transition, _form_for(transition, case)))
    return render_template(
        "console/case.html",
        case=case,
        deadline=presenters.deadline_view(open_deadline_for(case.id), now),
        timeline=presenters.timeline(case),
        actions=forms,
        refusal=refusal,
        refused_trigger=failed.trigger_name if failed is not None else None,
        labels=presenters,
        panels=panels.case_panels(case, account, _locale()),
        panel_labels=panels,
        message_form=message_form or MessageForm(formdata=None),
    ), status


def _form_for(transition, case):
    agencies = queries.other_agencies(case.agency_id) if transition.trigger == "transfer" else ()
    handlers = worklist.handlers_with_load(case.agency_id) if transition.trigger == "assign" else ()
    return action_form(transition, agencies=agencies, handlers=handlers, locale=_locale())


@bp.post("/cases/<number>/actions/<trigger>")
def act(number: str, trigger: str):
    account = current_user
    case = queries.case_for_regulator(number, account)
    transition = transition_named(trigger) or abort(404)
    form = _form_for(transition, case)
    now = utcnow()
    try:
        services.ensure_available(case, trigger, account, now)
    except TransitionRefused as refused:
        return render_case(case, failed=form, refusal=refused.message, status=409)
    if not form.validate_on_submit():
        return render_case(case, failed=form, status=422)
    try:
        services.perform(case, trigger, account, _action_input(form), now)
        db.session.commit()
    except TransitionRefused as refused:
        db.session.rollback()
        case = queries.case_for_regulator(number, account)
        status = 422 if refused.code in FIELD_REFUSALS else 409
        return render_case(case, failed=form, refusal=refused.message, status=status)
    except StaleDataError:
        # Someone else acted on this case between our read and our write: nothing was saved.
        db.session.rollback()
        case = queries.case_for_regulator(number, account)
        message = _("This case changed while you were looking at it. Reload and try again.")
        return render_case(case, failed=form, refusal=message, status=409)
    after_commit()
    flash(_("Done: %(action)s.", action=presenters.TRIGGER_LABELS.get(trigger, trigger)), "success")
    return redirect(url_for("console.case_page", number=case.number), code=303)


def _action_input(form) -> services.ActionInput:
    def value(name):
        field = getattr(form, name, None)
        return field.data if field is not None else None

    reason = (value("reason") or "").strip() or None
    return services.ActionInput(
        reason=reason,
        ground=value("ground") or None,
        handler_id=int(value("handler")) if value("handler") else None,
        agency_id=int(value("agency")) if value("agency") else None,
        amount=form.amount.amount if hasattr(form, "amount") else None,
        terms=(value("terms") or "").strip() or None,
    )


@bp.get("/evidence/<int:evidence_id>")
def evidence(evidence_id: int):
    item = queries.evidence_for_regulator(evidence_id, current_user)
    return send_evidence_file(item.stored_name, item.content_type)


# The routes for what other features attach to a case live in their own module to keep this
# one short; importing it last registers them on `bp`, which it takes from here.
from complaints.console import extras_views, worklist_views  # noqa: E402, F401
