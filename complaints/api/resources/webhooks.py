"""/api/v1/webhook-endpoints: subscriptions of the key's owner, the delivery log and replay."""

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from complaints.api.auth import current_principal, requires
from complaints.api.schemas import (
    DeliveryListOut,
    DeliveryOut,
    EndpointIn,
    EndpointListOut,
    EndpointOut,
)
from complaints.apikeys.models import Scope
from complaints.database import utcnow
from complaints.extensions import db
from complaints.hooks_out import services as hooks
from complaints.hooks_out.models import WebhookDelivery, WebhookEndpoint
from complaints.outbox.services import after_commit

blp = Blueprint(
    "api_webhooks", __name__, url_prefix="/webhook-endpoints", description="Outbound webhooks"
)
MAX_ID = 2**31 - 1


def _owner() -> dict:
    principal = current_principal()
    if principal.agency_id:
        return {"agency_id": principal.agency_id}
    if principal.enterprise_id:
        return {"enterprise_id": principal.enterprise_id}
    return {"partner_key_id": principal.key_id}


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    if endpoint_id <= MAX_ID:
        for endpoint in hooks.endpoints_of(**_owner()):
            if endpoint.id == endpoint_id:
                return endpoint
    abort(404)


def endpoint_dict(endpoint: WebhookEndpoint, secret: str | None = None) -> dict:
    body = {
        "id": endpoint.id,
        "url": endpoint.url,
        "event_types": sorted(endpoint.type_set),
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
    }
    if secret:
        body["secret"] = secret
    return body


def delivery_dict(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.id,
        "webhook_id": delivery.event.msg_id,
        "type": delivery.event.type,
        "ordering_key": delivery.ordering_key,
        "state": str(delivery.state),
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at,
        "delivered_at": delivery.delivered_at,
    }


@blp.route("")
class Endpoints(MethodView):
    @requires(Scope.WEBHOOKS)
    @blp.response(200, EndpointListOut)
    def get(self):
        """The key owner's endpoints."""
        return {"data": [endpoint_dict(e) for e in hooks.endpoints_of(**_owner())]}

    @requires(Scope.WEBHOOKS)
    @blp.arguments(EndpointIn)
    @blp.response(201, EndpointOut)
    def post(self, data):
        """Subscribe; the answer carries the signing secret, once."""
        try:
            endpoint = hooks.create_endpoint(
                url=data["url"],
                event_types=data["event_types"],
                owner_email=data.get("owner_email"),
                description=data.get("description", ""),
                **_owner(),
            )
        except hooks.EndpointError as exc:
            db.session.rollback()
            abort(422, errors={"json": {exc.field: [str(exc.message)]}})
        db.session.commit()
        return endpoint_dict(endpoint, endpoint.secret)


@blp.route("/<int:endpoint_id>")
class EndpointItem(MethodView):
    @requires(Scope.WEBHOOKS)
    @blp.response(200, EndpointOut)
    def get(self, endpoint_id):
        """One endpoint."""
        return endpoint_dict(_endpoint_or_404(endpoint_id))


@blp.route("/<int:endpoint_id>/rotate-secret")
class EndpointRotation(MethodView):
    @requires(Scope.WEBHOOKS)
    @blp.response(201, EndpointOut)
    def post(self, endpoint_id):
        """A new secret; the old one keeps signing too for 24 hours."""
        endpoint = _endpoint_or_404(endpoint_id)
        secret = hooks.rotate_secret(endpoint, utcnow())
        db.session.commit()
        return endpoint_dict(endpoint, secret)


@blp.route("/<int:endpoint_id>/enable")
class EndpointEnable(MethodView):
    @requires(Scope.WEBHOOKS)
    @blp.response(201, EndpointOut)
    def post(self, endpoint_id):
        """Turn a disabled endpoint back on: waiting events go out, in order."""
        endpoint = _endpoint_or_404(endpoint_id)
        hooks.enable(endpoint, utcnow())
        db.session.commit()
        after_commit()
        return endpoint_dict(endpoint)


@blp.route("/<int:endpoint_id>/deliveries")
class EndpointDeliveries(MethodView):
    @requires(Scope.WEBHOOKS)
    @blp.response(200, DeliveryListOut)
    def get(self, endpoint_id):
        """The latest 100 deliveries, newest first."""
        endpoint = _endpoint_or_404(endpoint_id)
        return {"data": [delivery_dict(d) for d in hooks.recent_deliveries(endpoint, 100)]}


@blp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
class DeliveryReplay(MethodView):
    @requires(Scope.WEBHOOKS)
    @blp.response(201, DeliveryOut)
    def post(self, endpoint_id, delivery_id):
        """Send one delivery again, with its original webhook-id."""
        endpoint = _endpoint_or_404(endpoint_id)
        delivery = (
            db.session.scalar(
                select(WebhookDelivery).where(
                    WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
                )
            )
            if delivery_id <= MAX_ID
            else None
        )
        if delivery is None:
            abort(404)
        hooks.replay(delivery, utcnow())
        db.session.commit()
        after_commit()
        return delivery_dict(delivery)
