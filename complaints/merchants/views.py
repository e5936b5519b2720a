"""Public merchant pages: what a tourist sees on scanning, finding a merchant, printed codes."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from complaints.accounts.permissions import may_print_outlet_codes
from complaints.analytics.scans import note_scan
from complaints.assets import asset_version, encoded_response
from complaints.credit.queries import public_standing
from complaints.database import utcnow
from complaints.merchants import scan_cache
from complaints.merchants.forms import MerchantSearchForm
from complaints.merchants.qrcodes import POSTER_SIZES, qr_png, qr_png_for_print, qr_svg
from complaints.merchants.services import (
    ScanStatus,
    enterprise_by_uscc,
    outlet_by_code,
    outlet_code_of,
    resolve_scan_token,
    scan_url,
    search_enterprises,
)

bp = Blueprint("merchants", __name__)


def complaint_record(enterprise_id: int, standing=None) -> dict:
    """The standing section of the merchant card: trust grade, list marks, last 12 months."""
    return (standing or public_standing(enterprise_id, utcnow())).as_record()


@bp.get("/")
def home():
    return render_template("home.html", form=MerchantSearchForm())


@bp.get("/s/<token>")
def scan(token: str):
    """The busiest page: every tourist at every counter. Its rendered HTML is shared until
    something it shows changes (scan_cache), never for signed-in staff, whose header carries
    their name."""
    cacheable = not current_user.is_authenticated and current_app.config["SCAN_CACHE_SECONDS"]
    now = utcnow()
    code = outlet_code_of(token) if cacheable else None
    page_key = f"scan:{asset_version()}:{get_locale()}:{request.full_path}"
    if code and (bodies := scan_cache.lookup(page_key, code, now)) is not None:
        note_scan(code, now)
        return encoded_response(bodies, "text/html")
    render = scan_cache.before_render(code) if code else None
    result = resolve_scan_token(token)
    if result.status is ScanStatus.INVALID:
        abort(404, description=_("This code is not one of ours, or it was damaged."))
    if result.status is ScanStatus.REPLACED:
        return render_template("scan_replaced.html", outlet=result.outlet), 410
    outlet = result.outlet
    if current_user.is_authenticated and current_user.role.is_inspector:
        # Code-based supervision: an inspector's scan opens the outlet's dossier.
        return redirect(url_for("supervision.outlet", code=outlet.code), code=303)
    if not current_user.is_authenticated:
        note_scan(outlet.code, now)
    standing = public_standing(outlet.enterprise_id, now)
    html = render_template(
        "scan.html",
        outlet=outlet,
        enterprise=outlet.enterprise,
        token=token,
        record=complaint_record(outlet.enterprise_id, standing),
    )
    if code:  # scan_cache tolerates a Redis outage: the page is then rendered, never refused
        bodies = scan_cache.keep(
            page_key, code, render, outlet.enterprise_id, standing.changes_at, html
        )
        return encoded_response(bodies, "text/html")
    return html


@bp.get("/find")
def find():
    form = MerchantSearchForm(request.args)
    results = search_enterprises(form.q.data) if request.args and form.validate() else []
    return render_template("search.html", form=form, results=results, searched=bool(request.args))


@bp.get("/m/<uscc>")
def enterprise_page(uscc: str):
    enterprise = enterprise_by_uscc(uscc) or abort(404)
    return render_template(
        "enterprise.html", enterprise=enterprise, record=complaint_record(enterprise.id)
    )


def _outlet_or_404(code: str):
    """The outlet, for its own staff and regulators only: anyone else signs in first, and a
    signed-in stranger gets the same 404 as for an outlet that does not exist."""
    if not current_user.is_authenticated:
        abort(current_app.login_manager.unauthorized())
    outlet = outlet_by_code(code)
    if outlet is None or not may_print_outlet_codes(current_user, outlet.enterprise_id):
        abort(404)
    return outlet


@bp.get("/outlets/<code>/qr.png")
def outlet_qr_png(code: str):
    return Response(qr_png(scan_url(_outlet_or_404(code))), mimetype="image/png")


@bp.get("/outlets/<code>/qr.svg")
def outlet_qr_svg(code: str):
    return Response(qr_svg(scan_url(_outlet_or_404(code))), mimetype="image/svg+xml")


@bp.get("/outlets/<code>/qr-print.png")
def outlet_qr_print_png(code: str):
    width_mm = request.args.get("mm", default=90, type=int)
    if not 20 <= width_mm <= 200:
        abort(400, description="mm must be between 20 and 200.")
    url = scan_url(_outlet_or_404(code))
    return Response(qr_png_for_print(url, width_mm=width_mm), mimetype="image/png")


@bp.get("/outlets/<code>/poster")
def outlet_poster(code: str):
    outlet = _outlet_or_404(code)
    size = request.args.get("size", "a5").lower()
    if size not in POSTER_SIZES:
        abort(400, description="size must be a4, a5 or a6.")
    width, height, code_mm = POSTER_SIZES[size]
    return render_template(
        "poster.html",
        outlet=outlet,
        enterprise=outlet.enterprise,
        url=scan_url(outlet),
        size=size,
        page_width=width,
        page_height=height,
        code_mm=code_mm,
    )
