"""Outlets and their printed codes: scan URLs, token checks, rotation, merchant search."""

from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from sqlalchemy import or_, select

from complaints import lookups
from complaints.extensions import db
from complaints.merchants.models import Enterprise, Outlet, OutletCodeRotation
from complaints.merchants.tokens import BadOutletToken, OutletTokenSigner
from complaints.merchants.uscc import normalise_uscc


def _signer() -> OutletTokenSigner:
    return OutletTokenSigner(current_app.config["QR_SIGNING_KEY"])


def scan_token(outlet: Outlet) -> str:
    return _signer().sign(outlet.code, outlet.qr_key_version)


def scan_url(outlet: Outlet) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/s/{scan_token(outlet)}"


class ScanStatus(StrEnum):
    VALID = "valid"
    REPLACED = "replaced"
    INVALID = "invalid"


@dataclass(frozen=True)
class ScanResult:
    status: ScanStatus
    outlet: Outlet | None = None


# Process-local: tokens whose signature was checked, so a repeated scan skips the HMAC.
_checked_tokens: dict[str, tuple[str, str]] = {}


def outlet_code_of(token: str) -> str | None:
    """The outlet code a genuine token names (signature checked, no database)."""
    key = current_app.config["QR_SIGNING_KEY"]
    known = _checked_tokens.get(token)
    if known is not None and known[0] == key:
        return known[1]
    try:
        code = _signer().unsign(token)[0]
    except BadOutletToken:
        return None
    if len(_checked_tokens) >= 50_000:
        _checked_tokens.clear()
    _checked_tokens[token] = (key, code)
    return code


def resolve_scan_token(token: str) -> ScanResult:
    try:
        code, version = _signer().unsign(token)
    except BadOutletToken:
        return ScanResult(ScanStatus.INVALID)
    outlet = lookups.outlet_by_code(code)
    if outlet is None or version > outlet.qr_key_version:
        return ScanResult(ScanStatus.INVALID)
    if version < outlet.qr_key_version:
        # The outlet is returned so the page can say whose code it was, never to file against.
        return ScanResult(ScanStatus.REPLACED, outlet)
    return ScanResult(ScanStatus.VALID, outlet)


def rotate_outlet_code(outlet: Outlet, *, actor: str, reason: str) -> OutletCodeRotation:
    rotation = OutletCodeRotation(
        outlet_id=outlet.id,
        old_version=outlet.qr_key_version,
        new_version=outlet.qr_key_version + 1,
        actor=actor,
        reason=reason,
    )
    outlet.qr_key_version += 1
    db.session.add(rotation)
    db.session.flush()
    return rotation


def search_enterprises(query: str, limit: int = 20) -> list[Enterprise]:
    text = query.strip()
    code = normalise_uscc(text)
    pattern = f"%{text}%"
    statement = (
        select(Enterprise)
        .where(
            or_(
                Enterprise.uscc == code,
                Enterprise.name_zh.ilike(pattern),
                Enterprise.name_en.ilike(pattern),
                Enterprise.id.in_(
                    select(Outlet.enterprise_id).where(
                        or_(Outlet.name_zh.ilike(pattern), Outlet.name_en.ilike(pattern))
                    )
                ),
            )
        )
        .order_by(Enterprise.name_zh)
        .limit(limit)
    )
    return list(db.session.scalars(statement))


def enterprise_by_uscc(uscc: str) -> Enterprise | None:
    return db.session.scalar(select(Enterprise).where(Enterprise.uscc == normalise_uscc(uscc)))


def outlet_by_code(code: str) -> Outlet | None:
    return db.session.scalar(select(Outlet).where(Outlet.code == code))
