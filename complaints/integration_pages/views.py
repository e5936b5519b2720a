"""/console/integrations (agency admins) and /merchant/integrations (merchant owners).

Each blueprint has one gate; every key, endpoint and delivery is looked up through the
owner's own lists, so an id of another agency or merchant answers 404.
"""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from complaints.accounts.models import AccountRole
from complaints.apikeys import services as keys
from complaints.apikeys.models import ApiKey, Scope
from complaints.database import utcnow
from complaints.extensions import db
from complaints.hooks_out import services as hooks
from complaints.hooks_out.models import WebhookDelivery, WebhookEndpoint
from complaints.integration_pages.forms import ActionForm, ApiKeyForm, EndpointForm
from complaints.outbox.services import after_commit

console_bp = Blueprint("integrations_console", __name__, url_prefix="/console/integrations")
merchant_bp = Blueprint("integrations_merchant", __name__, url_prefix="/merchant/integrations")


@console_bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role is not AccountRole.ADMIN or current_user.agency_id is None:
        abort(403)
    return None


@merchant_bp.before_request
def _owners_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role is not AccountRole.MERCHANT_OWNER or current_user.enterprise_id is None:
        abort(403)
    return None


def _is_console() -> bool:
    return current_user.enterprise_id is None


def _bp_name() -> str:
    return "integrations_console" if _is_console() else "integrations_merchant"


def _owned_keys() -> list[ApiKey]:
    if _is_console():
        own = keys.keys_of(agency_id=current_user.agency_id)
        return own + keys.keys_of()  # partner keys are issued by the provincial admins
    return keys.keys_of(enterprise_id=current_user.enterprise_id)


def _owned_endpoints() -> list[WebhookEndpoint]:
    if _is_console():
        return hooks.endpoints_of(agency_id=current_user.agency_id)
    return hooks.endpoints_of(enterprise_id=current_user.enterprise_id)


def _key_or_404(key_id: int) -> ApiKey:
    for key in _owned_keys():
        if key.id == key_id:
            return key
    abort(404)


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    for endpoint in _owned_endpoints():
        if endpoint.id == endpoint_id:
            return endpoint
    abort(404)


def _key_form(formdata=None) -> ApiKeyForm:
    form = ApiKeyForm() if formdata is None else ApiKeyForm(formdata=formdata)
    allowed = [s.value for s in Scope] if _is_console() else sorted(keys.MERCHANT_SCOPES)
    form.scopes.choices = [SelectChoice(s, s) for s in allowed]
    return form


def _page(key_form=None, endpoint_form=None, new_key=None, new_secret=None, status=200):
    endpoints = _owned_endpoints()
    return render_template(
        "integrations/page.html",
        bp=_bp_name(),
        is_console=_is_console(),
        api_keys=_owned_keys(),
        endpoints=endpoints,
        deliveries={e.id: hooks.recent_deliveries(e, 20) for e in endpoints},
        key_form=key_form or _key_form(),
        endpoint_form=endpoint_form or EndpointForm(formdata=None),
        action_form=ActionForm(),
        new_key=new_key,
        new_secret=new_secret,
        now=utcnow(),
    ), status


def page():
    return _page()


def create_key():
    form = _key_form()
    if not form.validate_on_submit():
        return _page(key_form=form, status=422)
    expires = (
        utcnow() + timedelta(days=form.expires_in_days.data) if form.expires_in_days.data else None
    )
    owner = {"partner": form.partner.data.strip()} if _is_console() and form.partner.data else {}
    if not owner:
        owner = (
            {"agency_slug": current_user.agency.slug}
            if _is_console()
            else {"uscc": current_user.enterprise.uscc, "owner": current_user}
        )
    try:
        _key, raw = keys.create_key(
            name=form.name.data,
            scopes=form.scopes.data,
            created_by=f"account:{current_user.id}",
            expires_at=expires,
            **owner,
        )
    except keys.ApiKeyError as exc:
        db.session.rollback()
        form.scopes.errors = [*form.scopes.errors, str(exc)]
        return _page(key_form=form, status=422)
    db.session.commit()
    return _page(new_key=raw, status=201)


def revoke_key(key_id: int):
    if ActionForm().validate_on_submit():
        keys.revoke(_key_or_404(key_id), utcnow())
        db.session.commit()
        flash(_("The key was revoked."), "success")
    return redirect(url_for(f"{_bp_name()}.page"), code=303)


def create_endpoint():
    form = EndpointForm()
    if not form.validate_on_submit():
        return _page(endpoint_form=form, status=422)
    owner = (
        {"agency_id": current_user.agency_id}
        if _is_console()
        else {"enterprise_id": current_user.enterprise_id}
    )
    try:
        endpoint = hooks.create_endpoint(
            url=form.url.data,
            event_types=form.event_types.data,
            owner_email=form.owner_email.data or current_user.email,
            **owner,
        )
    except hooks.EndpointError as exc:
        db.session.rollback()
        getattr(form, exc.field).errors = [str(exc.message)]
        return _page(endpoint_form=form, status=422)
    db.session.commit()
    return _page(new_secret=endpoint.secret, status=201)


def endpoint_action(endpoint_id: int, action: str):
    endpoint = _endpoint_or_404(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    now = utcnow()
    new_secret = None
    if action == "rotate":
        new_secret = hooks.rotate_secret(endpoint, now)
    elif action == "enable":
        hooks.enable(endpoint, now)
    elif action == "disable":
        hooks.disable(endpoint, _("disabled by its owner"), now)
    else:
        abort(404)
    db.session.commit()
    after_commit()
    if new_secret:
        return _page(new_secret=new_secret)
    flash(_("Saved."), "success")
    return redirect(url_for(f"{_bp_name()}.page"), code=303)


def replay_delivery(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    delivery = db.session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    )
    if delivery is None:
        abort(404)
    if ActionForm().validate_on_submit():
        hooks.replay(delivery, utcnow())
        db.session.commit()
        after_commit()
        flash(_("The event will be sent again."), "success")
    return redirect(url_for(f"{_bp_name()}.page"), code=303)


for _blueprint in (console_bp, merchant_bp):
    _blueprint.add_url_rule("/", view_func=page, methods=["GET"])
    _blueprint.add_url_rule("/keys", view_func=create_key, methods=["POST"])
    _blueprint.add_url_rule("/keys/<int:key_id>/revoke", view_func=revoke_key, methods=["POST"])
    _blueprint.add_url_rule("/endpoints", view_func=create_endpoint, methods=["POST"])
    _blueprint.add_url_rule(
        "/endpoints/<int:endpoint_id>/<action>", view_func=endpoint_action, methods=["POST"]
    )
    _blueprint.add_url_rule(
        "/endpoints/<int:endpoint_id>/deliveries/<int:delivery_id>/replay",
        view_func=replay_delivery,
        methods=["POST"],
    )
