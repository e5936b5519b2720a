"""The tourist's tracking page and what the tourist adds there (evidence after filing).

Registered on the cases blueprint (imported at the end of complaints.cases.views). Thin:
parse, call a service, render.
"""

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from complaints.cases.added_evidence import (
    TOURIST_KIND_LABELS,
    add_evidence,
    can_add_evidence,
)
from complaints.cases.evidence import EvidenceRejected, send_evidence_file
from complaints.cases.models import Case, Evidence, EvidenceKind
from complaints.cases.presenters import tracking_view
from complaints.cases.services import case_for_tracking_key
from complaints.cases.views import bp
from complaints.database import utcnow
from complaints.extensions import db
from complaints.privacy.services import current_policy as current_retention

EVIDENCE_FLASH = "evidence"
# Every page that lists a case's files (tracking, portal, console) labels them the same way.
bp.add_app_template_global(TOURIST_KIND_LABELS, "evidence_kind_labels")


def _case_or_not_found(tracking_key: str) -> Case:
    case = case_for_tracking_key(tracking_key)
    if case is None:
        # A mistyped or truncated link: say so in the tourist's language and lead to
        # "find my complaint" rather than a bare 404.
        abort(make_response(render_template("tracking_not_found.html"), 404))
    return case


@bp.get("/t/<tracking_key>")
def track(tracking_key: str):
    return render_tracking(_case_or_not_found(tracking_key), tracking_key)


def render_tracking(
    case: Case, tracking_key: str, *, status: int = 200, context=None, **evidence_form
):
    """The tracking page; `context` adds what another feature's form needs shown again
    (its typed values and errors) when it answers 422 on this page."""
    return render_template(
        "tracking.html",
        view=tracking_view(case),
        just_filed=request.args.get("new") == "1",
        tracking_url=current_app.config["PUBLIC_BASE_URL"]
        + url_for("cases.track", tracking_key=tracking_key),
        can_add_evidence=can_add_evidence(case),
        retention_days=current_retention().ended_case_days,
        kind_labels=TOURIST_KIND_LABELS,
        evidence_errors=evidence_form.get("errors", []),
        evidence_kind=evidence_form.get("kind", EvidenceKind.PHOTO.value),
        evidence_note=evidence_form.get("note", ""),
        **(context or {}),
    ), status


@bp.post("/t/<tracking_key>/evidence")
def add_tracking_evidence(tracking_key: str):
    case = _case_or_not_found(tracking_key)
    note = request.form.get("note", "")
    kind_value = request.form.get("kind", "")
    try:
        if kind_value not in {kind.value for kind in TOURIST_KIND_LABELS}:
            raise EvidenceRejected(_("Choose what kind of file this is."))
        items = add_evidence(
            case,
            request.files.getlist("files"),
            kind=EvidenceKind(kind_value),
            note=note,
            upload_dir=current_app.config["UPLOAD_DIR"],
            max_bytes=current_app.config["EVIDENCE_MAX_FILE_BYTES"],
            now=utcnow(),
        )
        db.session.commit()
    except EvidenceRejected as exc:
        db.session.rollback()
        return render_tracking(
            case, tracking_key, status=422, errors=[str(exc)], kind=kind_value, note=note
        )
    flash(
        ngettext(
            "%(num)d file added to your complaint.",
            "%(num)d files added to your complaint.",
            len(items),
        ),
        EVIDENCE_FLASH,
    )
    return redirect(url_for("cases.track", tracking_key=tracking_key) + "#evidence", code=303)


@bp.get("/t/<tracking_key>/evidence/<int:evidence_id>")
def tracking_evidence_file(tracking_key: str, evidence_id: int):
    case = _case_or_not_found(tracking_key)
    item = db.session.get(Evidence, evidence_id)
    if item is None or item.case_id != case.id:
        abort(404)
    return send_evidence_file(item.stored_name, item.content_type)
