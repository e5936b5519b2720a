"""Console routes for what other features attach to a case: the merchant's dispute evidence,
the message thread, possible duplicates and the delivery log. Thin, like views.py, and on
the same blueprint, so the same staff-only gate runs first; every case is reached through
the scoped lookups in complaints.console.queries (404 for another agency's).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from complaints.cases.evidence import send_evidence_file
from complaints.console import deliveries, panels, queries, services
from complaints.console.forms import MergeForm, MessageForm
from complaints.console.views import bp, render_case
from complaints.database import utcnow
from complaints.duplicates.services import MergeRefused, dismiss, merge
from complaints.extensions import db
from complaints.notices.history import ResendRefused, resend
from complaints.outbox.services import after_commit
from complaints.portal import services as portal
from complaints.portal.messages import MessageRefused
from complaints.replica import reads_from_replica
from workflows.machine import TransitionRefused


@bp.get("/cases/<number>/dispute-evidence/<int:item_id>")
def dispute_evidence(number: str, item_id: int):
    item = queries.dispute_evidence_for_regulator(number, item_id, current_user)
    return send_evidence_file(item.stored_name, item.content_type)


@bp.post("/cases/<number>/messages")
def post_message(number: str):
    account = current_user
    case = queries.case_for_regulator(number, account)
    form = MessageForm()
    if not form.validate_on_submit():
        return render_case(case, message_form=form, status=422)
    try:
        portal.post_message(
            case,
            account.role.workflow_role,
            form.body.data,
            now=utcnow(),
            author=account,
            audiences=form.audiences,
        )
        db.session.commit()
    except MessageRefused as refused:
        db.session.rollback()
        return _refused(number, str(refused.message))
    after_commit()
    flash(_("Message posted."), "success")
    return redirect(url_for("console.case_page", number=number, _anchor="messages"), code=303)


@bp.post("/cases/<number>/duplicates/<int:flag_id>/merge")
def merge_duplicate(number: str, flag_id: int):
    account = current_user
    flag, case, other = queries.flag_for_regulator(number, flag_id, account)
    form = MergeForm()
    if not form.validate_on_submit() or form.keep.data not in (case.number, other.number):
        abort(400, description=_("Choose which of the two cases to keep."))
    keep, copy = (case, other) if form.keep.data == case.number else (other, case)
    if flag.resolution is not None:
        return _refused(number, _("Someone already judged this pair. Reload the page."))
    try:
        merge(copy, keep, services.actor_for(account), now=utcnow())
        db.session.commit()
    except (MergeRefused, TransitionRefused, StaleDataError) as refused:
        db.session.rollback()
        return _refused(number, _refusal_message(refused))
    after_commit()
    flash(_("Merged %(copy)s into %(keep)s.", copy=copy.number, keep=keep.number), "success")
    return redirect(url_for("console.case_page", number=keep.number), code=303)


@bp.post("/cases/<number>/duplicates/<int:flag_id>/dismiss")
def dismiss_duplicate(number: str, flag_id: int):
    account = current_user
    flag, _case, _other = queries.flag_for_regulator(number, flag_id, account)
    if account.role.workflow_role not in panels.DUPLICATE_JUDGES:
        return _refused(number, _("Only a handler or supervisor judges possible duplicates."))
    if flag.resolution is not None:
        return _refused(number, _("Someone already judged this pair. Reload the page."))
    dismiss(flag, services.actor_for(account), now=utcnow())
    db.session.commit()
    flash(_("Marked as not a duplicate."), "success")
    return redirect(url_for("console.case_page", number=number, _anchor="duplicates"), code=303)


@bp.post("/notifications/<int:notification_id>/resend")
def resend_notification(notification_id: int):
    account = current_user
    notification, case = queries.notification_for_regulator(notification_id, account)
    number = case.number
    back_to_log = request.form.get("back") == "log"
    try:
        resend(notification.id, f"account:{account.id}", now=utcnow())
        db.session.commit()
    except ResendRefused as refused:
        db.session.rollback()
        if back_to_log:
            return _render_log(refusal=_(str(refused)), status=409)
        return _refused(number, _(str(refused)))
    after_commit()
    flash(_("The message was queued again."), "success")
    if back_to_log:
        return redirect(url_for("console.notifications"), code=303)
    return redirect(url_for("console.case_page", number=number, _anchor="deliveries"), code=303)


@bp.get("/notifications")
@reads_from_replica
def notifications():
    return _render_log()


def _render_log(*, refusal=None, status: int = 200):
    before = request.args.get("before", type=int)
    page = deliveries.agency_log_page(current_user.agency_id, before)
    if page is None:
        abort(400, description=_("This page link is damaged or out of date."))
    return render_template(
        "console/notifications.html",
        agency=current_user.agency,
        rows=page.rows,
        next_url=url_for("console.notifications", before=page.next_before)
        if page.next_before
        else None,
        first_url=url_for("console.notifications") if before else None,
        refusal=refusal,
    ), status


def _refused(number: str, message: str):
    """The case page again, with why nothing was done, as the action routes answer (409)."""
    return render_case(
        queries.case_for_regulator(number, current_user), refusal=message, status=409
    )


def _refusal_message(refused: Exception) -> str:
    if isinstance(refused, StaleDataError):
        return _("One of the cases changed while you were looking at it. Reload and try again.")
    if isinstance(refused, TransitionRefused):
        return refused.message
    return _(str(refused))  # MergeRefused: an English msgid marked with N_
