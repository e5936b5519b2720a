"""Idempotency-Key on every POST (Stripe's rules): the same key with the same request gets the
first response again; the same key with a different request is refused with 422; a request
still running under the key gets 409. Keys are per API key and kept for a day."""

import hashlib
from datetime import timedelta

from flask import Response, g, request
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from complaints.api.auth import current_principal
from complaints.api.problems import problem
from complaints.apikeys.models import IdempotentResponse
from complaints.database import utcnow
from complaints.extensions import db

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
IN_PROGRESS = 0


def _request_hash() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode(), request.mimetype):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def claim_idempotency_key():
    """before_request: replay, refuse, or reserve the key for this request."""
    if request.method != "POST" or "api_principal" not in g:
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255:
        return problem(
            400,
            _("Bad Request"),
            _("Idempotency-Key must be 1 to 255 characters."),
            errors=[{"field": HEADER, "detail": _("Idempotency-Key must be 1 to 255 characters.")}],
        )
    principal = current_principal()
    fingerprint = _request_hash()
    _forget_old(principal.key_id)
    record = IdempotentResponse(
        api_key_id=principal.key_id,
        key=key,
        request_hash=fingerprint,
        status_code=IN_PROGRESS,
        content_type="",
        body="",
        created_at=utcnow(),
    )
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _answer_retry(principal.key_id, key, fingerprint)
    g.idempotency_record_id = record.id
    return None


def _forget_old(key_id: int) -> None:
    db.session.execute(
        delete(IdempotentResponse).where(
            IdempotentResponse.api_key_id == key_id,
            IdempotentResponse.created_at < utcnow() - KEEP_FOR,
        )
    )


def _answer_retry(key_id: int, key: str, fingerprint: str):
    record = db.session.scalar(
        select(IdempotentResponse).where(
            IdempotentResponse.api_key_id == key_id, IdempotentResponse.key == key
        )
    )
    if record is None:  # the first request failed and gave the key back meanwhile
        return problem(409, _("Conflict"), _("Retry this request."))
    if record.request_hash != fingerprint:
        return problem(
            422,
            _("Unprocessable Entity"),
            _("This Idempotency-Key was used for a different request."),
            errors=[{"field": HEADER, "detail": _("used for a different request")}],
            kind="idempotency-key-reused",
        )
    if record.status_code == IN_PROGRESS:
        return problem(
            409,
            _("Conflict"),
            _("A request with this Idempotency-Key is still being processed."),
        )
    response = Response(record.body, status=record.status_code, content_type=record.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def store_idempotent_response(response: Response) -> Response:
    """after_request: keep the answer for retries; a 5xx frees the key for another try."""
    record_id = g.pop("idempotency_record_id", None)
    if record_id is None:
        return response
    db.session.rollback()  # views commit their work; anything left is not theirs to keep
    if response.status_code >= 500:
        db.session.execute(delete(IdempotentResponse).where(IdempotentResponse.id == record_id))
    else:
        db.session.execute(
            update(IdempotentResponse)
            .where(IdempotentResponse.id == record_id)
            .values(
                status_code=response.status_code,
                content_type=response.content_type or "",
                body=response.get_data(as_text=True),
            )
        )
    db.session.commit()
    return response
