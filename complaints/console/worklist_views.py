"""Queue routes for working many cases at once: bulk actions, saved views and exports.

On the console blueprint (same staff-only gate). Bulk actions call the case page's own
services case by case, so each leaves the audit event or message it would leave one at a time.
"""

from urllib.parse import parse_qsl, urlencode

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from complaints.console import presenters, queries, services, worklist
from complaints.console.forms import BulkForm, SavedFilterForm
from complaints.console.models import SavedFilter
from complaints.console.views import _filter_form, _locale, bp
from complaints.database import utcnow
from complaints.exports.streams import csv_stream, xlsx_stream
from complaints.extensions import db
from complaints.outbox.services import after_commit
from complaints.presentation import fen_to_yuan
from complaints.replica import reads_from_replica

__all__ = ["SavedFilterForm", "bulk_form", "saved_filters_of"]


def bulk_form(agency, formdata=None, loads: worklist.OpenLoads | None = None) -> BulkForm:
    form = BulkForm(formdata=formdata) if formdata is not None else BulkForm(formdata=None)
    form.handler.choices = [SelectChoice("", _("Choose a handler"))] + [
        SelectChoice(str(h.id), _("%(name)s (%(n)d open)", name=h.name, n=load))
        for h, load in worklist.handlers_with_load(agency.id, loads)
    ]
    form.agency.choices = [SelectChoice("", _("Choose an agency"))] + [
        SelectChoice(str(a.id), a.name(_locale())) for a in queries.other_agencies(agency.id)
    ]
    return form


@bp.post("/bulk")
def bulk():
    account = current_user
    form = bulk_form(account.agency, formdata=request.form)
    numbers = [n.strip() for n in request.form.getlist("numbers") if n.strip()]
    back = request.form.get("back") or url_for("console.queue")
    if not back.startswith("/console/"):
        back = url_for("console.queue")
    if not form.validate():
        problems = [
            str(e) for f in (form.action, form.handler, form.agency, form.note) for e in f.errors
        ]
        flash(" ".join(problems), "error")
        return redirect(back, code=303)
    if not numbers:
        flash(_("Tick at least one case."), "error")
        return redirect(back, code=303)
    if len(numbers) > worklist.MAX_BULK:
        flash(_("At most %(n)d cases at once.", n=worklist.MAX_BULK), "error")
        return redirect(back, code=303)
    note = (form.note.data or "").strip() or None
    data = services.ActionInput(
        reason=note,
        handler_id=int(form.handler.data) if form.handler.data else None,
        agency_id=int(form.agency.data) if form.agency.data else None,
    )
    result = worklist.bulk_act(numbers, form.action.data, account, data, utcnow())
    db.session.commit()
    after_commit()
    label = worklist.BULK_ACTIONS[form.action.data]
    if result.done:
        flash(_("%(action)s: done for %(n)d cases.", action=label, n=len(result.done)), "success")
    for number, why in result.refused:
        flash(_("%(number)s not changed: %(why)s", number=number, why=why), "error")
    return redirect(back, code=303)


# --- saved views ----------------------------------------------------------------------------


def saved_filters_of(account) -> list[tuple[SavedFilter, str]]:
    rows = db.session.scalars(
        select(SavedFilter).where(SavedFilter.account_id == account.id).order_by(SavedFilter.name)
    )
    return [(row, url_for("console.queue") + "?" + row.query) for row in rows]


def _clean_query(raw: str) -> str:
    """Only the queue's own filter arguments survive into a saved view."""
    allowed = {"state", "category", "division", "merchant", "q", "tab", "sort"}
    pairs = [(k, v) for k, v in parse_qsl(raw or "") if k in allowed and v]
    return urlencode(pairs)


@bp.post("/saved-filters")
def save_filter():
    form = SavedFilterForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.name.errors) or _("Give the view a name."), "error")
        return redirect(url_for("console.queue"), code=303)
    query = _clean_query(form.query.data)
    name = form.name.data.strip()
    existing = db.session.scalar(
        select(SavedFilter).where(
            SavedFilter.account_id == current_user.id, SavedFilter.name == name
        )
    )
    if existing is not None:
        existing.query = query
    else:
        db.session.add(SavedFilter(account_id=current_user.id, name=name, query=query))
    db.session.commit()
    flash(_("View saved: %(name)s", name=name), "success")
    return redirect(url_for("console.queue") + ("?" + query if query else ""), code=303)


@bp.post("/saved-filters/<int:filter_id>/delete")
def delete_filter(filter_id: int):
    form = SavedFilterForm(formdata=None)
    if not form.validate_on_submit() and form.csrf_token.errors:
        abort(400, description=_("The form expired. Reload the page and try again."))
    row = db.session.get(SavedFilter, filter_id)
    if row is None or row.account_id != current_user.id:
        abort(404)
    db.session.delete(row)
    db.session.commit()
    flash(_("View deleted."), "success")
    return redirect(url_for("console.queue"), code=303)


# --- exports --------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "case",
    "state",
    "category",
    "merchant",
    "enterprise_code",
    "district",
    "filed_at",
    "handler",
    "escalated",
    "amount_paid_cny",
    "amount_claimed_cny",
    "deadline",
    "due_at",
)


def _export_rows(batch, locale: str):
    handler_names = {}
    for row in batch:
        case, deadline = row.case, row.deadline
        if case.handler_id and case.handler_id not in handler_names:
            handler_names[case.handler_id] = case.handler.name
        yield (
            case.number,
            str(presenters.STATE_LABELS[case.state]),
            str(case.category.label),
            case.enterprise.name(locale),
            case.enterprise.uscc,
            case.division.name(locale),
            case.created_at.isoformat(timespec="seconds"),
            handler_names.get(case.handler_id, ""),
            "yes" if case.escalated else "",
            str(fen_to_yuan(case.amount_paid_fen)),
            str(fen_to_yuan(case.amount_claimed_fen)),
            deadline.kind.value if deadline else "",
            deadline.due_at.isoformat(timespec="seconds") if deadline else "",
        )


@bp.get("/export.<fmt>")
@reads_from_replica
def export_queue(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    account = current_user
    agency = account.agency
    form = _filter_form(agency)
    if not form.validate():
        fields = ", ".join(
            f"{f.label.text}: {' '.join(map(str, f.errors))}" for f in form if f.errors
        )
        abort(400, description=_("Check the filters: %(fields)s", fields=fields))
    filters = worklist.tab_filters(form.filters(), form.tab.data, account)
    agency_id, locale, sort = agency.id, _locale(), form.sort.data

    def batches():
        for batch in worklist.batches(agency_id, filters, sort):
            rows = list(_export_rows(batch, locale))
            worklist.release(batch)  # flat memory: nothing of a written batch stays mapped
            yield rows

    stamp = utcnow().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        body, mimetype = csv_stream(EXPORT_COLUMNS, batches()), "text/csv; charset=utf-8"
    else:
        body = xlsx_stream(EXPORT_COLUMNS, batches(), sheet_name="cases")
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        stream_with_context(body),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="cases-{stamp}.{fmt}"'},
    )
