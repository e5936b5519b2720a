"""Recording events, fanning them out to endpoints, and managing endpoints. Flush only, except
the jobs (fan_out, deliver_endpoint), which commit per step like every outbox job."""

import json
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import false, insert, or_, select, update

from complaints.extensions import db
from complaints.hooks_out import signing
from complaints.hooks_out.models import (
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from complaints.outbox.services import add_outbox_message

FAN_OUT_JOB = "complaints.hooks_out.services.fan_out"
DELIVER_JOB = "complaints.hooks_out.delivery.deliver_endpoint"
ROTATION_OVERLAP = timedelta(hours=24)

EVENT_TYPES = (
    "case.filed",
    "case.routed",
    "case.state_changed",
    "case.offer_made",
    "case.message_posted",
    "compensation.approved",
    "compensation.paid",
    "compensation.recovery_overdue",
    "merchant.grade_changed",
    "merchant.serious_list_entered",
    "merchant.serious_list_left",
)


class EndpointError(ValueError):
    """The endpoint cannot be saved as asked; `field` names the input at fault."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(message))
        self.field, self.message = field, message


def record_event(
    event_type: str,
    data: dict,
    *,
    ordering_key: str,
    now: datetime,
    agency_id: int | None = None,
    enterprise_id: int | None = None,
    public: bool = False,
) -> WebhookEvent | None:
    """One row and one outbox message in the caller's transaction: filing pays no more.

    Nothing at all when no active endpoint could receive it: subscriptions start when made.
    """
    if not _anyone_listening(agency_id, enterprise_id, public):
        return None
    msg_id = "msg_" + secrets.token_urlsafe(18)
    body = json.dumps(
        {"type": event_type, "timestamp": now.isoformat(), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    event = WebhookEvent(
        msg_id=msg_id,
        type=event_type,
        ordering_key=ordering_key[:64],
        agency_id=agency_id,
        enterprise_id=enterprise_id,
        public=public,
        body=body,
        created_at=now,
    )
    db.session.add(event)
    db.session.flush()
    add_outbox_message(FAN_OUT_JOB, event.id)
    return event


def _owners(agency_id, enterprise_id, public) -> list:
    owners = [WebhookEndpoint.agency_id == agency_id] if agency_id else []
    if enterprise_id:
        owners.append(WebhookEndpoint.enterprise_id == enterprise_id)
    if public:
        owners += [
            WebhookEndpoint.agency_id.is_not(None),
            WebhookEndpoint.partner_key_id.is_not(None),
        ]
    return owners


def _anyone_listening(agency_id, enterprise_id, public) -> bool:
    owners = _owners(agency_id, enterprise_id, public)
    if not owners:
        return False
    return (
        db.session.scalar(
            select(WebhookEndpoint.id)
            .where(WebhookEndpoint.active.is_(True), or_(*owners))
            .limit(1)
        )
        is not None
    )


def entitled_endpoints(event: WebhookEvent):
    """Active endpoints whose owner may see this event (tenant rule in one place)."""
    owners = [WebhookEndpoint.agency_id == event.agency_id] if event.agency_id else []
    if event.enterprise_id:
        owners.append(WebhookEndpoint.enterprise_id == event.enterprise_id)
    if event.public:
        owners += [
            WebhookEndpoint.agency_id.is_not(None),
            WebhookEndpoint.partner_key_id.is_not(None),
        ]
    if not owners:
        return []
    endpoints = db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True), or_(*owners))
    )
    return [e for e in endpoints if e.wants(event.type)]


def fan_out(event_id: int) -> int:
    """The outbox job: one delivery per entitled endpoint, then a delivery job per endpoint."""
    event = db.session.get(WebhookEvent, event_id)
    if event is None:
        return 0
    endpoints = entitled_endpoints(event)
    existing = set(
        db.session.scalars(
            select(WebhookDelivery.endpoint_id).where(WebhookDelivery.event_id == event.id)
        )
    )
    rows = [
        {
            "endpoint_id": endpoint.id,
            "event_id": event.id,
            "ordering_key": event.ordering_key,
            "state": DeliveryState.PENDING,
            "attempts": 0,
            "next_attempt_at": event.created_at,
            "created_at": event.created_at,
            "last_error": "",
        }
        for endpoint in endpoints
        if endpoint.id not in existing
    ]
    if rows:
        db.session.execute(insert(WebhookDelivery), rows)
        queue_delivery_jobs([row["endpoint_id"] for row in rows])
    db.session.commit()
    return len(rows)


def queue_delivery_jobs(endpoint_ids: list[int]) -> None:
    """One delivery job per endpoint that has none waiting (compare-and-set on the flag)."""
    newly_queued = db.session.scalars(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id.in_(endpoint_ids), WebhookEndpoint.delivery_queued.is_(False))
        .values(delivery_queued=True)
        .returning(WebhookEndpoint.id)
        .execution_options(synchronize_session=False)
    ).all()
    for endpoint_id in newly_queued:
        add_outbox_message(DELIVER_JOB, endpoint_id)


def queue_due_deliveries(now: datetime) -> int:
    """The tick: a delivery job for every endpoint with a retry now due."""
    endpoint_ids = db.session.scalars(
        select(WebhookDelivery.endpoint_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.active.is_(True),
        )
        .distinct()
    ).all()
    for endpoint_id in endpoint_ids:
        add_outbox_message(DELIVER_JOB, endpoint_id, now.isoformat())
    db.session.commit()
    return len(endpoint_ids)


# --- endpoints --------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """https in production, and never an address inside our own network there (a receiver
    URL must not become a way to make the platform call its own services)."""
    from flask_babel import lazy_gettext as _l

    url = (url or "").strip()
    parts = urlsplit(url)
    production = current_app.config["ANXIN_ENV"] == "production"
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname or len(url) > 500:
        raise EndpointError("url", _l("Give a full https:// address of at most 500 characters."))
    if production and _internal(parts.hostname):
        raise EndpointError("url", _l("This address is inside a private network."))
    return url


def _internal(host: str) -> bool:
    import ipaddress

    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def check_types(types) -> str:
    chosen = sorted(set(types or ()))
    unknown = [t for t in chosen if t != "*" and t not in EVENT_TYPES]
    if not chosen or unknown:
        from flask_babel import lazy_gettext as _l

        raise EndpointError("event_types", _l("Choose one or more of the listed event types."))
    return " ".join(chosen)


def create_endpoint(
    *,
    url: str,
    event_types,
    agency_id: int | None = None,
    enterprise_id: int | None = None,
    partner_key_id: int | None = None,
    owner_email: str | None = None,
    description: str = "",
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        url=check_url(url),
        event_types=check_types(event_types),
        agency_id=agency_id,
        enterprise_id=enterprise_id,
        partner_key_id=partner_key_id,
        owner_email=(owner_email or "").strip() or None,
        description=(description or "")[:255],
        secret=signing.new_secret(),
        active=True,
    )
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def secrets_in_use(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    in_use = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until
        and (endpoint.previous_secret_until > now)
    ):
        in_use.append(endpoint.previous_secret)
    return in_use


def rotate_secret(endpoint: WebhookEndpoint, now: datetime) -> str:
    """A new secret; the old one keeps signing too for ROTATION_OVERLAP, so receivers can
    switch without losing a delivery."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + ROTATION_OVERLAP
    endpoint.secret = signing.new_secret()
    db.session.flush()
    return endpoint.secret


def enable(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Back on: what waited is sent now, in order."""
    endpoint.active, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
    db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.state == DeliveryState.PENDING,
        )
        .values(next_attempt_at=now)
    )
    add_outbox_message(DELIVER_JOB, endpoint.id)
    db.session.flush()


def disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    endpoint.active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason
    db.session.flush()


def replay(delivery: WebhookDelivery, now: datetime) -> None:
    """Send a delivery again (failed or already delivered), keeping its webhook-id so the
    receiver can tell a replay from a new event."""
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = now
    delivery.last_error = ""
    add_outbox_message(DELIVER_JOB, delivery.endpoint_id)
    db.session.flush()


def endpoints_of(*, agency_id=None, enterprise_id=None, partner_key_id=None):
    stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if agency_id is not None:
        stmt = stmt.where(WebhookEndpoint.agency_id == agency_id)
    elif enterprise_id is not None:
        stmt = stmt.where(WebhookEndpoint.enterprise_id == enterprise_id)
    elif partner_key_id is not None:
        stmt = stmt.where(WebhookEndpoint.partner_key_id == partner_key_id)
    else:
        stmt = stmt.where(false())
    return list(db.session.scalars(stmt))


def recent_deliveries(endpoint: WebhookEndpoint, limit: int = 50):
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
