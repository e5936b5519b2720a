"""The tourist's requests on the tracking page: see the personal data we hold, erase it."""

import json

from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_babel import lazy_gettext as _l

from complaints.cases.services import case_for_tracking_key
from complaints.database import utcnow
from complaints.extensions import db
from complaints.privacy import services

bp = Blueprint("privacy", __name__)
FLASH_CATEGORY = "privacy"

ERASE_REFUSALS = {
    "open": _l(
        "While your complaint is being handled the regulator needs your name and number "
        "(real-name complaints, SAMR Order 121). You can ask again once it has ended."
    ),
    "claim": _l(
        "Your compensation claim is not settled yet; the fund needs your details to pay you. "
        "You can ask again once it is settled."
    ),
}


@bp.get("/t/<tracking_key>/my-data")
def my_data(tracking_key: str):
    case = case_for_tracking_key(tracking_key) or abort(404)
    body = json.dumps(services.personal_data_of(case), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{case.number}.json"'},
    )


@bp.post("/t/<tracking_key>/erase")
def erase(tracking_key: str):
    case = case_for_tracking_key(tracking_key) or abort(404)
    refusal = services.may_erase(case)
    if refusal is not None:
        flash(str(ERASE_REFUSALS[refusal]), FLASH_CATEGORY)
    else:
        services.erase_on_request(case, utcnow())
        db.session.commit()
        flash(
            str(_l("Your name, number, photos and messages were removed from this case.")),
            FLASH_CATEGORY,
        )
    return redirect(url_for("cases.track", tracking_key=tracking_key) + "#your-data", code=303)
